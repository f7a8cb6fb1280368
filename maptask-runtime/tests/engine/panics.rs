//! An element's panic is reported once through tracing, with the map and the index, and in
//! the report. (That it skips the panic hook is tested in `tests/quiet_panics.rs`.)

use maptask_core::{Criterion, FailureKind, MapSpec, Ratio, TaskError};
use maptask_runtime::{RunOptions, Runtime};

use crate::common::Warnings;

// A current-thread runtime and async work: the element runs on this thread, where the
// subscriber is set.
#[tokio::test]
async fn an_element_panic_is_reported_once_with_its_map_and_index() {
    let warnings = Warnings::default();
    let _guard = tracing::subscriber::set_default(warnings.clone());
    let work = maptask_runtime::work::async_fn(|i: usize| async move {
        if i == 2 {
            panic!("exploded");
        }
        Ok::<_, TaskError>(i)
    });
    let spec = MapSpec::new("loud").criterion(Criterion::Ratio(Ratio::parse("0.5").unwrap()));
    let outcome = Runtime::builder()
        .build()
        .run_map(&spec, vec![0, 1, 2, 3], work, RunOptions::new())
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), Some(1), None, Some(3)]));
    let errors = outcome.report.errors_of(2);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), FailureKind::Panic);
    assert_eq!(errors[0].message(), "panicked: exploded");
    let warned = warnings.0.lock().unwrap().clone();
    assert_eq!(warned.len(), 1, "{warned:?}");
    let line = &warned[0];
    assert!(line.contains("map=\"loud\""), "{line}");
    assert!(line.contains("index=2"), "{line}");
    assert!(line.contains("attempt=1"), "{line}");
    assert!(line.contains("panicked: exploded"), "{line}");
    assert!(
        line.contains("panics.rs:"),
        "the location is missing: {line}"
    );
}
