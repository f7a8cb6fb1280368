//! The engine's sliding window and runtime-wide cap, pinned on live processes.

use std::time::Duration;

use maptask_core::MapSpec;
use maptask_runtime::{RunOptions, Runtime};

use crate::common::{serial, Setup};

#[tokio::test]
async fn the_window_holds_concurrency_children_and_a_retrying_element_keeps_its_slot() {
    let _serial = serial().await;
    let setup = Setup::new("window", Duration::from_secs(2));
    let script = setup.script(|index, attempt| match (index, attempt) {
        (0, 1) => vec!["sleep", "50", "fail", "recoverable", "again"],
        _ => vec!["sleep", "300", "ok", "x"],
    });
    let spec = MapSpec::new("window").concurrency(3).retries(1);
    let outcome = setup
        .array
        .run(&Runtime::default(), &spec, 7, script, RunOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.result.unwrap().len(), 7);
    let starts = setup.starts.lock().unwrap().clone();
    // Element 0's retry takes its own freed slot before element 3 gets one.
    assert_eq!(starts[..4], [(0, 1), (1, 1), (2, 1), (0, 2)]);
    let firsts: Vec<usize> = starts
        .iter()
        .filter(|&&(_, attempt)| attempt == 1)
        .map(|&(index, _)| index)
        .collect();
    assert_eq!(
        firsts,
        (0..7).collect::<Vec<_>>(),
        "first attempts start in index order"
    );
    let stats = setup.array.stats();
    assert_eq!(stats.peak, 3);
    assert_eq!(stats.started, 8);
    assert_eq!(stats.live, 0);
}

#[tokio::test]
async fn the_runtime_wide_cap_bounds_children_across_maps() {
    let _serial = serial().await;
    let setup = Setup::new("cap", Duration::from_secs(2));
    let runtime = Runtime::builder().max_in_flight(Some(2)).build();
    let spec_a = MapSpec::new("cap-a").concurrency(4);
    let spec_b = MapSpec::new("cap-b").concurrency(4);
    let plan = |_: usize, _: u32| vec!["sleep", "150", "ok", "x"];
    let (a, b) = tokio::join!(
        setup.array.run(
            &runtime,
            &spec_a,
            4,
            setup.script(plan),
            RunOptions::default()
        ),
        setup.array.run(
            &runtime,
            &spec_b,
            4,
            setup.script(plan),
            RunOptions::default()
        ),
    );
    assert_eq!(a.unwrap().result.unwrap().len(), 4);
    assert_eq!(b.unwrap().result.unwrap().len(), 4);
    let stats = setup.array.stats();
    assert_eq!(stats.peak, 2);
    assert_eq!(stats.started, 8);
}
