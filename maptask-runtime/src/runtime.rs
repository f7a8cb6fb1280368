//! The [`Runtime`]: the compute pool, the runtime-wide cap, and the entry points.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use maptask_core::{ElementFailure, MapSpec};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::backend::MapBackend;
use crate::engine::{self, AllOutcome, MapFuture};
use crate::events::MapObserver;
use crate::pool::{ComputePool, PoolStatus};
use crate::report::MapOutcome;
use crate::work::Work;

/// Runs maps and tasks.
///
/// A runtime owns a compute pool for blocking work (started on first use) and an optional cap on
/// the elements in flight across all the maps it runs at once. Async work runs on the tokio
/// runtime that polls the map's future. Cloning is cheap and shares everything.
///
/// The futures it returns must be polled inside a tokio runtime with its time driver enabled
/// (`enable_all` or `enable_time`) when a map has a timeout or a backoff.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    compute_threads: usize,
    max_replacement_threads: usize,
    max_in_flight: Option<usize>,
    pool: OnceLock<Arc<ComputePool>>,
    pub(crate) in_flight: Option<Arc<Semaphore>>,
    /// Where maps run when not on the engine (see [`crate::backend`]).
    backend: Option<Arc<dyn MapBackend>>,
    extensions: Extensions,
}

/// Values that layers above the runtime keep on it, one per type (see
/// [`RuntimeBuilder::extension`]). Few and read rarely: a list beats a map.
#[derive(Clone, Default)]
struct Extensions(Vec<(TypeId, &'static str, Arc<dyn Any + Send + Sync>)>);

impl Extensions {
    fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        let id = TypeId::of::<T>();
        self.0.retain(|(t, _, _)| *t != id);
        self.0
            .push((id, std::any::type_name::<T>(), Arc::new(value)));
    }

    fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        let id = TypeId::of::<T>();
        self.0
            .iter()
            .find(|(t, _, _)| *t == id)
            .and_then(|(_, _, value)| value.downcast_ref::<T>())
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(_, name, _)| name))
            .finish()
    }
}

impl RuntimeInner {
    /// The compute pool, started on first use.
    pub(crate) fn pool(&self) -> Arc<ComputePool> {
        Arc::clone(self.pool.get_or_init(|| {
            Arc::new(ComputePool::new(
                self.compute_threads,
                self.max_replacement_threads,
            ))
        }))
    }
}

/// Configures a [`Runtime`].
#[derive(Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct RuntimeBuilder {
    max_in_flight: Option<usize>,
    compute_threads: Option<usize>,
    max_replacement_threads: Option<usize>,
    backend: Option<Arc<dyn MapBackend>>,
    extensions: Extensions,
}

impl fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("max_in_flight", &self.max_in_flight)
            .field("compute_threads", &self.compute_threads)
            .field("max_replacement_threads", &self.max_replacement_threads)
            .field(
                "backend",
                &self.backend.as_ref().map(|b| b.name().to_owned()),
            )
            .field("extensions", &self.extensions)
            .finish()
    }
}

impl RuntimeBuilder {
    /// Caps the elements in flight (running or waiting to retry) across every map this runtime
    /// runs at once. `None` or `Some(0)` means no cap, the default.
    pub fn max_in_flight(mut self, max: Option<usize>) -> RuntimeBuilder {
        self.max_in_flight = max.filter(|&m| m > 0);
        self
    }

    /// Sets the number of threads of the compute pool, which runs blocking work. The default is
    /// the machine's available parallelism. 0 means the default.
    pub fn compute_threads(mut self, threads: usize) -> RuntimeBuilder {
        self.compute_threads = Some(threads).filter(|&t| t > 0);
        self
    }

    /// Runs the maps of `map_task!` on `backend` (e.g. the process backend of `maptask-cli`)
    /// instead of this process's engine. Task nodes and task calls still run on the engine.
    pub fn backend(mut self, backend: Arc<dyn MapBackend>) -> RuntimeBuilder {
        self.backend = Some(backend);
        self
    }

    /// Keeps `value` on the runtime for the layers above it, which read it back with
    /// [`Runtime::extension`]; one value per type, a later one replacing an earlier one.
    ///
    /// This is how a crate that the runtime does not know configures itself per runtime: the
    /// `maptask` facade keeps the cache store of a runtime here (`maptask::cache`'s
    /// `RuntimeCacheExt::cache_store`), so that `maptask-runtime` needs no cache.
    ///
    /// ```
    /// use maptask_runtime::Runtime;
    /// #[derive(Debug, PartialEq)]
    /// struct Region(&'static str);
    /// let runtime = Runtime::builder()
    ///     .extension(Region("us"))
    ///     .extension(Region("eu"))
    ///     .build();
    /// assert_eq!(runtime.extension::<Region>(), Some(&Region("eu")));
    /// assert_eq!(runtime.extension::<u32>(), None);
    /// ```
    pub fn extension<T: Any + Send + Sync>(mut self, value: T) -> RuntimeBuilder {
        self.extensions.insert(value);
        self
    }

