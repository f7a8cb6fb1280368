//! What children leave behind: outputs, recoverable and non-recoverable failures, nothing.

use std::time::Duration;

use maptask_core::{Criterion, MapSpec};
use maptask_runtime::{ElementStatus, RunOptions, Runtime};

use crate::common::{serial, Setup};

#[tokio::test]
async fn recoverable_failures_are_retried_and_non_recoverable_ones_are_not() {
    let _serial = serial().await;
    let setup = Setup::new("recoverable", Duration::from_secs(2));
    let script = setup.script(|index, attempt| match (index, attempt) {
        (0, 1) => vec!["fail", "recoverable", "try again"],
        (0, _) => vec!["ok", "zero"],
        (1, _) => vec!["fail", "permanent", "bad input"],
        (3, _) => vec!["say", "disk full", "fail", "permanent", "disk full"],
        _ => vec!["ok", "two"],
    });
    let spec = MapSpec::new("recoverable")
        .retries(2)
        .criterion(Criterion::MinSuccesses(2));
    let outcome = setup
        .array
        .run(&Runtime::default(), &spec, 4, script, RunOptions::default())
        .await
        .unwrap();
    assert_eq!(
        outcome.result.unwrap(),
        vec![Some("zero".to_owned()), None, Some("two".to_owned()), None]
    );
    let report = &outcome.report;
    assert_eq!(report.elements[0].attempts, 2);
    assert_eq!(
        report.elements[1].attempts, 1,
        "a non-recoverable failure is not retried"
    );
    assert_eq!(report.elements[1].status, ElementStatus::Failed);
    assert_eq!(report.elements[2].attempts, 1);
    // Each failure shows the last lines of the child's log that its message does not hold.
    let log = setup.array.log_dir("recoverable").join("1.1.log");
    assert_eq!(
        report.errors_of(1)[0].message(),
        format!(
            "bad input\n  last lines of {}:\n    failing: bad input",
            log.display()
        )
    );
    assert!(report.errors_of(1)[0].is_permanent());
    // Lines the message already holds are not repeated.
    let log = setup.array.log_dir("recoverable").join("3.1.log");
    assert_eq!(
        report.errors_of(3)[0].message(),
        format!(
            "disk full\n  last lines of {}:\n    failing: disk full",
            log.display()
        )
    );
    assert!(!report.errors_of(0)[0].is_permanent());
}

#[tokio::test]
async fn a_child_that_exits_without_a_result_is_a_retryable_system_failure() {
    let _serial = serial().await;
    let setup = Setup::new("no-result", Duration::from_secs(2));
    let script = setup.script(|_, attempt| match attempt {
        1 => vec!["say", "hello from the child", "exit", "7"],
        _ => vec!["ok", "done"],
    });
    let spec = MapSpec::new("no-result").retries(1);
    let outcome = setup
        .array
        .run(&Runtime::default(), &spec, 1, script, RunOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.result.unwrap(), vec![Some("done".to_owned())]);
    let error = &outcome.report.errors_of(0)[0];
    let log = setup.array.log_dir("no-result").join("0.1.log");
    let message = error.message();
    let expected_tail = format!(
        "without writing a result; a retryable system failure\n  last lines of {}:\n    hello \
         from the child\n    hello from the child",
        log.display()
    );
    assert!(message.starts_with("the child process (pid "), "{message}");
    assert!(message.contains(") exited with code 7 "), "{message}");
    assert!(message.ends_with(&expected_tail), "{message}");
    // Both streams of the child went to the attempt's log.
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "hello from the child\nhello from the child\n"
    );
}

#[tokio::test]
async fn a_missing_program_fails_without_retries() {
    let _serial = serial().await;
    let setup = Setup::new("missing-program", Duration::from_secs(2));
    let array = maptask_process::ProcessArray::builder()
        .program("/nonexistent/maptask-child")
        .build(setup.array.dir().clone())
        .unwrap();
    let spec = MapSpec::new("missing").retries(3);
    let outcome = array
        .run(
            &Runtime::default(),
            &spec,
            1,
            setup.script(|_, _| vec![]),
            RunOptions::default(),
        )
        .await
        .unwrap();
    assert!(outcome.result.is_err());
    assert_eq!(outcome.report.elements[0].attempts, 1);
    let message = outcome.report.errors_of(0)[0].message().to_owned();
    assert!(
        message.starts_with("could not start `/nonexistent/maptask-child`: "),
        "{message}"
    );
}
