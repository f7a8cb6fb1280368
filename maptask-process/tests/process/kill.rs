//! Children killed from outside, by a timeout, by a failing map, and by a cancelled run.

use std::time::{Duration, Instant};

use maptask_core::{Criterion, FailureKind, MapError, MapSpec};
use maptask_runtime::{CancellationToken, RunOptions, Runtime};

use crate::common::{serial, DeathWatch, Setup};

#[tokio::test]
async fn a_child_killed_from_outside_is_retried_and_the_run_succeeds() {
    let _serial = serial().await;
    let setup = Setup::new("sigkill", Duration::from_secs(2));
    let script = setup.script(|index, attempt| match (index, attempt) {
        (1, 1) => vec!["pid", "sleep", "10000", "ok", "late"],
        _ => vec!["ok", "fine"],
    });
    let spec = MapSpec::new("sigkill").retries(1);
    let runtime = Runtime::default();
    let array = setup.array.clone();
    let run = tokio::spawn(async move {
        array
            .run(&runtime, &spec, 3, script, RunOptions::default())
            .await
            .unwrap()
    });
    let pid = setup.wait_pid(1, 1).await;
    // SAFETY: `kill` has no memory-safety preconditions; the pid is our own child's.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let outcome = run.await.unwrap();
    assert_eq!(
        outcome.result.unwrap(),
        vec![
            Some("fine".to_owned()),
            Some("fine".to_owned()),
            Some("fine".to_owned())
        ]
    );
    assert_eq!(outcome.report.elements[1].attempts, 2);
    let errors = outcome.report.errors_of(1);
    assert_eq!(errors.len(), 1);
    let message = errors[0].message();
    assert!(
        message.starts_with(&format!(
            "the child process (pid {pid}) was killed by SIGKILL (signal 9) from outside the \
             supervisor before it wrote a result; a retryable system failure"
        )),
        "{message}"
    );
    assert!(!errors[0].is_permanent());
    assert!(setup
        .children_after(Duration::from_secs(2))
        .await
        .is_empty());
}

#[tokio::test]
async fn a_timed_out_child_is_killed_within_100ms_of_its_deadline_and_retried() {
    let _serial = serial().await;
    let setup = Setup::new("timeout", Duration::from_secs(2));
    let script = setup.script(|_, attempt| match attempt {
        1 => vec!["pid", "sleep", "10000", "ok", "late"],
        _ => vec!["ok", "second"],
    });
    let spec = MapSpec::new("timeout")
        .retries(1)
        .timeout(Some(Duration::from_millis(200)));
    let runtime = Runtime::default();
    let array = setup.array.clone();
    let started = Instant::now();
    let run = tokio::spawn(async move {
        array
            .run(&runtime, &spec, 1, script, RunOptions::default())
            .await
            .unwrap()
    });
    let pid = setup.wait_pid(0, 1).await;
    let watch = DeathWatch::new(vec![pid]);
    let outcome = run.await.unwrap();
    let deaths = watch.finish(Duration::from_secs(5)).await;
    assert_eq!(deaths.len(), 1, "the child never died");
    // The attempt began after `started`, so its deadline is at least `started + 200 ms`.
    let died_after = deaths[0].1 - started;
    assert!(died_after >= Duration::from_millis(200), "{died_after:?}");
    assert!(died_after <= Duration::from_millis(300), "{died_after:?}");
    assert_eq!(outcome.result.unwrap(), vec![Some("second".to_owned())]);
    let errors = outcome.report.errors_of(0);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), FailureKind::Timeout);
}

#[tokio::test]
async fn a_child_that_ignores_sigterm_is_killed_after_the_grace() {
    let _serial = serial().await;
    let setup = Setup::new("grace", Duration::from_millis(300));
    let script = setup.script(|_, _| vec!["ignore-term", "pid", "sleep", "10000", "ok", "late"]);
    let spec = MapSpec::new("grace").timeout(Some(Duration::from_millis(200)));
    let runtime = Runtime::default();
    let array = setup.array.clone();
    let started = Instant::now();
    let run = tokio::spawn(async move {
        array
            .run(&runtime, &spec, 1, script, RunOptions::default())
            .await
            .unwrap()
    });
    let pid = setup.wait_pid(0, 1).await;
    let watch = DeathWatch::new(vec![pid]);
    let outcome = run.await.unwrap();
    assert!(matches!(
        outcome.result,
        Err(MapError::TooManyFailures { .. })
    ));
    let deaths = watch.finish(Duration::from_secs(5)).await;
    assert_eq!(deaths.len(), 1, "the child never died");
    let died_after = deaths[0].1 - started;
    // Deadline (200 ms) + grace (300 ms): SIGTERM alone did not end it.
    assert!(died_after >= Duration::from_millis(500), "{died_after:?}");
    assert!(died_after <= Duration::from_millis(700), "{died_after:?}");
    assert!(setup
        .children_after(Duration::from_secs(2))
        .await
        .is_empty());
}

