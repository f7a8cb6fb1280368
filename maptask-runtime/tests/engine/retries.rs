//! Retries per element, permanence, panics, timeouts, backoff, and input clones.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maptask_core::{Criterion, FailureKind, MapError, MapSpec, TaskError};
use maptask_runtime::{ElementStatus, MapEvent, RunOptions};

use crate::common::{runtime, scripted, Counted, Probe, Recorder, Step};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_element_gets_up_to_retries_plus_one_attempts_of_its_own() {
    let probe = Probe::new(3);
    let scripts = vec![
        vec![Step::Err(0), Step::Err(0), Step::Ok(0)],
        vec![Step::Err(0)],
        vec![Step::Ok(0)],
    ];
    let spec = MapSpec::new("r")
        .retries(2)
        .criterion(Criterion::MinSuccesses(1));
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0, 1, 2],
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), None, Some(20)]));
    assert_eq!(probe.attempts(), vec![3, 3, 1]);
    let report = &outcome.report;
    let attempts: Vec<u32> = report.elements.iter().map(|e| e.attempts).collect();
    assert_eq!(attempts, vec![3, 3, 1]);
    assert_eq!(report.elements[0].status, ElementStatus::Succeeded);
    assert_eq!(report.elements[1].status, ElementStatus::Failed);
    assert_eq!(
        report.errors_of(0),
        &[TaskError::msg("boom 0"), TaskError::msg("boom 0")]
    );
    assert_eq!(report.errors_of(1), &vec![TaskError::msg("boom 1"); 3][..]);
    assert_eq!(report.total_attempts(), 7);
    let failures = report.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].index, 1);
    assert_eq!(failures[0].attempts, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_and_panics_are_not_retried() {
    let probe = Probe::new(3);
    let scripts = vec![vec![Step::Permanent], vec![Step::Panic], vec![Step::Ok(0)]];
    let spec = MapSpec::new("p")
        .retries(3)
        .criterion(Criterion::MinSuccesses(1));
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0, 1, 2],
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    // The panic took down neither the run nor element 2.
    assert_eq!(outcome.result, Ok(vec![None, None, Some(20)]));
    assert_eq!(probe.attempts(), vec![1, 1, 1]);
    let panic = &outcome.report.errors_of(1)[0];
    assert_eq!(panic.kind(), FailureKind::Panic);
    assert_eq!(panic.message(), "panicked: exploded");
    assert!(panic.is_permanent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_attempt_is_cancelled_and_retried() {
    let probe = Probe::new(2);
    let recorder = Recorder::new();
    let scripts = vec![vec![Step::Hang], vec![Step::Hang, Step::Ok(0)]];
    let spec = MapSpec::new("t")
        .retries(1)
        .timeout(Some(Duration::from_millis(50)))
        .criterion(Criterion::MinSuccesses(1));
    let started = Instant::now();
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0, 1],
            scripted(&probe, scripts),
            RunOptions::new().observer(recorder.clone()),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(outcome.result, Ok(vec![None, Some(10)]));
    assert_eq!(probe.attempts(), vec![2, 2]);
    let timeout = TaskError::timeout(Duration::from_millis(50));
    assert_eq!(timeout.message(), "timed out after 50ms");
    assert_eq!(
        outcome.report.errors_of(0),
        &[timeout.clone(), timeout.clone()]
    );
    assert_eq!(outcome.report.errors_of(1), &[timeout]);
    assert_eq!(probe.live.load(Ordering::SeqCst), 0);
    let timed_out: Vec<(usize, u32, bool)> = recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            MapEvent::TimedOut {
                index,
                attempt,
                will_retry,
                ..
            } => Some((*index, *attempt, *will_retry)),
            _ => None,
        })
        .collect();
    let mut sorted = timed_out.clone();
    sorted.sort();
    assert_eq!(sorted, vec![(0, 1, true), (0, 2, false), (1, 1, true)]);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn backoff_doubles_after_each_failed_attempt() {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let origin = tokio::time::Instant::now();
    let work = {
        let starts = Arc::clone(&starts);
        maptask_runtime::work::async_fn(move |_: usize| {
            starts.lock().unwrap().push(origin.elapsed());
            async { Err::<usize, _>(TaskError::msg("again")) }
        })
    };
    let spec = MapSpec::new("b")
        .retries(3)
        .backoff(Some(Duration::from_millis(100)));
    let outcome = runtime()
        .run_map(&spec, vec![0], work, RunOptions::new())
        .await;
    assert!(matches!(
        outcome.result,
        Err(MapError::TooManyFailures { .. })
    ));
    let ms: Vec<u128> = starts
        .lock()
        .unwrap()
        .iter()
        .map(|d| d.as_millis())
        .collect();
    assert_eq!(ms, vec![0, 100, 300, 700]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_are_cloned_only_when_another_attempt_may_follow() {
    // Per element: how many attempts fail before one succeeds (3 = all fail, permanently).
    let plans: Vec<u32> = vec![0, 1, 2, 3];
    let clones: Vec<Arc<AtomicU32>> = plans.iter().map(|_| Arc::new(AtomicU32::new(0))).collect();
    let inputs: Vec<Counted> = clones
        .iter()
        .enumerate()
        .map(|(index, c)| Counted {
            index,
            clones: Arc::clone(c),
        })
        .collect();
    let seen: Arc<Vec<AtomicU32>> = Arc::new(plans.iter().map(|_| AtomicU32::new(0)).collect());
    let work = {
        let seen = Arc::clone(&seen);
        let plans = plans.clone();
        maptask_runtime::work::blocking(move |input: Counted| {
            let attempt = seen[input.index].fetch_add(1, Ordering::SeqCst) + 1;
            if attempt <= plans[input.index] {
                Err(TaskError::msg("again"))
            } else {
                Ok(input.index)
            }
        })
    };
    let spec = MapSpec::new("c")
        .retries(2)
        .criterion(Criterion::MinSuccesses(1));
    let outcome = runtime()
        .run_map(&spec, inputs, work, RunOptions::new())
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), Some(1), Some(2), None]));
    // Attempts 1 and 2 of 3 get clones; the last attempt gets the value itself.
    let counts: Vec<u32> = clones.iter().map(|c| c.load(Ordering::SeqCst)).collect();
    assert_eq!(counts, vec![1, 2, 2, 2]);

    // Without retries, nothing is ever cloned.
    let clones = Arc::new(AtomicU32::new(0));
    let inputs: Vec<Counted> = (0..10)
        .map(|index| Counted {
            index,
            clones: Arc::clone(&clones),
        })
        .collect();
    let work = maptask_runtime::work::blocking(|c: Counted| Ok::<_, TaskError>(c.index));
    let outcome = runtime()
        .run_map(&MapSpec::new("c"), inputs, work, RunOptions::new())
        .await;
    assert_eq!(outcome.result.map(|v| v.len()), Ok(10));
    assert_eq!(clones.load(Ordering::SeqCst), 0);
}
