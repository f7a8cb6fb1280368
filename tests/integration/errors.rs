//! Error types of tasks (issue 13): `anyhow::Result`, boxed errors, strings, `?` on std errors
//! inside a `Result<T, TaskError>` task, permanence through each of them, and errors that print
//! each cause once.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU32, Ordering};

use maptask::prelude::*;
use maptask::{FailureKind, NodeFailure};

#[derive(Debug, thiserror::Error)]
#[error("disk full")]
struct DiskFull;

#[derive(Debug, thiserror::Error)]
#[error("cannot save `{0}`")]
struct CannotSave(String, #[source] DiskFull);

#[task]
fn with_anyhow(x: i64) -> anyhow::Result<i64> {
    use anyhow::Context as _;
    if x < 0 {
        return Err(TaskError::permanent_msg("negative").into());
    }
    if x == 0 {
        return Err(DiskFull).context("saving zero");
    }
    Ok(x * 2)
}

#[task]
async fn with_box(x: i64) -> Result<i64, Box<dyn StdError + Send + Sync>> {
    if x < 0 {
        return Err(TaskError::permanent_msg("negative").into());
    }
    if x == 0 {
        return Err(Box::new(DiskFull));
    }
    Ok(x + 1)
}

#[task]
fn with_string(x: i64) -> Result<i64, String> {
    if x == 0 {
        Err(format!("{x} is zero"))
    } else {
        Ok(x)
    }
}

#[task]
fn with_str(x: i64) -> Result<i64, &'static str> {
    if x == 0 {
        Err("zero")
    } else {
        Ok(x)
    }
}

/// `?` on an `io::Error`, a parse error and a `thiserror` type, all into `TaskError`.
#[task]
fn with_question_mark(path: String) -> Result<usize, TaskError> {
    if path == "save" {
        Err(CannotSave(path.clone(), DiskFull))?;
    }
    let n: usize = path.parse()?;
    let text = std::fs::read_to_string(&path)?;
    Ok(text.len() + n)
}

#[tokio::test]
async fn anyhow_results_are_task_outputs() {
    assert_eq!(<with_anyhow as Task>::call((2,)).await, Ok(4));
    let context = <with_anyhow as Task>::call_blocking((0,)).unwrap_err();
    assert_eq!(context.to_string(), "saving zero");
    assert_eq!(context.full_message(), "saving zero: disk full");
    assert!(!context.is_permanent());
    let permanent = <with_anyhow as Task>::call_blocking((-1,)).unwrap_err();
    assert!(
        permanent.is_permanent(),
        "a TaskError keeps its permanence through anyhow"
    );
    assert_eq!(permanent.message(), "negative");
}

#[tokio::test]
async fn boxed_errors_and_strings_are_task_errors() {
    assert_eq!(<with_box as Task>::call((2,)).await, Ok(3));
    let boxed = <with_box as Task>::call((0,)).await.unwrap_err();
    assert_eq!(boxed.message(), "disk full");
    assert!(boxed.downcast_ref::<DiskFull>().is_some());
    let permanent = <with_box as Task>::call((-1,)).await.unwrap_err();
    assert!(
        permanent.is_permanent(),
        "a TaskError keeps its permanence through a box"
    );

    let string = <with_string as Task>::call_blocking((0,)).unwrap_err();
    assert_eq!(string.message(), "0 is zero");
    assert_eq!(string.kind(), FailureKind::Error);
    assert_eq!(
        <with_str as Task>::call_blocking((0,))
            .unwrap_err()
            .message(),
        "zero"
    );
}

