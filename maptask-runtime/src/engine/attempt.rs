//! One attempt of one element: run the work, catch its panic, bound it by the timeout.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use maptask_core::TaskError;
use tracing::Instrument;

use crate::work::Work;

/// The end of one attempt.
pub(crate) struct Done<O> {
    pub(crate) index: usize,
    pub(crate) attempt: u32,
    pub(crate) elapsed: Duration,
    pub(crate) result: Result<O, TaskError>,
}

/// Runs one async attempt: `work.call(input)`, with panics caught.
///
/// A panic while building the future or while polling it counts as a panic of the attempt.
pub(crate) async fn run_async<I, W>(
    work: Arc<W>,
    index: usize,
    attempt: u32,
    input: I,
    span: tracing::Span,
) -> Done<W::Output>
where
    I: Send + 'static,
    W: Work<I>,
{
    let started = Instant::now();
    // No timer in this future: it stays small, and so does its task.
    let result = caught(async move { work.call(input).await }, span).await;
    Done {
        index,
        attempt,
        elapsed: started.elapsed(),
        result,
    }
}

/// Runs one async attempt bounded by `limit`, with panics caught (including a panic while the
/// future is dropped on timeout).
pub(crate) async fn run_async_timed<I, W>(
    work: Arc<W>,
    index: usize,
    attempt: u32,
    input: I,
    limit: Duration,
    span: tracing::Span,
) -> Done<W::Output>
where
    I: Send + 'static,
    W: Work<I>,
{
    let started = Instant::now();
    let timed = async move {
        match tokio::time::timeout(limit, work.call(input)).await {
            Ok(result) => result,
            Err(_) => Err(TaskError::timeout(limit)),
        }
    };
    let result = caught(timed, span).await;
    Done {
        index,
        attempt,
        elapsed: started.elapsed(),
        result,
    }
}

/// Polls `body` inside `span`, turning a panic into a failed attempt.
async fn caught<O>(
    body: impl std::future::Future<Output = Result<O, TaskError>>,
    span: tracing::Span,
) -> Result<O, TaskError> {
    match AssertUnwindSafe(body.instrument(span)).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(TaskError::from_panic(payload.as_ref())),
    }
}

/// Runs one blocking attempt on the current thread, with panics caught.
#[inline]
pub(crate) fn run_blocking<I, W>(work: &W, input: I) -> Result<W::Output, TaskError>
where
    W: Work<I>,
{
    match catch_unwind(AssertUnwindSafe(|| work.call_blocking(input))) {
        Ok(result) => result,
        Err(payload) => Err(TaskError::from_panic(payload.as_ref())),
    }
}
