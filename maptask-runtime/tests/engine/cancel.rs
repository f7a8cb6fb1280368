//! Cancellation: dropping the map's future, cancelling its token. Nothing leaks.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maptask_core::{MapError, MapSpec, TaskError};
use maptask_runtime::{CancellationToken, ElementStatus, MapEvent, MapStatus, RunOptions, Runtime};

use crate::common::{runtime, scripted, scripted_blocking, Probe, Recorder, Step};
use crate::concurrency::wait_until;
use crate::tracked::{tracked, Tracked};

async fn settle(what: &str, counter: &AtomicUsize) {
    wait_until(what, || counter.load(Ordering::SeqCst) == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_future_stops_every_attempt_and_drops_every_input() {
    let n = 10;
    let probe = Probe::new(n);
    let inputs_live = Arc::new(AtomicIsize::new(0));
    let inputs = tracked(n, &inputs_live);
    let work = {
        let inner = Arc::new(scripted(&probe, vec![vec![Step::Hang]; n]));
        maptask_runtime::work::async_fn(move |t: Tracked| {
            use maptask_runtime::Work;
            let inner = Arc::clone(&inner);
            async move { inner.call(t.index).await }
        })
    };
    let spec = MapSpec::new("dropped").concurrency(4).retries(2);
    let rt = runtime();
    let handle =
        tokio::spawn(async move { rt.run_map(&spec, inputs, work, RunOptions::new()).await });
    let p = Arc::clone(&probe);
    wait_until("four started", move || {
        p.total_starts.load(Ordering::SeqCst) == 4
    })
    .await;
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    settle("attempts dropped", &probe.live).await;
    wait_until("inputs dropped", || inputs_live.load(Ordering::SeqCst) == 0).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(probe.total_starts.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_token_ends_the_map_promptly() {
    let n = 6;
    let probe = Probe::new(n);
    let recorder = Recorder::new();
    let mut scripts = vec![vec![Step::Hang]; n];
    scripts[0] = vec![Step::Ok(0)];
    let token = CancellationToken::new();
    let spec = MapSpec::new("stopped").concurrency(3);
    let canceller = {
        let token = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            token.cancel();
        })
    };
    let started = Instant::now();
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new().cancel(token).observer(recorder.clone()),
        )
        .await;
    canceller.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        outcome.result,
        Err(MapError::Cancelled {
            map: "stopped".into()
        })
    );
    let statuses: Vec<ElementStatus> = outcome.report.elements.iter().map(|e| e.status).collect();
    use ElementStatus::*;
    assert_eq!(
        statuses,
        vec![Succeeded, Cancelled, Cancelled, Cancelled, NotStarted, NotStarted]
    );
    assert_eq!(outcome.report.status, MapStatus::Cancelled);
    assert_eq!(outcome.report.totals.cancelled, 3);
    settle("attempts dropped", &probe.live).await;
    let cancelled: Vec<usize> = recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            MapEvent::Cancelled { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_blocking_map_starts_nothing_queued() {
    let n = 20;
    let probe = Probe::new(n);
    let inputs_live = Arc::new(AtomicIsize::new(0));
    let inputs = tracked(n, &inputs_live);
    let work = {
        let inner = scripted_blocking(&probe, vec![vec![Step::Ok(100)]; n]);
        maptask_runtime::work::blocking(move |t: Tracked| {
            use maptask_runtime::Work;
            inner.call_blocking(t.index)
        })
    };
    let rt = runtime();
    let spec = MapSpec::new("dropped");
    let map = rt.run_map(&spec, inputs, work, RunOptions::new());
    let _ = tokio::time::timeout(Duration::from_millis(30), map).await;
    // The two running attempts finish (they cannot be interrupted); nothing else starts.
    settle("running attempts end", &probe.live).await;
    wait_until("inputs dropped", || inputs_live.load(Ordering::SeqCst) == 0).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(probe.total_starts.load(Ordering::SeqCst) <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_map_gives_back_its_share_of_the_runtime_wide_cap() {
    let rt = Runtime::builder().max_in_flight(Some(2)).build();
    let probe = Probe::new(4);
    let spec = MapSpec::new("hog");
    let map = rt.run_map(
        &spec,
        vec![0, 1, 2, 3],
        scripted(&probe, vec![vec![Step::Hang]; 4]),
        RunOptions::new(),
    );
    let _ = tokio::time::timeout(Duration::from_millis(50), map).await;
    assert_eq!(probe.total_starts.load(Ordering::SeqCst), 2);
    let probe = Probe::new(4);
    let outcome = rt
        .run_map(
            &MapSpec::new("next"),
            vec![0, 1, 2, 3],
            scripted(&probe, vec![vec![Step::Ok(20)]; 4]),
            RunOptions::new(),
        )
        .await;
    assert!(outcome.result.is_ok());
    assert_eq!(probe.max_active.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn errors_in_work_are_never_confused_with_cancellation() {
    let work =
        maptask_runtime::work::async_fn(|_: u8| async { Err::<u8, _>(TaskError::cancelled()) });
    let outcome = runtime()
        .run_map(&MapSpec::new("m"), vec![1], work, RunOptions::new())
        .await;
    assert!(matches!(
        outcome.result,
        Err(MapError::TooManyFailures { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_token_stops_a_blocking_map_on_the_fast_path() {
    // No observer, no timeout: the fast path. Two threads, 20 elements of 100 ms.
    let n = 20;
    let probe = Probe::new(n);
    let inputs_live = Arc::new(AtomicIsize::new(0));
    let inputs = tracked(n, &inputs_live);
    let work = {
        let inner = scripted_blocking(&probe, vec![vec![Step::Ok(100)]; n]);
        maptask_runtime::work::blocking(move |t: Tracked| {
            use maptask_runtime::Work;
            inner.call_blocking(t.index)
        })
    };
    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        canceller.cancel();
    });
    let began = Instant::now();
    let outcome = runtime()
        .run_map(
            &MapSpec::new("stopped"),
            inputs,
            work,
            RunOptions::new().cancel(token),
        )
        .await;
    // Promptly: the running attempts are not waited for.
    assert!(
        began.elapsed() < Duration::from_millis(240),
        "{:?}",
        began.elapsed()
    );
    assert!(matches!(outcome.result, Err(MapError::Cancelled { .. })));
    let report = &outcome.report;
    assert_eq!(report.status, MapStatus::Cancelled);
    assert_eq!(report.elements.len(), n);
    let t = report.totals;
    assert_eq!(
        t.pending + t.running + t.succeeded + t.failed + t.cancelled,
        n
    );
    assert!(t.succeeded <= 2, "{t:?}");
    assert!(report
        .elements
        .iter()
        .skip(6)
        .all(|e| e.status == ElementStatus::NotStarted));
    settle("running attempts end", &probe.live).await;
    wait_until("inputs dropped", || inputs_live.load(Ordering::SeqCst) == 0).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Two elements per thread at most: the ones that ran before, and the ones running.
    assert!(probe.total_starts.load(Ordering::SeqCst) <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_dropped_before_its_first_poll_runs_nothing_and_drops_its_inputs() {
    // Futures are lazy: building a map's (or a task call's) future starts nothing, and
    // dropping it unpolled drops its inputs. Blocking work (the fast path), async work (the
    // general engine), a strict map, and a task call known to be quick (the inline path).
    let rt = runtime();
    let calls = Arc::new(AtomicUsize::new(0));
    let live = Arc::new(AtomicIsize::new(0));
    let counted = |calls: &Arc<AtomicUsize>| {
        let calls = Arc::clone(calls);
        maptask_runtime::work::blocking(move |t: Tracked| {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok::<_, TaskError>(t.index)
        })
    };
    let spec = MapSpec::new("lazy");
    drop(rt.run_map(
        &spec,
        tracked(100, &live),
        counted(&calls),
        RunOptions::new(),
    ));
    drop(rt.run_map_all(
        &spec,
        tracked(100, &live),
        counted(&calls),
        RunOptions::new(),
    ));
    let async_calls = Arc::clone(&calls);
    drop(rt.run_map(
        &spec,
        tracked(100, &live),
        maptask_runtime::work::async_fn(move |t: Tracked| {
            let calls = Arc::clone(&async_calls);
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<_, TaskError>(t.index)
            }
        }),
        RunOptions::new(),
    ));
    // A task call of work known to be quick runs inline, at the first poll: three calls make
    // it known, the fourth is dropped unpolled.
    static QUICK_CALLS: AtomicUsize = AtomicUsize::new(0);
    fn quick(x: usize) -> Result<usize, TaskError> {
        QUICK_CALLS.fetch_add(1, Ordering::SeqCst);
        Ok(x)
    }
    for x in 0..3 {
        let out = rt
            .run_task(
                "quick",
                0,
                None,
                x,
                maptask_runtime::work::blocking(quick),
                RunOptions::new(),
            )
            .await;
        assert_eq!(out.ok(), Some(x));
    }
    drop(rt.run_task(
        "quick",
        0,
        None,
        7,
        maptask_runtime::work::blocking(quick),
        RunOptions::new(),
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(QUICK_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(live.load(Ordering::SeqCst), 0);
}