    /// Bounds the threads the compute pool may start to replace threads stuck in abandoned
    /// blocking attempts.
    ///
    /// A blocking attempt cannot be interrupted. When its timeout passes, or its map stops while
    /// it runs, the map stops waiting for it at once (its window slot and any runtime-wide
    /// permit are freed) and the pool starts a replacement thread, so that other elements and
    /// other maps keep every compute thread. The abandoned attempt's result is discarded; its
    /// thread returns to the pool (or ends, if the pool has enough) when the function returns.
    /// (Elements of work seen to be quick, under 5 µs each, are not abandoned: they end within
    /// microseconds, and a replacement would cost more.) Past this bound, no more replacements start, a warning is logged once through `tracing`,
    /// and blocking work runs on fewer threads until stuck ones return.
    ///
    /// The default is four times the number of compute threads, and at least 8.
    pub fn max_replacement_threads(mut self, max: usize) -> RuntimeBuilder {
        self.max_replacement_threads = Some(max);
        self
    }

    /// Builds the runtime. Its compute threads start when it first runs blocking work.
    ///
    /// The first runtime built in a process also installs the filter that keeps element panics
    /// out of the panic hook (see [`filter_element_panics`](crate::filter_element_panics)).
    pub fn build(self) -> Runtime {
        crate::panics::install();
        let compute_threads = self.compute_threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let max_replacement_threads = self
            .max_replacement_threads
            .unwrap_or_else(|| (4 * compute_threads).max(8));
        let max_in_flight = self.max_in_flight.map(|m| m.min(Semaphore::MAX_PERMITS));
        Runtime {
            inner: Arc::new(RuntimeInner {
                compute_threads,
                max_replacement_threads,
                max_in_flight,
                pool: OnceLock::new(),
                in_flight: max_in_flight.map(|m| Arc::new(Semaphore::new(m))),
                backend: self.backend,
                extensions: self.extensions,
            }),
        }
    }
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::builder().build()
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("compute_threads", &self.inner.compute_threads)
            .field("max_in_flight", &self.inner.max_in_flight)
            .field(
                "max_replacement_threads",
                &self.inner.max_replacement_threads,
            )
            .field(
                "backend",
                &self.inner.backend.as_ref().map(|b| b.name().to_owned()),
            )
            .field("extensions", &self.inner.extensions)
            .finish()
    }
}

