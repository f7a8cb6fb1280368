//! Tasks defined in another crate, described and mapped here.
use maptask::prelude::*;

fn main() {
    assert_eq!(<external_tasks::double as Task>::NAME, "external_tasks::double");
    assert_eq!(<external_tasks::double as Task>::METADATA.retries, 3);
    assert_eq!(<external_tasks::repeat as Task>::NAME, "text.repeat");
    assert_eq!(<external_tasks::text::repeat as Task>::PARAMS, &["word", "times"]);
    assert_eq!(external_tasks::double(4), 8);
    let _doubles = map_task!(external_tasks::double, concurrency = 2);
    let _repeats = map_task!(external_tasks::repeat, times = 3);
}
