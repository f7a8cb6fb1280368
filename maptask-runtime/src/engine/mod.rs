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
mod typed;

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
use futures::future::BoxFuture;
use typed::{ElementOps, Elements, RawVec, TypedOps};

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

/// The report of a map that ran nothing, delivered to the observer if there is one.
fn report_without_running(
    name: &str,
    n: usize,
    min_successes: usize,
    succeeded: bool,
    options: &RunOptions,
    started_at: Instant,
) -> MapReport {
    let status = if succeeded {
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
    report
}

/// Runs a map, keeping its outputs as `Option`s: `None` where an element has none.
///
/// Not `async`: the typed part of a map is its [`TypedOps`], made here, and the future is
/// [`MapFuture`], generic over the output type only, so that maps of the same output share it.
pub(crate) fn run_map<'a, I, W>(
    runtime: &'a Arc<RuntimeInner>,
    spec: &'a MapSpec,
    inputs: Vec<I>,
    work: W,
    options: RunOptions,
) -> MapFuture<'a, MapOutcome<W::Output>>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    let ops = Box::new(TypedOps::<I, W, fast::Optional>::new(work));
    let run = run_erased(runtime, spec, Elements::new(inputs, ops), options);
    // SAFETY: the engine hands back the slots of the form it was given: `Option<W::Output>`.
    unsafe { MapFuture::new(run, outcome_of::<W::Output>) }
}

/// Like [`run_map`], for a caller that needs every output: the outputs unwrapped, or an error
/// when any element has none.
pub(crate) fn run_map_all<'a, I, W>(
    runtime: &'a Arc<RuntimeInner>,
    spec: &'a MapSpec,
    inputs: Vec<I>,
    work: W,
    options: RunOptions,
) -> MapFuture<'a, AllOutcome<W::Output>>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    let ops = Box::new(TypedOps::<I, W, fast::Whole>::new(work));
    let run = run_erased(runtime, spec, Elements::new(inputs, ops), options);
    // SAFETY: the engine hands back the slots of the form it was given: `W::Output`.
    unsafe { MapFuture::new(run, all_of::<W::Output>) }
}

/// An erased map's outcome, with slots of `Option<O>`.
/// SAFETY: the slots are `Option<O>`s.
unsafe fn outcome_of<O>((result, report): fast::Outcome) -> MapOutcome<O> {
    MapOutcome {
        result: result.map(|slots| slots.into_vec::<Option<O>>()),
        report,
    }
}

/// What [`Runtime::run_map_all`](crate::Runtime::run_map_all) gives: every output, or the error
/// that says why some are missing; and the report.
pub type AllOutcome<O> = (Result<Vec<O>, MapError>, MapReport);

/// An erased map's outcome, with slots of `O`.
/// SAFETY: the slots are `O`s.
unsafe fn all_of<O>((result, report): fast::Outcome) -> AllOutcome<O> {
    (result.map(|slots| slots.into_vec::<O>()), report)
}

/// A map of erased elements, as [`run_erased`] gives it: waiting for its first poll, then
/// running (a map that ends at its start, see `fast::solo`, is never boxed).
enum ErasedRun<'a> {
    /// What the first poll starts.
    Start(Option<Start<'a>>),
    /// The map runs; the future waits for its end.
    Running(BoxFuture<'a, fast::Outcome>),
}

/// A map not started yet.
struct Start<'a> {
    runtime: &'a Arc<RuntimeInner>,
    spec: &'a MapSpec,
    elements: Elements,
    options: RunOptions,
}

impl ErasedRun<'_> {
    /// Polls the map, and gives its outcome as `then` makes it. The outcome goes straight from
    /// where the engine left it into `then`: a small map's outcome (a few hundred bytes) is
    /// not copied through another layer first.
    ///
    /// SAFETY: `then` may rely only on what the engine guarantees of the outcome (see
    /// `MapFuture::new`).
    unsafe fn poll_then<T>(
        &mut self,
        cx: &mut std::task::Context<'_>,
        then: unsafe fn(fast::Outcome) -> T,
    ) -> std::task::Poll<T> {
        if let ErasedRun::Start(start) = self {
            let Some(start) = start.take() else {
                panic!("a map's future polled after it ended");
            };
            match start_erased(start) {
                fast::Started::Done(outcome) => return std::task::Poll::Ready(then(outcome)),
                fast::Started::Running(run) => *self = ErasedRun::Running(run),
            }
        }
        match self {
            ErasedRun::Running(run) => run.as_mut().poll(cx).map(|outcome| then(outcome)),
            ErasedRun::Start(_) => unreachable!("started above"),
        }
    }
}