impl Runtime {
    /// A builder with the defaults: no cap on elements in flight, one compute thread per core.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The process-wide default runtime, built on first use.
    pub fn global() -> &'static Runtime {
        static GLOBAL: OnceLock<Runtime> = OnceLock::new();
        GLOBAL.get_or_init(Runtime::default)
    }

    /// The number of threads of the compute pool.
    pub fn compute_threads(&self) -> usize {
        self.inner.compute_threads
    }

    /// The compute pool's threads right now: how many are alive, and how many of them are stuck
    /// in attempts their maps abandoned (see
    /// [`RuntimeBuilder::max_replacement_threads`]). All zero before the pool's first use.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner
            .pool
            .get()
            .map_or_else(PoolStatus::default, |pool| pool.status())
    }

    /// The cap on elements in flight across all maps, if any.
    pub fn max_in_flight(&self) -> Option<usize> {
        self.inner.max_in_flight
    }

    /// The backend that runs this runtime's maps, when it is not the engine.
    pub fn backend(&self) -> Option<&Arc<dyn MapBackend>> {
        self.inner.backend.as_ref()
    }

    /// The value of type `T` kept on this runtime by [`RuntimeBuilder::extension`], if any.
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.inner.extensions.get::<T>()
    }

    /// Runs a map: `work` once per input, under `spec`.
    ///
    /// The outputs keep the input's length and order, with `None` at each failed index. The map
    /// succeeds when every element has finished and at least `min_successes` succeeded. It fails
    /// early, cancelling what runs, as soon as too many have failed for that to happen. Nothing
    /// runs when the criterion asks for more successes than there are elements
    /// ([`MapError::Spec`](maptask_core::MapError::Spec)); an empty input returns `[]` at once.
    ///
    /// Concurrency is a sliding window: at most `spec.concurrency` elements are active (running
    /// or waiting to retry), and each freed slot goes to the lowest index not yet started.
    ///
    /// Each element gets up to `spec.retries + 1` attempts. An `Err` is retried unless it is
    /// permanent; a panic is caught and is a permanent failure; a timeout is a retryable
    /// failure. Inputs are cloned only for attempts that another may follow.
    ///
    /// Dropping the future, or cancelling `options.cancel`, stops every attempt. A blocking
    /// attempt cannot be interrupted: when it times out, the map stops waiting for it at once
    /// and the pool replaces its thread (see [`RuntimeBuilder::max_replacement_threads`]); its
    /// result is discarded when the function returns.
    ///
    /// ```
    /// use maptask_core::{Criterion, MapSpec, Ratio, TaskError};
    /// use maptask_runtime::{work, RunOptions, Runtime};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let tokio = tokio::runtime::Runtime::new()?;
    /// let spec = MapSpec::new("halve")
    ///     .concurrency(2)
    ///     .criterion(Criterion::Ratio(Ratio::parse("0.5")?));
    /// let halve = work::blocking(|x: i64| {
    ///     if x % 2 == 0 { Ok(x / 2) } else { Err(TaskError::permanent_msg("odd")) }
    /// });
    /// let outcome = tokio.block_on(Runtime::global().run_map(
    ///     &spec,
    ///     vec![2, 3, 4, 6],
    ///     halve,
    ///     RunOptions::default(),
    /// ));
    /// assert_eq!(outcome.result?, vec![Some(1), None, Some(2), Some(3)]);
    /// assert_eq!(outcome.report.totals.failed, 1);
    /// assert_eq!(outcome.report.errors_of(1)[0].message(), "odd");
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_map<'a, I, W>(
        &'a self,
        spec: &'a MapSpec,
        inputs: Vec<I>,
        work: W,
        options: RunOptions,
    ) -> MapFuture<'a, MapOutcome<W::Output>>
    where
        I: Clone + Send + 'static,
        W: Work<I>,
    {
        engine::run_map(&self.inner, spec, inputs, work, options)
    }

    /// Runs a map whose caller needs every output, like [`run_map`](Self::run_map) followed by
    /// [`MapReport::require_all`](crate::MapReport::require_all): the outputs unwrapped, in
    /// input order, or an error when any element has none (the map failed, was cancelled, or
    /// its criterion let it succeed without some outputs).
    ///
    /// The report is the same as `run_map`'s. When the criterion needs every element to
    /// succeed, blocking work on the fast path keeps its outputs without `Option`s, written
    /// over the inputs when their layouts agree: no output buffer, no pass to unwrap it.
    ///
    /// ```
    /// use maptask_core::MapSpec;
    /// use maptask_runtime::{work, RunOptions, Runtime};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let tokio = tokio::runtime::Runtime::new()?;
    /// let double = work::blocking(|x: i64| Ok(2 * x));
    /// let (result, report) = tokio.block_on(Runtime::global().run_map_all(
    ///     &MapSpec::new("double"),
    ///     vec![1, 2, 3],
    ///     double,
    ///     RunOptions::default(),
    /// ));
    /// assert_eq!(result?, vec![2, 4, 6]);
    /// assert_eq!(report.totals.succeeded, 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_map_all<'a, I, W>(
        &'a self,
        spec: &'a MapSpec,
        inputs: Vec<I>,
        work: W,
        options: RunOptions,
    ) -> MapFuture<'a, AllOutcome<W::Output>>
    where
        I: Clone + Send + 'static,
        W: Work<I>,
    {
        engine::run_map_all(&self.inner, spec, inputs, work, options)
    }

    /// Runs one task call with the attempt machinery of a map: up to `retries + 1` attempts,
    /// each bounded by `timeout`, with panics caught.
    ///
    /// On failure, returns the element's attempts and every attempt's error; a cancelled call's
    /// last error is [`TaskError::cancelled`](maptask_core::TaskError::cancelled).
    pub fn run_task<'a, I, W>(
        &'a self,
        name: &'a str,
        retries: u32,
        timeout: Option<Duration>,
        input: I,
        work: W,
        options: RunOptions,
    ) -> impl std::future::Future<Output = Result<W::Output, ElementFailure>> + Send + 'a
    where
        I: Clone + Send + 'static,
        W: Work<I>,
    {
        engine::run_task(&self.inner, name, retries, timeout, input, work, options)
    }
}

/// Per-run options: an observer of events and a cancellation token.
#[derive(Default, Clone)]
pub struct RunOptions {
    /// Receives every event of the run.
    pub observer: Option<Arc<dyn MapObserver>>,
    /// Cancels the run when cancelled. The map then ends with
    /// [`MapError::Cancelled`](maptask_core::MapError::Cancelled).
    pub cancel: Option<CancellationToken>,
}

impl RunOptions {
    /// No observer, no token.
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    /// Sets the observer.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn MapObserver>) -> RunOptions {
        self.observer = Some(observer);
        self
    }

    /// Sets the cancellation token.
    #[must_use]
    pub fn cancel(mut self, token: CancellationToken) -> RunOptions {
        self.cancel = Some(token);
        self
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("observer", &self.observer.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}
