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
