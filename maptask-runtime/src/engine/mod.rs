//! The map engine: checks a map's specification, then drives its elements.

mod attempt;
mod blocking;
mod driver;
mod erased;
mod fast;
mod inbox;
mod inline;
mod tasks;
mod timers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use maptask_core::{
    error::summarize_failures, Criterion, ElementFailure, Execution, MapError, MapSpec, TaskError,
};
use tracing::Instrument;

use crate::events::{Counts, MapEvent, MapStatus};
use crate::report::{ElementErrors, ElementReports, ElementStatus, MapOutcome, MapReport};
use crate::runtime::{RunOptions, RuntimeInner};
use crate::work::Work;
use driver::{Driver, Settings};
use erased::{ErasedInput, ErasedWork};

/// Checks that the mapped inputs all have the same length, and returns it.
///
/// `lengths` holds each mapped input's name and length, in declaration order. On a mismatch the
/// error names every input and its length.
///
/// ```
/// use maptask_runtime::check_lengths;
/// assert_eq!(check_lengths("m", &[("a", 3), ("b", 3)]), Ok(3));
/// let error = check_lengths("m", &[("a", 3), ("b", 2)]).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     "map `m`: mapped inputs have different lengths: `a` has 3, `b` has 2"
/// );
/// ```
pub fn check_lengths(map: &str, lengths: &[(&str, usize)]) -> Result<usize, MapError> {
    let first = lengths.first().map_or(0, |&(_, len)| len);
    if lengths.iter().all(|&(_, len)| len == first) {
        return Ok(first);
    }
    Err(MapError::LengthMismatch {
        map: map.to_owned(),
        lengths: lengths
            .iter()
            .map(|&(name, len)| (name.to_owned(), len))
            .collect(),
    })
}

/// An outcome for a map that ran nothing.
fn outcome_without_running<O>(
    name: &str,
    n: usize,
    min_successes: usize,
    result: Result<Vec<Option<O>>, MapError>,
    options: &RunOptions,
    started_at: Instant,
) -> MapOutcome<O> {
    let status = if result.is_ok() {
        MapStatus::Succeeded
    } else {
        MapStatus::Failed
    };
    let report = MapReport::unstarted(name, n, min_successes, status, started_at.elapsed());
    if let Some(observer) = &options.observer {
        let event = MapEvent::MapFinished {
            map: Arc::from(name),
            status,
            elapsed: report.elapsed,
            counts: report.totals,
        };
        // An observer's panic must not take down the caller.
        let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            observer.on_event(&event);
        }));
        if delivered.is_err() {
            tracing::error!("a map observer panicked; the event was dropped");
        }
    }
    MapOutcome { result, report }
}

pub(crate) async fn run_map<I, W>(
    runtime: &Arc<RuntimeInner>,
    spec: &MapSpec,
    inputs: Vec<I>,
    work: W,
    options: RunOptions,
) -> MapOutcome<W::Output>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    let started_at = Instant::now();
    let n = inputs.len();
    // The criterion is checked first: `min_successes = 3` over no element is an error, not `[]`.
    let min_successes = match spec.criterion.min_successes(n) {
        Ok(m) => m,
        Err(source) => {
            let error = MapError::Spec {
                map: spec.name.clone(),
                source,
            };
            return outcome_without_running(&spec.name, n, 0, Err(error), &options, started_at);
        }
    };
    if n == 0 {
        return outcome_without_running(&spec.name, 0, 0, Ok(Vec::new()), &options, started_at);
    }
    if takes_fast_path(runtime, spec, &work, &options) {
        let (result, report) = run_fast::<I, W, fast::Optional>(
            runtime,
            spec,
            min_successes,
            inputs,
            work,
            options,
            started_at,
        )
        .await;
        return MapOutcome { result, report };
    }
    // Everything else runs on the general engine, compiled once for boxed elements.
    let inputs: Vec<ErasedInput> = inputs.into_iter().map(ErasedInput::new).collect();
    let outcome = run_general(
        runtime,
        spec,
        n,
        min_successes,
        inputs,
        ErasedWork::new(work),
        options,
        started_at,
    )
    .await;
    let MapOutcome { result, report } = outcome;
    let result = match result {
        Ok(outputs) => erased::unbox_outputs(outputs).ok_or_else(|| MapError::Internal {
            map: report.map.clone(),
            message: "an element's output has the wrong type".to_owned(),
        }),
        Err(error) => Err(error),
    };
    MapOutcome { result, report }
}