#[test]
fn question_mark_converts_std_errors_into_task_error() {
    let parse = with_question_mark("x".into()).unwrap_err();
    assert!(parse.downcast_ref::<std::num::ParseIntError>().is_some());
    let io = with_question_mark("0".into()).unwrap_err();
    assert!(io.downcast_ref::<std::io::Error>().is_some());
    assert!(!io.is_permanent());
    let save = with_question_mark("save".into()).unwrap_err();
    assert_eq!(save.to_string(), "cannot save `save`");
    assert_eq!(save.full_message(), "cannot save `save`: disk full");
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails with an anyhow error the first time, then succeeds: retried like any `Err`.
#[task(retries = 1)]
fn flaky(x: i64) -> anyhow::Result<i64> {
    if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
        anyhow::bail!("first attempt fails");
    }
    Ok(x)
}

#[tokio::test]
async fn an_anyhow_error_is_retried_and_a_permanent_one_is_not() -> anyhow::Result<()> {
    assert_eq!(map_task!(flaky).call(vec![7]).await?, vec![7]);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 2);

    let report = map_task!(with_anyhow, retries = 3)
        .call_with_report(vec![-1])
        .await;
    let error = report.0.unwrap_err();
    let MapError::TooManyFailures { failures, .. } = &error else {
        panic!("expected too many failures, got {error}")
    };
    assert_eq!(failures[0].attempts, 1, "permanent: no retry");
    Ok(())
}

// ---- each cause once ----------------------------------------------------------------------

/// Every message in a chain, as a reader of `{}` plus a `source()` walk sees it.
fn chain(error: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        out.push(e.to_string());
        source = e.source();
    }
    out
}

#[task]
fn save(name: String) -> Result<(), CannotSave> {
    Err(CannotSave(name, DiskFull))
}

#[workflow]
fn save_all(names: Vec<String>) -> Vec<()> {
    map_task!(save)(name = names)
}

#[workflow]
fn save_one(name: String) {
    save(name)
}

/// No message of a chain contains the next one: each cause is printed once.
fn assert_each_cause_once(messages: &[String]) {
    for pair in messages.windows(2) {
        assert!(
            !pair[0].contains(&pair[1]),
            "`{}` repeats its source `{}`",
            pair[0],
            pair[1]
        );
    }
    let all = messages.join(": ");
    assert_eq!(all.matches("disk full").count(), 1, "{all}");
}

#[tokio::test]
async fn a_task_error_prints_each_cause_once() {
    let error = <save as Task>::call_blocking(("a".into(),)).unwrap_err();
    let messages = chain(&*error);
    assert_eq!(messages, vec!["cannot save `a`", "disk full"]);
    assert_each_cause_once(&messages);
    let any = anyhow::Error::from(error);
    assert_eq!(format!("{any:#}"), "cannot save `a`: disk full");
}

#[tokio::test]
async fn a_map_error_prints_each_cause_once() {
    // A strict map stops at its first failure, so one element keeps the message exact.
    let error = map_task!(save).call(vec!["a".into()]).await.unwrap_err();
    let messages = chain(&error);
    assert_eq!(
        messages,
        vec![format!(
            "map `{}` failed: 1 of 1 elements failed, at least 1 had to succeed; [0]: cannot save `a`: disk full",
            map_task!(save).name()
        )]
    );
    let any = anyhow::Error::from(error);
    assert_eq!(format!("{any:#}").matches("`a`: disk full").count(), 1);
}

#[tokio::test]
async fn a_workflow_error_prints_each_cause_once() {
    let error = save_one::run("a".into()).await.unwrap_err();
    let messages = chain(&error);
    assert_each_cause_once(&messages);
    assert_eq!(
        messages,
        vec![format!(
            "workflow `{}` failed at node `n0` ({}): cannot save `a`: disk full (after 1 attempt)",
            <save_one as Task>::NAME,
            <save as Task>::NAME
        )]
    );
    let any = anyhow::Error::from(error);
    assert_eq!(format!("{any:#}").matches("disk full").count(), 1);

    let map = save_all::run(vec!["b".into()]).await.unwrap_err();
    assert!(matches!(map.failure(), NodeFailure::Map(_)));
    let text = format!("{:#}", anyhow::Error::from(map));
    assert_eq!(text.matches("disk full").count(), 1, "{text}");
}
