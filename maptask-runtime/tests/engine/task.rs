//! Single task calls through the same attempt machinery.

use std::time::Duration;

use maptask_core::{ElementFailure, FailureKind, TaskError};
use maptask_runtime::{CancellationToken, RunOptions};

use crate::common::{runtime, scripted, scripted_blocking, Probe, Step};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_task_retries_times_out_and_catches_panics() {
    let rt = runtime();
    let probe = Probe::new(1);
    let work = scripted(&probe, vec![vec![Step::Err(0), Step::Ok(0)]]);
    assert_eq!(
        rt.run_task("t", 1, None, 0, work, RunOptions::new()).await,
        Ok(0)
    );
    assert_eq!(probe.attempts(), vec![2]);

    let probe = Probe::new(1);
    let work = scripted(&probe, vec![vec![Step::Err(0)]]);
    assert_eq!(
        rt.run_task("t", 2, None, 0, work, RunOptions::new()).await,
        Err(ElementFailure {
            index: 0,
            attempts: 3,
            errors: vec![TaskError::msg("boom 0"); 3],
        })
    );

    let probe = Probe::new(1);
    let work = scripted(&probe, vec![vec![Step::Hang]]);
    let failure = rt
        .run_task(
            "t",
            1,
            Some(Duration::from_millis(20)),
            0,
            work,
            RunOptions::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 2);
    assert!(failure
        .errors
        .iter()
        .all(|e| e.kind() == FailureKind::Timeout));

    let probe = Probe::new(1);
    let work = scripted_blocking(&probe, vec![vec![Step::Panic]]);
    let failure = rt
        .run_task("t", 5, None, 0, work, RunOptions::new())
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 1);
    assert_eq!(failure.errors[0].kind(), FailureKind::Panic);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_task_ends_with_a_cancelled_error() {
    let probe = Probe::new(1);
    let token = CancellationToken::new();
    token.cancel();
    let work = scripted(&probe, vec![vec![Step::Hang]]);
    let failure = runtime()
        .run_task("t", 0, None, 0, work, RunOptions::new().cancel(token))
        .await
        .unwrap_err();
    assert_eq!(
        failure.errors.last().map(|e| e.kind()),
        Some(FailureKind::Cancelled)
    );
}

/// Runs `work` once through `run_task` and returns the name of the thread it ran on.
async fn thread_of<W>(rt: &maptask_runtime::Runtime, work: W) -> String
where
    W: maptask_runtime::Work<u64, Output = String>,
{
    rt.run_task("where", 0, None, 0, work, RunOptions::new())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_blocking_calls_run_inline_once_known_and_slow_ones_go_back_to_the_pool() {
    let rt = runtime();
    let here = || std::thread::current().name().unwrap_or("").to_owned();
    // Each closure is a kind of work of its own.
    let quick = maptask_runtime::work::blocking(move |_: u64| Ok::<_, TaskError>(here()));
    let first = thread_of(&rt, quick).await;
    assert!(first.starts_with("maptask-compute-"), "{first}");
    // (A call descheduled on a busy machine may look slow: a few may still go to the pool.)
    let mut inline = 0;
    for _ in 0..5 {
        if !thread_of(&rt, quick).await.starts_with("maptask-compute-") {
            inline += 1;
        }
    }
    assert!(inline >= 3, "{inline} of 5 calls ran inline");

    // Quick, then slow (inline) three times, then back on the pool for good.
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&calls);
    let sometimes_slow = maptask_runtime::work::blocking(move |_: u64| {
        if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) >= 1 {
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok::<_, TaskError>(here())
    });
    let mut threads = Vec::new();
    for _ in 0..8 {
        threads.push(thread_of(&rt, sometimes_slow.clone()).await);
    }
    let on_pool: Vec<bool> = threads
        .iter()
        .map(|t| t.starts_with("maptask-compute-"))
        .collect();
    // The first call runs on the pool; at most three slow calls run inline; then the pool only.
    assert!(on_pool[0], "{threads:?}");
    assert!(on_pool.iter().filter(|p| !**p).count() <= 3, "{threads:?}");
    assert!(on_pool[4..].iter().all(|p| *p), "{threads:?}");

    // Inline calls keep the attempt machinery: retries, and panics caught.
    let tries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&tries);
    let flaky = maptask_runtime::work::blocking(move |x: u64| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        match (x, n % 2) {
            (2, _) => panic!("exploded"),
            (_, 0) => Err(TaskError::msg("odd try")),
            _ => Ok(x),
        }
    });
    for x in [0, 1] {
        assert_eq!(
            rt.run_task("flaky", 1, None, x, flaky.clone(), RunOptions::new())
                .await,
            Ok(x)
        );
    }
    let failure = rt
        .run_task("flaky", 1, None, 2, flaky, RunOptions::new())
        .await
        .unwrap_err();
    assert_eq!(failure.attempts, 1);
    assert_eq!(failure.errors[0].kind(), FailureKind::Panic);
}