/// Like [`run_map`], for a caller that needs every output: the outputs unwrapped, or an error
/// when any element has none.
pub(crate) async fn run_map_all<I, W>(
    runtime: &Arc<RuntimeInner>,
    spec: &MapSpec,
    inputs: Vec<I>,
    work: W,
    options: RunOptions,
) -> (Result<Vec<W::Output>, MapError>, MapReport)
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    let started_at = Instant::now();
    let n = inputs.len();
    // A map that needs every element to succeed keeps its outputs without `Option`s (see
    // `fast::Whole`); any other goes through `run_map` and is unwrapped afterwards.
    let every = n > 0 && spec.criterion.min_successes(n) == Ok(n);
    if every && takes_fast_path(runtime, spec, &work, &options) {
        return run_fast::<I, W, fast::Whole>(runtime, spec, n, inputs, work, options, started_at)
            .await;
    }
    // Boxed: this future would otherwise hold both paths' states, and be moved whole.
    let MapOutcome { result, report } =
        Box::pin(run_map(runtime, spec, inputs, work, options)).await;
    let result = result.and_then(|outputs| report.require_all(outputs));
    (result, report)
}

/// Whether a map runs on the fast path: blocking work that needs no timer, no runtime-wide
/// permit and no per-element event.
fn takes_fast_path<I, W: Work<I>>(
    runtime: &RuntimeInner,
    spec: &MapSpec,
    work: &W,
    options: &RunOptions,
) -> bool {
    work.execution() == Execution::Blocking
        && spec.timeout.is_none()
        && spec.backoff.is_none()
        && runtime.in_flight.is_none()
        && options.observer.is_none()
}

/// Runs a map of at least one element on the fast path, keeping its outputs in form `F`. The
/// map starts now, inside its span (see `fast::run`); await the future at once.
fn run_fast<I, W, F>(
    runtime: &Arc<RuntimeInner>,
    spec: &MapSpec,
    min_successes: usize,
    inputs: Vec<I>,
    work: W,
    options: RunOptions,
    started_at: Instant,
) -> impl std::future::Future<Output = (Result<Vec<F::Slot>, MapError>, MapReport)>
where
    I: Clone + Send + 'static,
    W: Work<I>,
    F: fast::Form<W::Output>,
{
    let n = inputs.len();
    let span = tracing::info_span!(
        "map",
        map = %spec.name,
        n,
        min_successes,
        concurrency = spec.concurrency
    );
    let core = fast::Core::new(
        n,
        if spec.concurrency == 0 {
            n
        } else {
            spec.concurrency
        },
        min_successes,
        spec.retries,
        Arc::from(spec.name.as_str()),
        span.clone(),
        std::any::TypeId::of::<W>(),
    );
    let pool = runtime.pool();
    let end = span
        .in_scope(|| fast::run::<I, W, F>(&pool, core, work, inputs, options.cancel, started_at));
    end.instrument(span)
}

/// The general engine: the driver, on boxed elements. Not generic, so that it is compiled
/// once, in this crate.
#[allow(clippy::too_many_arguments)]
fn run_general<'a>(
    runtime: &'a Arc<RuntimeInner>,
    spec: &'a MapSpec,
    n: usize,
    min_successes: usize,
    inputs: Vec<ErasedInput>,
    work: ErasedWork,
    options: RunOptions,
    started_at: Instant,
) -> futures::future::BoxFuture<'a, MapOutcome<erased::AnyOutput>> {
    let settings = Settings {
        name: Arc::from(spec.name.as_str()),
        n,
        min_successes,
        concurrency: spec.concurrency,
        retries: spec.retries,
        timeout: spec.timeout,
        backoff: spec.backoff,
    };
    let RunOptions { observer, cancel } = options;
    let mut driver = Driver::new(
        settings,
        inputs,
        work,
        || runtime.pool(),
        runtime.in_flight.clone(),
        observer,
        cancel,
        started_at,
    );
    let span = driver.span.clone();
    Box::pin(
        async move {
            let status = std::future::poll_fn(|cx| driver.poll_run(cx)).await;
            driver.finish(status)
        }
        .instrument(span),
    )
}

