use maptask::prelude::*;

#[task]
fn scale(x: i64) -> i64 {
    x * 2
}

fn main() {
    let _ = map_task!(scale, timeout = "3 parsecs");
}