#[tokio::test]
async fn failing_early_stops_every_child_within_100ms() {
    let _serial = serial().await;
    let setup = Setup::new("failing-early", Duration::from_secs(2));
    let script = setup.script(|index, _| match index {
        0 => vec!["pid", "sleep", "300", "fail", "permanent", "boom"],
        _ => vec!["pid", "sleep", "10000", "ok", "late"],
    });
    let spec = MapSpec::new("failing-early").criterion(Criterion::All);
    let runtime = Runtime::default();
    let array = setup.array.clone();
    let run = tokio::spawn(async move {
        array
            .run(&runtime, &spec, 4, script, RunOptions::default())
            .await
            .unwrap()
    });
    let mut pids = Vec::new();
    for index in 0..4 {
        pids.push(setup.wait_pid(index, 1).await);
    }
    let watch = DeathWatch::new(pids.clone());
    let outcome = run.await.unwrap();
    let deaths = watch.finish(Duration::from_secs(5)).await;
    assert_eq!(deaths.len(), 4, "not every child died: {deaths:?}");
    let died = |pid: i32| deaths.iter().find(|&&(p, _)| p == pid).unwrap().1;
    let failed_at = died(pids[0]);
    for &pid in &pids[1..] {
        let after = died(pid).saturating_duration_since(failed_at);
        assert!(
            after <= Duration::from_millis(100),
            "{pid} died {after:?} after the failure"
        );
    }
    match outcome.result {
        Err(MapError::TooManyFailures { summary, .. }) => assert!(summary.starts_with("[0]: boom")),
        other => panic!("{other:?}"),
    }
    assert!(setup
        .children_after(Duration::from_secs(2))
        .await
        .is_empty());
}

#[tokio::test]
async fn a_cancelled_run_leaves_no_child_and_no_zombie() {
    let _serial = serial().await;
    let setup = Setup::new("cancelled", Duration::from_secs(2));
    let script = setup.script(|_, _| vec!["pid", "sleep", "10000", "ok", "late"]);
    let spec = MapSpec::new("cancelled").concurrency(3);
    let runtime = Runtime::default();
    let array = setup.array.clone();
    let token = CancellationToken::new();
    let options = RunOptions::new().cancel(token.clone());
    let run = tokio::spawn(async move {
        array
            .run(&runtime, &spec, 5, script, options)
            .await
            .unwrap()
    });
    for index in 0..3 {
        setup.wait_pid(index, 1).await;
    }
    assert_eq!(setup.my_children().len(), 3);
    token.cancel();
    let outcome = run.await.unwrap();
    assert!(matches!(outcome.result, Err(MapError::Cancelled { .. })));
    let left = setup.children_after(Duration::from_secs(1)).await;
    assert!(left.is_empty(), "children left: {left:?}");
    assert_eq!(setup.array.stats().live, 0);
}

#[tokio::test]
async fn a_dropped_run_leaves_no_child_and_no_zombie() {
    let _serial = serial().await;
    let setup = Setup::new("dropped", Duration::from_secs(2));
    let script = setup.script(|_, _| vec!["pid", "sleep", "10000", "ok", "late"]);
    let spec = MapSpec::new("dropped");
    let runtime = Runtime::default();
    let array = setup.array.clone();
    let run = tokio::spawn(async move {
        array
            .run(&runtime, &spec, 4, script, RunOptions::default())
            .await
            .unwrap()
    });
    for index in 0..4 {
        setup.wait_pid(index, 1).await;
    }
    assert_eq!(setup.my_children().len(), 4);
    run.abort();
    assert!(run.await.unwrap_err().is_cancelled());
    let left = setup.children_after(Duration::from_secs(1)).await;
    assert!(left.is_empty(), "children left: {left:?}");
    assert_eq!(setup.array.stats().live, 0);
}