impl std::future::Future for ErasedRun<'_> {
    type Output = fast::Outcome;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<fast::Outcome> {
        fn same(outcome: fast::Outcome) -> fast::Outcome {
            outcome
        }
        // SAFETY: `same` assumes nothing of the outcome.
        unsafe { self.poll_then(cx, same) }
    }
}

/// The future of a map run by [`Runtime::run_map`](crate::Runtime::run_map) or
/// [`Runtime::run_map_all`](crate::Runtime::run_map_all): the engine runs the map on erased
/// elements, and this puts the outputs back into their type when it ends. Like any future, it
/// does nothing until it is first polled; dropped before that, it drops the inputs.
#[must_use = "a map does nothing unless awaited"]
pub struct MapFuture<'a, T> {
    run: ErasedRun<'a>,
    typed: unsafe fn(fast::Outcome) -> T,
}

impl<'a, T> MapFuture<'a, T> {
    /// SAFETY: `typed` reads the slots of the form that `run` writes.
    unsafe fn new(run: ErasedRun<'a>, typed: unsafe fn(fast::Outcome) -> T) -> MapFuture<'a, T> {
        MapFuture { run, typed }
    }
}

impl<T> std::future::Future for MapFuture<'_, T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        let this = &mut *self;
        // SAFETY: see `MapFuture::new`.
        unsafe { this.run.poll_then(cx, this.typed) }
    }
}

impl<T> std::fmt::Debug for MapFuture<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MapFuture")
    }
}

/// Runs a map of erased elements: `elements` holds the inputs and the operations that know
/// their type, and the outputs come back as slots of the operations' form. Not generic, so that
/// it is compiled once, here. Nothing runs before the future is first polled.
///
/// A form without gaps (every output needed) keeps its outputs unwrapped on the fast path
/// (see `fast::Whole`) when the criterion needs every element to succeed; any other map of
/// that form runs on the general engine, and fails when an element has no output.
fn run_erased<'a>(
    runtime: &'a Arc<RuntimeInner>,
    spec: &'a MapSpec,
    elements: Elements,
    options: RunOptions,
) -> ErasedRun<'a> {
    ErasedRun::Start(Some(Start {
        runtime,
        spec,
        elements,
        options,
    }))
}