pub(crate) async fn run_task<I, W>(
    runtime: &Arc<RuntimeInner>,
    name: &str,
    retries: u32,
    timeout: Option<Duration>,
    input: I,
    work: W,
    options: RunOptions,
) -> Result<W::Output, ElementFailure>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    // Blocking work known to be quick runs here, without a trip through the pool; a call with
    // a timeout, an observer or a runtime-wide cap goes through the engine.
    let plain = work.execution() == Execution::Blocking
        && timeout.is_none()
        && options.observer.is_none()
        && runtime.in_flight.is_none();
    if plain && inline::is_quick::<W>() {
        if options.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
            return Err(inline::cancelled());
        }
        let span = tracing::info_span!("map", map = %name, n = 1usize, min_successes = 1usize);
        return span.in_scope(|| inline::run(name, retries, input, &work));
    }
    let spec = MapSpec::new(name)
        .criterion(Criterion::All)
        .retries(retries)
        .timeout(timeout);
    let outcome = run_map(runtime, &spec, vec![input], work, options).await;
    if plain {
        if let Some(element) = outcome.report.elements.first() {
            if element.attempts > 0 {
                inline::record::<W>(element.duration / element.attempts);
            }
        }
    }
    match outcome.result {
        Ok(outputs) => match outputs.into_iter().next().flatten() {
            Some(output) => Ok(output),
            None => Err(ElementFailure {
                index: 0,
                attempts: 0,
                errors: vec![TaskError::permanent_msg(
                    "internal error: the task produced no output",
                )],
            }),
        },
        Err(MapError::TooManyFailures { failures, .. }) if !failures.is_empty() => {
            let mut failures = failures;
            Err(failures.swap_remove(0))
        }
        Err(_) => {
            let report = &outcome.report;
            let mut errors = report.errors_of(0).to_vec();
            errors.push(TaskError::cancelled());
            Err(ElementFailure {
                index: 0,
                attempts: report.elements.first().map_or(0, |e| e.attempts),
                errors,
            })
        }
    }
}

/// The outcome of a map that ran, from its verdict, its element reports, its errors (by
/// element, in index order) and, when it succeeded, its outputs.
fn finish_report<T>(
    name: &str,
    min_successes: usize,
    status: MapStatus,
    elements: ElementReports,
    errors: Vec<ElementErrors>,
    outputs: Option<T>,
    started_at: Instant,
) -> (Result<T, MapError>, MapReport) {
    let n = elements.len();
    let mut totals = Counts {
        total: n,
        ..Counts::default()
    };
    for (_, len, element) in elements.runs() {
        match element.status {
            ElementStatus::NotStarted => totals.pending += len,
            ElementStatus::Succeeded => totals.succeeded += len,
            ElementStatus::Failed => totals.failed += len,
            ElementStatus::Cancelled => totals.cancelled += len,
            // The engine never produces it; a cached element is a success.
            ElementStatus::Cached => {
                totals.succeeded += len;
                totals.cached += len;
            }
        }
    }
    let elapsed = started_at.elapsed();
    tracing::debug!(?status, counts = ?totals, ?elapsed, "map finished");
    let report = MapReport {
        map: name.to_owned(),
        n,
        min_successes,
        status,
        elements,
        errors,
        totals,
        elapsed,
    };
    let result = match (status, outputs) {
        (MapStatus::Succeeded, Some(outputs)) => Ok(outputs),
        (MapStatus::Succeeded, None) => Err(MapError::Internal {
            map: report.map.clone(),
            message: "the outputs of a finished map were missing".to_owned(),
        }),
        (MapStatus::Failed, _) => {
            let failures = report.failures();
            Err(MapError::TooManyFailures {
                map: report.map.clone(),
                n,
                min_successes,
                summary: summarize_failures(&failures),
                failures,
            })
        }
        (MapStatus::Cancelled, _) => Err(MapError::Cancelled {
            map: report.map.clone(),
        }),
    };
    (result, report)
}
