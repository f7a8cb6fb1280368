//! Where a fast map keeps its outputs: over its inputs when their layouts agree, without
//! `Option`s when every element must succeed, and every value dropped exactly once whatever
//! happened to the map.

use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maptask_core::{Criterion, MapError, MapSpec, Ratio, TaskError};
use maptask_runtime::{CancellationToken, ElementStatus, MapStatus, RunOptions};

use crate::common::runtime;
use crate::tracked::{assert_all_dropped, tracked, Tracked};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_inputs_layout_are_written_over_the_inputs() {
    let live = Arc::new(AtomicIsize::new(0));
    let n = 20_000;
    let inputs = tracked(n, &live);
    let at = inputs.as_ptr() as usize;
    let work = maptask_runtime::work::blocking(|t: Tracked| {
        let index = t.index;
        Ok::<_, TaskError>(Tracked::new(index * 2, &t.live))
    });
    let (result, report) = runtime()
        .run_map_all(&MapSpec::new("over"), inputs, work, RunOptions::new())
        .await;
    let outputs = result.unwrap();
    assert_eq!(outputs.as_ptr() as usize, at, "a new buffer was allocated");
    assert!(outputs.iter().enumerate().all(|(i, t)| t.index == 2 * i));
    assert_eq!(live.load(Ordering::SeqCst), n as isize);
    assert_eq!(report.status, MapStatus::Succeeded);
    assert_eq!(report.totals.succeeded, n);
    drop(outputs);
    assert_all_dropped(&live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_of_the_inputs_layout_are_written_over_the_inputs_too() {
    let live = Arc::new(AtomicIsize::new(0));
    let n = 3_000;
    let inputs = tracked(n, &live);
    let at = inputs.as_ptr() as usize;
    let work = maptask_runtime::work::blocking(|t: Tracked| {
        if t.index.is_multiple_of(3) {
            Err(TaskError::permanent_msg("thirds fail"))
        } else {
            Ok(t)
        }
    });
    let spec = MapSpec::new("over").criterion(Criterion::Ratio(Ratio::parse("0.5").unwrap()));
    let outcome = runtime()
        .run_map(&spec, inputs, work, RunOptions::new())
        .await;
    let outputs = outcome.result.unwrap();
    assert_eq!(outputs.as_ptr() as usize, at);
    for (i, output) in outputs.iter().enumerate() {
        assert_eq!(
            output.as_ref().map(|t| t.index),
            (!i.is_multiple_of(3)).then_some(i)
        );
    }
    assert_eq!(live.load(Ordering::SeqCst), (n - n.div_ceil(3)) as isize);
    assert_eq!(outcome.report.totals.failed, n.div_ceil(3));
    drop(outputs);
    assert_all_dropped(&live);
}

/// An element of a map that needs every output fails: the map stops, and the outputs already
/// written (by any thread, in chunks ending before or after the stop), the inputs never
/// taken and the failing element's input are each dropped once.
async fn one_failure_drops_everything_once<O: Send + 'static>(
    make: fn(Tracked) -> O,
    concurrency: usize,
) {
    let live = Arc::new(AtomicIsize::new(0));
    let n = 50_000;
    let failing = 20_000;
    let work = maptask_runtime::work::blocking(move |t: Tracked| {
        if t.index == failing {
            return Err(TaskError::permanent_msg("the one"));
        }
        Ok(make(t))
    });
    let spec = MapSpec::new("stops").concurrency(concurrency);
    let (result, report) = runtime()
        .run_map_all(&spec, tracked(n, &live), work, RunOptions::new())
        .await;
    match result {
        Err(MapError::TooManyFailures { failures, .. }) => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].index, failing);
        }
        other => panic!("expected the map to fail, got {:?}", other.map(|v| v.len())),
    }
    assert_eq!(report.status, MapStatus::Failed);
    assert_eq!(report.elements[failing].status, ElementStatus::Failed);
    assert_eq!(report.totals.failed, 1);
    assert_eq!(report.elements.len(), n);
    assert_all_dropped(&live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_drops_every_value_once_with_outputs_over_the_inputs() {
    one_failure_drops_everything_once(|t| t, 0).await;
    one_failure_drops_everything_once(|t| t, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_drops_every_value_once_with_outputs_apart() {
    // 24 bytes against 16: the outputs get their own buffer.
    one_failure_drops_everything_once(|t| (t, 1u8), 0).await;
    one_failure_drops_everything_once(|t| (t, 1u8), 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_dropped_map_drops_every_value_once() {
    let live = Arc::new(AtomicIsize::new(0));
    let slow = || {
        maptask_runtime::work::blocking(|t: Tracked| {
            std::thread::sleep(Duration::from_micros(200));
            Ok::<_, TaskError>(t)
        })
    };
    let rt = runtime();
    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        canceller.cancel();
    });
    let (result, report) = rt
        .run_map_all(
            &MapSpec::new("cancelled"),
            tracked(5_000, &live),
            slow(),
            RunOptions::new().cancel(token),
        )
        .await;
    assert!(matches!(result, Err(MapError::Cancelled { .. })));
    assert_eq!(report.status, MapStatus::Cancelled);
    assert!(report.totals.succeeded > 0 && report.totals.succeeded < 5_000);
    assert_all_dropped(&live);

    let dropped = tokio::time::timeout(
        Duration::from_millis(30),
        rt.run_map_all(
            &MapSpec::new("dropped"),
            tracked(5_000, &live),
            slow(),
            RunOptions::new(),
        ),
    )
    .await;
    assert!(dropped.is_err(), "the map should still be running");
    assert_all_dropped(&live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_criterion_that_tolerates_failures_still_needs_every_output() {
    let work = maptask_runtime::work::blocking(|i: u32| {
        if i == 3 {
            Err(TaskError::permanent_msg("three"))
        } else {
            Ok(i)
        }
    });
    let spec = MapSpec::new("tolerant").criterion(Criterion::MinSuccesses(4));
    let (result, report) = runtime()
        .run_map_all(&spec, (0..5).collect(), work, RunOptions::new())
        .await;
    // The map itself succeeded; the caller asked for every output and one is missing.
    assert_eq!(report.status, MapStatus::Succeeded);
    match result {
        Err(MapError::TooManyFailures { failures, .. }) => assert_eq!(failures[0].index, 3),
        other => panic!("expected a missing output, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_sized_values_need_no_buffer() {
    let (result, report) = runtime()
        .run_map_all(
            &MapSpec::new("units"),
            vec![(); 10_000],
            maptask_runtime::work::blocking(|()| Ok::<_, TaskError>(())),
            RunOptions::new(),
        )
        .await;
    assert_eq!(result.unwrap().len(), 10_000);
    assert_eq!(report.totals.succeeded, 10_000);
}
