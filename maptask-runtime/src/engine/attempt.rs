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

/// Runs one async attempt: `work.call(input)`, bounded by `timeout`, with panics caught.
///
/// A panic while building the future, while polling it, or while dropping it on timeout all
/// count as a panic of the attempt.
pub(crate) async fn run_async<I, W>(
    work: Arc<W>,
    index: usize,
    attempt: u32,
    input: I,
    timeout: Option<Duration>,
    span: tracing::Span,
) -> Done<W::Output>
where
    I: Send + 'static,
    W: Work<I>,
{
    let started = Instant::now();
    let body = async move {
        match timeout {
            None => work.call(input).await,
            Some(limit) => match tokio::time::timeout(limit, work.call(input)).await {
                Ok(result) => result,
                Err(_) => Err(TaskError::timeout(limit)),
            },
        }
    };
    let result = match AssertUnwindSafe(body.instrument(span)).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(TaskError::from_panic(payload.as_ref())),
    };
    Done {
        index,
        attempt,
        elapsed: started.elapsed(),
        result,
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
