//! One attempt of one element: run the work, catch its panic, bound it by the timeout.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use maptask_core::TaskError;
use tracing::Instrument;

use crate::panics;
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
    map: Arc<str>,
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
    let result = caught(
        async move { work.call(input).await },
        span,
        (&map, index, attempt),
    )
    .await;
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
    map: Arc<str>,
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
    let result = caught(timed, span, (&map, index, attempt)).await;
    Done {
        index,
        attempt,
        elapsed: started.elapsed(),
        result,
    }
}

/// Polls `body` inside `span`, turning a panic into a failed attempt of element `index`,
/// reported once through tracing and never through the panic hook.
async fn caught<O>(
    body: impl std::future::Future<Output = Result<O, TaskError>>,
    span: tracing::Span,
    (map, index, attempt): (&str, usize, u32),
) -> Result<O, TaskError> {
    let body = panics::in_element(body.instrument(span));
    match AssertUnwindSafe(body).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(panics::element_panicked(
            map,
            index,
            attempt,
            payload.as_ref(),
        )),
    }
}

/// Runs one blocking attempt of element `index` on the current thread, with panics caught
/// quietly (see `panics`).
#[inline]
pub(crate) fn run_blocking<I, W>(
    work: &W,
    input: I,
    (map, index, attempt): (&str, usize, u32),
) -> Result<W::Output, TaskError>
where
    W: Work<I>,
{
    panics::run_element(map, index, attempt, || work.call_blocking(input))
}
