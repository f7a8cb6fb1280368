//! Failing early: prompt cancellation, every failure reported, nothing started afterwards.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use maptask_core::{Criterion, ElementFailure, MapError, MapSpec, TaskError};
use maptask_runtime::{ElementStatus, MapEvent, MapStatus, RunOptions};

use crate::common::{runtime, scripted, scripted_blocking, Probe, Recorder, Step};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decisive_failure_cancels_sleeping_elements_promptly() {
    let n = 6;
    let probe = Probe::new(n);
    let mut scripts = vec![vec![Step::Hang]; n];
    scripts[2] = vec![Step::Err(50)];
    let spec = MapSpec::new("doomed");
    let started = Instant::now();
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    let elapsed = started.elapsed();
    // The failure comes at 50 ms; the others would sleep 10 s.
    assert!(elapsed < Duration::from_millis(1050), "took {elapsed:?}");
    assert_eq!(
        outcome.result,
        Err(MapError::TooManyFailures {
            map: "doomed".into(),
            n: 6,
            min_successes: 6,
            failures: vec![ElementFailure {
                index: 2,
                attempts: 1,
                errors: vec![TaskError::msg("boom 2")],
            }],
            summary: "[2]: boom 2".into(),
        })
    );
    let report = &outcome.report;
    assert_eq!(report.status, MapStatus::Failed);
    assert_eq!(report.totals.failed, 1);
    assert_eq!(report.totals.cancelled, 5);
    for (i, element) in report.elements.iter().enumerate() {
        let expected = if i == 2 {
            ElementStatus::Failed
        } else {
            ElementStatus::Cancelled
        };
        assert_eq!(element.status, expected, "element {i}");
    }
    // The cancelled attempts' futures are dropped, not left running.
    for _ in 0..100 {
        if probe.live.load(Ordering::SeqCst) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(probe.live.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_early_reports_every_failure_and_starts_nothing_more() {
    let n = 6;
    let probe = Probe::new(n);
    let recorder = Recorder::new();
    let scripts = vec![
        vec![Step::Permanent],
        vec![Step::Permanent],
        vec![Step::Permanent],
        vec![Step::Hang],
        vec![Step::Ok(0)],
        vec![Step::Ok(0)],
    ];
    // 6 − 3 failures < 4 needed: the third failure decides.
    let spec = MapSpec::new("m")
        .concurrency(2)
        .criterion(Criterion::MinSuccesses(4));
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new().observer(recorder.clone()),
        )
        .await;
    let fatal = |index| ElementFailure {
        index,
        attempts: 1,
        errors: vec![TaskError::permanent_msg("fatal")],
    };
    assert_eq!(
        outcome.result,
        Err(MapError::TooManyFailures {
            map: "m".into(),
            n: 6,
            min_successes: 4,
            failures: vec![fatal(0), fatal(1), fatal(2)],
            summary: "[0-2]: fatal".into(),
        })
    );
    let statuses: Vec<ElementStatus> = outcome.report.elements.iter().map(|e| e.status).collect();
    use ElementStatus::*;
    // Element 3 starts when the driver sees the first failures and refills the window before
    // element 2 fails; when the failures of 1 and 2 reach it in one drain (they fail at once), the
    // decision comes first and element 3 never starts. Either way nothing starts after it.
    assert!(
        statuses == [Failed, Failed, Failed, Cancelled, NotStarted, NotStarted]
            || statuses == [Failed, Failed, Failed, NotStarted, NotStarted, NotStarted],
        "{statuses:?}"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Element 3 was started (handed to tokio); it may be aborted before its body first runs.
    let mut started = probe.start_order();
    started.sort();
    assert!(
        started == [0, 1, 2, 3] || started == [0, 1, 2],
        "{started:?}"
    );

    // In the event stream, nothing starts after the decisive failure.
    let events = recorder.events();
    let decisive = events
        .iter()
        .position(|e| {
            matches!(
                e,
                MapEvent::Failed {
                    index: 2,
                    will_retry: false,
                    ..
                }
            )
        })
        .unwrap();
    assert!(events[decisive..]
        .iter()
        .all(|e| !matches!(e, MapEvent::Started { .. })));
    assert!(matches!(
        events.last(),
        Some(MapEvent::MapFinished {
            status: MapStatus::Failed,
            ..
        })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_groups_equal_messages_into_ranges() {
    let n = 5;
    let probe = Probe::new(n);
    let scripts = vec![
        vec![Step::Permanent],
        vec![Step::Permanent],
        vec![Step::Panic],
        vec![Step::Permanent],
        vec![Step::Panic],
    ];
    let spec = MapSpec::new("m").criterion(Criterion::MinSuccesses(1));
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    let Err(MapError::TooManyFailures {
        summary, failures, ..
    }) = &outcome.result
    else {
        panic!("expected a failure, got {:?}", outcome.result);
    };
    assert_eq!(summary, "[0-1][3]: fatal; [2][4]: panicked: exploded");
    assert_eq!(failures.len(), 5);
    assert_eq!(
        outcome.result.unwrap_err().to_string(),
        "map `m` failed: 5 of 5 elements failed, at least 1 had to succeed; \
         [0-1][3]: fatal; [2][4]: panicked: exploded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_maps_fail_early_too() {
    let n = 6;
    let probe = Probe::new(n);
    let mut scripts = vec![vec![Step::Hang]; n];
    scripts[0] = vec![Step::Err(30)];
    let spec = MapSpec::new("doomed");
    let started = Instant::now();
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted_blocking(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    assert!(started.elapsed() < Duration::from_millis(1000));
    let Err(MapError::TooManyFailures { summary, .. }) = outcome.result else {
        panic!("expected a failure");
    };
    assert_eq!(summary, "[0]: boom 0");
    // Two compute threads: element 0 and one hanging element ran; the queued ones never start.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(probe.total_starts.load(Ordering::SeqCst) <= 3);
}