/// Starts an erased map (at its first poll): checks it, then runs it on the fast path or the
/// general engine. A small map of quick work ends here (see `fast::solo`).
fn start_erased(start: Start<'_>) -> fast::Started<BoxFuture<'_, fast::Outcome>> {
    let Start {
        runtime,
        spec,
        elements,
        options,
    } = start;
    let started_at = Instant::now();
    let n = elements.len();
    // The criterion is checked first: `min_successes = 3` over no element is an error, not
    // `[]`.
    let min_successes = match spec.criterion.min_successes(n) {
        Ok(m) => m,
        Err(source) => {
            drop(elements);
            let error = MapError::Spec {
                map: spec.name.clone(),
                source,
            };
            let report = report_without_running(&spec.name, n, 0, false, &options, started_at);
            return fast::Started::Done((Err(error), report));
        }
    };
    if n == 0 {
        let empty = elements.ops().alloc_slots(0);
        drop(elements);
        let report = report_without_running(&spec.name, 0, 0, true, &options, started_at);
        return fast::Started::Done((Ok(empty), report));
    }
    let whole = !elements.ops().has_gaps();
    let fast =
        (!whole || min_successes == n) && takes_fast_path(runtime, spec, elements.ops(), &options);
    let (inputs, ops) = elements.into_parts();
    if fast {
        return run_fast(
            runtime,
            spec,
            min_successes,
            inputs,
            ops,
            options,
            started_at,
        );
    }
    // Everything else runs on the general engine, on boxed elements.
    // SAFETY: `inputs` holds the values `ops` knows.
    let boxed = unsafe { ops.box_inputs(inputs) };
    let unbox = ops.unboxer();
    let work = ops.into_work();
    let general = run_general(
        runtime,
        spec,
        n,
        min_successes,
        boxed,
        work,
        options,
        started_at,
    );
    fast::Started::Running(Box::pin(async move {
        let MapOutcome { result, report } = general.await;
        let result = result
            .and_then(|outputs| {
                if whole {
                    // Every output is needed: an element without one fails the map.
                    let all = report.require_all(outputs)?;
                    Ok(all.into_iter().map(Some).collect())
                } else {
                    Ok(outputs)
                }
            })
            .and_then(|outputs| {
                unbox(outputs).ok_or_else(|| MapError::Internal {
                    map: report.map.clone(),
                    message: "an element's output has the wrong type".to_owned(),
                })
            });
        (result, report)
    }))
}

/// Whether a map runs on the fast path: blocking work that needs no timer, no runtime-wide
/// permit and no per-element event.
fn takes_fast_path(
    runtime: &RuntimeInner,
    spec: &MapSpec,
    ops: &dyn ElementOps,
    options: &RunOptions,
) -> bool {
    ops.execution() == Execution::Blocking
        && spec.timeout.is_none()
        && spec.backoff.is_none()
        && runtime.in_flight.is_none()
        && options.observer.is_none()
}

/// Runs a map of at least one element on the fast path. The map starts now, inside its span
/// (see `fast::run`); await the future of a map that runs on at once.
fn run_fast(
    runtime: &Arc<RuntimeInner>,
    spec: &MapSpec,
    min_successes: usize,
    inputs: RawVec,
    ops: Box<dyn ElementOps>,
    options: RunOptions,
    started_at: Instant,
) -> fast::Started<BoxFuture<'static, fast::Outcome>> {
    let n = inputs.len;
    let span = tracing::info_span!(
        "map",
        map = %spec.name,
        n,
        min_successes,
        concurrency = spec.concurrency
    );
    let kind = ops.kind();
    let core = || {
        fast::Core::new(
            n,
            if spec.concurrency == 0 {
                n
            } else {
                spec.concurrency
            },
            min_successes,
            spec.retries,
            spec.name.clone(),
            span.clone(),
            kind,
        )
    };
    let _in_span = span.enter();
    fast::run(
        runtime,
        core,
        ops,
        inputs,
        options.cancel,
        started_at,
        &span,
    )
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

/// Runs one task call: inline when its work is known to be quick, otherwise as a map of one
/// element. Only the inline call is typed by the work; the rest is generic over the output
/// only (see [`task_on_engine`]).
pub(crate) fn run_task<'a, I, W>(
    runtime: &'a Arc<RuntimeInner>,
    name: &'a str,
    retries: u32,
    timeout: Option<Duration>,
    input: I,
    work: W,
    options: RunOptions,
) -> BoxFuture<'a, Result<W::Output, ElementFailure>>
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
        // Run at the first poll, as any future: nothing happens before.
        return Box::pin(async move {
            if options.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                return Err(inline::cancelled());
            }
            let span = tracing::info_span!("map", map = %name, n = 1usize, min_successes = 1usize);
            span.in_scope(|| inline::run(name, retries, input, &work))
        });
    }
    let ops = Box::new(TypedOps::<I, W, fast::Optional>::new(work));
    let call = TaskCall {
        name,
        retries,
        timeout,
        plain,
    };
    Box::pin(task_on_engine::<W::Output>(
        runtime,
        call,
        Elements::new(vec![input], ops),
        options,
    ))
}

/// A task call that goes through the engine.
struct TaskCall<'a> {
    name: &'a str,
    retries: u32,
    timeout: Option<Duration>,
    /// Blocking work without a timer, an observer or a cap: its time is recorded, so that
    /// later calls run inline once it is known to be quick.
    plain: bool,
}

/// Runs a task call as a map of the one element in `input`, whose output is an `O`.
async fn task_on_engine<O>(
    runtime: &Arc<RuntimeInner>,
    call: TaskCall<'_>,
    input: Elements,
    options: RunOptions,
) -> Result<O, ElementFailure> {
    let spec = MapSpec::new(call.name)
        .criterion(Criterion::All)
        .retries(call.retries)
        .timeout(call.timeout);
    let kind = input.ops().kind();
    let (result, report) = run_erased(runtime, &spec, input, options).await;
    // SAFETY: the slots of `TypedOps<_, _, Optional>` over work whose output is `O`.
    let outcome = unsafe { outcome_of::<O>((result, report)) };
    if call.plain {
        if let Some(element) = outcome.report.elements.first() {
            if element.attempts > 0 {
                inline::record_kind(kind, element.duration / element.attempts);
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
    name: String,
    min_successes: usize,
    status: MapStatus,
    elements: ElementReports,
    errors: Vec<ElementErrors>,
    outputs: Option<T>,
    elapsed: Duration,
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
    tracing::debug!(?status, counts = ?totals, ?elapsed, "map finished");
    let report = MapReport {
        map: name,
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
