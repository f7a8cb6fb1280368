//! [`MapTask`]: a task mapped over lists, the value `map_task!` builds.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::workflow::Overrides;
use futures::future::{BoxFuture, Either};
use futures::FutureExt;
use maptask_core::{
    Criterion, Interface, MapError, MapSpec, Param, Ratio, SpecError, Task, TaskError, TypeDesc,
};
use maptask_runtime::{MapOutcome, MapReport, MapStatus, RunOptions, Runtime, Work};

mod sealed {
    pub trait Sealed {}
}

/// Whether a map tolerates failed elements, decided at compile time by `map_task!`.
pub trait Tolerance: sealed::Sealed + Send + Sync + 'static {
    /// Whether failures can be tolerated.
    const TOLERANT: bool;
    /// The map's output for task output `O`: `Vec<O>` or `Vec<Option<O>>`.
    type Output<O: Send>: Send;
    /// Turns the engine's per-index results into the map's output.
    fn collect<O: Send>(
        outputs: Vec<Option<O>>,
        report: &MapReport,
    ) -> Result<Self::Output<O>, MapError>;
    /// Runs `elements` on the engine with `work`, keeping the outputs in this tolerance's
    /// form: unwrapped (`Strict`, see `Runtime::run_map_all`) or as `Option`s. One method per
    /// tolerance, so that a map instantiates the engine's typed side for its own form only.
    #[doc(hidden)]
    fn run_on<'a, M, W>(
        runtime: &'a Runtime,
        spec: &'a MapSpec,
        elements: Vec<M>,
        work: W,
        options: RunOptions,
    ) -> Self::Run<'a, W::Output>
    where
        M: Clone + Send + 'static,
        W: Work<M>;
    /// The future of [`Tolerance::run_on`]: the engine's own, not boxed again.
    #[doc(hidden)]
    type Run<'a, O: Send + 'static>: std::future::Future<Output = Ran<Self, O>> + Send + 'a;
    /// How the map's output is copied for each node that uses it in a workflow.
    #[doc(hidden)]
    fn share<O: Clone + Send>() -> crate::workflow::Share<Self::Output<O>>;
}

/// Every element must succeed: the output is `Vec<T>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Strict;

/// Some elements may fail: the output is `Vec<Option<T>>`, `None` at each failed index.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tolerant;

impl sealed::Sealed for Strict {}
impl sealed::Sealed for Tolerant {}

impl Tolerance for Strict {
    const TOLERANT: bool = false;
    type Output<O: Send> = Vec<O>;

    fn collect<O: Send>(outputs: Vec<Option<O>>, report: &MapReport) -> Result<Vec<O>, MapError> {
        report.require_all(outputs)
    }

    fn run_on<'a, M, W>(
        runtime: &'a Runtime,
        spec: &'a MapSpec,
        elements: Vec<M>,
        work: W,
        options: RunOptions,
    ) -> Self::Run<'a, W::Output>
    where
        M: Clone + Send + 'static,
        W: Work<M>,
    {
        // Every output is needed: the engine hands them over unwrapped (without a pass over
        // `Option`s, and in the inputs' buffer when the layouts agree).
        runtime.run_map_all(spec, elements, work, options)
    }

    type Run<'a, O: Send + 'static> = maptask_runtime::MapFuture<'a, Ran<Self, O>>;

    fn share<O: Clone + Send>() -> crate::workflow::Share<Vec<O>> {
        crate::workflow::share_of()
    }
}

impl Tolerance for Tolerant {
    const TOLERANT: bool = true;
    type Output<O: Send> = Vec<Option<O>>;

    fn collect<O: Send>(
        outputs: Vec<Option<O>>,
        _: &MapReport,
    ) -> Result<Vec<Option<O>>, MapError> {
        Ok(outputs)
    }

    fn run_on<'a, M, W>(
        runtime: &'a Runtime,
        spec: &'a MapSpec,
        elements: Vec<M>,
        work: W,
        options: RunOptions,
    ) -> Self::Run<'a, W::Output>
    where
        M: Clone + Send + 'static,
        W: Work<M>,
    {
        let split: Split<W::Output> = |outcome| (outcome.result, outcome.report);
        runtime.run_map(spec, elements, work, options).map(split)
    }

    type Run<'a, O: Send + 'static> =
        futures::future::Map<maptask_runtime::MapFuture<'a, MapOutcome<O>>, Split<O>>;

    fn share<O: Clone + Send>() -> crate::workflow::Share<Vec<Option<O>>> {
        crate::workflow::share_of()
    }
}

/// A tolerant map's outcome as its result and report.
type Split<O> = fn(MapOutcome<O>) -> Ran<Tolerant, O>;

/// The success criterion as `map_task!` received it; checked when the map runs.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum CriterionInput {
    /// No criterion: every element must succeed.
    All,
    /// A literal ratio, already checked to lie in [0, 1] by the macro.
    RatioLiteral(&'static str),
    /// A run-time ratio.
    Ratio(f64),
    /// An explicit minimum number of successes.
    MinSuccesses(usize),
}

impl CriterionInput {
    fn resolve(self) -> Result<Criterion, SpecError> {
        match self {
            CriterionInput::All => Ok(Criterion::All),
            CriterionInput::RatioLiteral(text) => Ratio::parse(text).map(Criterion::Ratio),
            CriterionInput::Ratio(value) => Ratio::from_f64(value).map(Criterion::Ratio),
            CriterionInput::MinSuccesses(m) => Ok(Criterion::MinSuccesses(m)),
        }
    }
}

/// A value bound in `map_task!`, shared by every element.
///
/// It records how to clone the value when it is built, where `map_task!` checks that the value
/// is `Clone` at the user's tokens; elements then clone it without a second check.
pub struct Bound<T> {
    value: T,
    clone: fn(&T) -> T,
}

impl<T> Bound<T> {
    #[doc(hidden)]
    pub fn new(value: T) -> Bound<T>
    where
        T: crate::__private::BoundValue,
    {
        Bound {
            value,
            clone: T::clone,
        }
    }

    /// A clone of the value, for one element.
    pub fn get(&self) -> T {
        (self.clone)(&self.value)
    }

    /// The value.
    pub fn value(&self) -> &T {
        &self.value
    }
}

/// A bound value serializes as the value (a Flyte node binds it as a literal).
impl<T: serde::Serialize> serde::Serialize for Bound<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T: fmt::Debug> fmt::Debug for Bound<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// The options of a `map_task!`, as the macro wrote them.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct MapParts {
    pub name: Option<&'static str>,
    pub mapped_names: &'static [&'static str],
    pub bound_names: &'static [&'static str],
    pub concurrency: Option<usize>,
    pub criterion: CriterionInput,
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
}

/// Runs task `T` on the element's mapped values plus the shared bound values.
struct Assembled<T: Task, M, B> {
    bound: Arc<B>,
    assemble: fn(&B, M) -> T::Inputs,
    /// No value is bound: every parameter is mapped, in declaration order, so `assemble` (as
    /// `map_task!` writes it) returns an element's mapped values as they are.
    unbound: bool,
}

impl<T: Task, M, B> Clone for Assembled<T, M, B> {
    fn clone(&self) -> Self {
        Assembled {
            bound: Arc::clone(&self.bound),
            assemble: self.assemble,
            unbound: self.unbound,
        }
    }
}

impl<T: Task, M: 'static, B> Assembled<T, M, B> {
    /// Each element's whole inputs, boxed, for a backend.
    fn boxed_inputs(&self, elements: Vec<M>) -> Vec<Box<dyn std::any::Any + Send>>
    where
        T::Inputs: Send,
    {
        let mut boxed: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(elements.len());
        for m in elements {
            boxed.push(Box::new(self.inputs(m)));
        }
        boxed
    }

    /// The task's inputs for one element. Without bound values the mapped values are the
    /// inputs already (the same type, checked here), and are passed on without the call
    /// through `assemble`'s pointer: that call, which the compiler cannot inline, was the
    /// largest part of a quick element's cost.
    #[inline]
    fn inputs(&self, mapped: M) -> T::Inputs {
        if self.unbound && std::any::TypeId::of::<M>() == std::any::TypeId::of::<T::Inputs>() {
            let mapped = std::mem::ManuallyDrop::new(mapped);
            // SAFETY: `M` and `T::Inputs` are the same type (their `TypeId`s are equal), and
            // `mapped` is not dropped: the value moves.
            return unsafe { std::mem::transmute_copy::<M, T::Inputs>(&mapped) };
        }
        (self.assemble)(&self.bound, mapped)
    }
}

impl<T, M, B> Work<M> for Assembled<T, M, B>
where
    T: Task,
    M: Send + 'static,
    B: Send + Sync + 'static,
{
    type Output = T::Output;

    fn execution(&self) -> maptask_core::Execution {
        T::EXECUTION
    }

    fn call(
        &self,
        input: M,
    ) -> impl std::future::Future<Output = Result<T::Output, TaskError>> + Send + 'static {
        T::call(self.inputs(input))
    }

    fn call_blocking(&self, input: M) -> Result<T::Output, TaskError> {
        T::call_blocking(self.inputs(input))
    }
}

/// A task mapped over lists: what `map_task!` returns.
///
/// * `T` is the task (the function's name, as a type);
/// * `M` the tuple of one element's mapped values, in declaration order;
/// * `B` the tuple of bound values, in declaration order;
/// * `K` is [`Strict`] (output `Vec<T>`) or [`Tolerant`] (output `Vec<Option<T>>`).
///
/// Call it with one `Vec` per mapped parameter, in declaration order: `call(xs, ys)`.
pub struct MapTask<T: Task, M, B, K> {
    config: MapConfig,
    work: Assembled<T, M, B>,
    tolerance: PhantomData<fn() -> K>,
}

/// A map's options and run settings: everything about it that does not depend on its types, so
/// that it is built and cloned by code compiled once.
#[derive(Clone)]
struct MapConfig {
    name: String,
    mapped_names: &'static [&'static str],
    bound_names: &'static [&'static str],
    concurrency: usize,
    criterion: Result<Criterion, SpecError>,
    retries: u32,
    timeout: Option<Duration>,
    runtime: Option<Runtime>,
    options: RunOptions,
    cache: crate::cached::CacheChoice,
    /// The specification, built from the fields above whenever they change rather than at
    /// every call (its name is a `String`).
    spec: Result<MapSpec, SpecError>,
}

impl MapConfig {
    /// The report of a run of `n` elements that ended before any started.
    fn unstarted_report(&self, n: usize) -> MapReport {
        MapReport::unstarted(&self.name, n, 0, MapStatus::Failed, Duration::ZERO)
    }

    /// The error and report of a run of `n` elements whose specification is invalid (`source`).
    fn spec_failure(&self, source: &SpecError, n: usize) -> (MapError, MapReport) {
        let error = MapError::Spec {
            map: self.name.clone(),
            source: source.clone(),
        };
        (error, self.unstarted_report(n))
    }

    /// Builds the specification again after an option changed.
    fn rebuild_spec(&mut self) {
        self.spec = make_spec(
            &self.name,
            self.concurrency,
            &self.criterion,
            self.retries,
            self.timeout,
        );
    }

    /// Sets what a workflow's map node runs with: the workflow's runtime and options, and the
    /// node's overrides.
    fn for_node(&mut self, runtime: Runtime, options: RunOptions, overrides: &Overrides) {
        self.runtime = Some(runtime);
        self.options = options;
        self.retries = overrides.retries.unwrap_or(self.retries);
        self.timeout = overrides.timeout.or(self.timeout);
        self.concurrency = overrides.concurrency.unwrap_or(self.concurrency);
        self.rebuild_spec();
    }

    /// The runtime the map runs on: its own, or the global one.
    fn runtime(&self) -> &Runtime {
        self.runtime.as_ref().unwrap_or_else(|| Runtime::global())
    }

    /// The configuration of a map of task `task` written with `parts`; `retries` and `timeout`
    /// are the task's own, which the map's options override.
    fn new(parts: &MapParts, task: &str, retries: u32, timeout: Option<Duration>) -> MapConfig {
        let name = match parts.name {
            Some(name) => name.to_owned(),
            None => default_name(task, parts.bound_names),
        };
        let concurrency = parts.concurrency.unwrap_or(0);
        let criterion = parts.criterion.resolve();
        let retries = parts.retries.unwrap_or(retries);
        let timeout = parts.timeout.or(timeout);
        let spec = make_spec(&name, concurrency, &criterion, retries, timeout);
        MapConfig {
            name,
            mapped_names: parts.mapped_names,
            bound_names: parts.bound_names,
            concurrency,
            criterion,
            retries,
            timeout,
            runtime: None,
            options: RunOptions::default(),
            cache: crate::cached::CacheChoice::Default,
            spec,
        }
    }
}

impl<T: Task, M, B, K> Clone for MapTask<T, M, B, K> {
    fn clone(&self) -> Self {
        MapTask {
            config: self.config.clone(),
            work: self.work.clone(),
            tolerance: PhantomData,
        }
    }
}

impl<T: Task, M, B, K> fmt::Debug for MapTask<T, M, B, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapTask")
            .field("name", &self.config.name)
            .field("task", &T::NAME)
            .field("mapped", &self.config.mapped_names)
            .field("bound", &self.config.bound_names)
            .field("concurrency", &self.config.concurrency)
            .field("criterion", &self.config.criterion)
            .field("retries", &self.config.retries)
            .field("timeout", &self.config.timeout)
            .finish()
    }
}

impl<T: Task, M, B, K: Tolerance> MapTask<T, M, B, K> {
    #[doc(hidden)]
    pub fn __new(parts: MapParts, bound: B, assemble: fn(&B, M) -> T::Inputs) -> Self {
        MapTask {
            config: MapConfig::new(&parts, T::NAME, T::METADATA.retries, T::METADATA.timeout),
            work: Assembled {
                bound: Arc::new(bound),
                assemble,
                unbound: parts.bound_names.is_empty(),
            },
            tolerance: PhantomData,
        }
    }

    /// The map's name: given with `name = "…"`, or derived from the task's name and the sorted
    /// bound parameter names, e.g. `my_crate::scale.map[factor]`.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The names of the mapped parameters, in declaration order.
    pub fn mapped_names(&self) -> &'static [&'static str] {
        self.config.mapped_names
    }

    /// The names of the bound parameters, in declaration order.
    pub fn bound_names(&self) -> &'static [&'static str] {
        self.config.bound_names
    }

    /// The bound values, a tuple in the order of [`bound_names`](Self::bound_names).
    pub fn bound_values(&self) -> &B {
        &self.work.bound
    }

    /// The map's specification: concurrency, criterion, and per-element retries and timeout
    /// (the task's own unless the map overrides them).
    ///
    /// Fails when a run-time `min_success_ratio` is not a number in [0, 1].
    pub fn spec(&self) -> Result<MapSpec, SpecError> {
        self.config.spec.clone()
    }

    /// The map's interface: each mapped parameter as a list, each bound one as itself, and the
    /// output as a list of the task's output (of optional outputs when failures are tolerated).
    pub fn interface(&self) -> Interface {
        map_interface::<T, K>(self.config.mapped_names)
    }

    /// Sets what a workflow's map node runs with (see `MapConfig::for_node`).
    pub(crate) fn for_node(
        mut self,
        runtime: Runtime,
        options: RunOptions,
        overrides: &Overrides,
    ) -> Self {
        self.config.for_node(runtime, options, overrides);
        self
    }

    /// Runs on `runtime` instead of [`Runtime::global`].
    #[must_use]
    pub fn with_runtime(mut self, runtime: Runtime) -> Self {
        self.config.runtime = Some(runtime);
        self
    }

    /// Runs with these options: an observer of element events, a cancellation token.
    #[must_use]
    pub fn with_options(mut self, options: RunOptions) -> Self {
        self.config.options = options;
        self
    }

    /// Keeps the results of a cached task (`#[task(cache = "…")]`) in `store` instead of the
    /// default store (see [`crate::cache`]).
    #[cfg(feature = "cache")]
    #[must_use]
    pub fn with_cache(mut self, store: crate::cache::Store) -> Self {
        self.config.cache = crate::cached::CacheChoice::Store(store);
        self
    }

    /// Runs every element, even of a cached task, and stores nothing.
    #[must_use]
    pub fn without_cache(mut self) -> Self {
        self.config.cache = crate::cached::CacheChoice::Off;
        self
    }

    /// Overrides the concurrency (0 = unbounded).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.config.concurrency = concurrency;
        self.config.rebuild_spec();
        self
    }

    /// Overrides the per-element retries.
    #[must_use]
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.config.retries = retries;
        self.config.rebuild_spec();
        self
    }

    /// Overrides the per-attempt timeout.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.timeout = timeout;
        self.config.rebuild_spec();
        self
    }
}

impl<T, M, B, K> MapTask<T, M, B, K>
where
    T: Task,
    M: crate::__private::Components + Clone + Send + 'static,
    B: crate::__private::BoundValues + Send + Sync + 'static,
    K: Tolerance,
{
    /// Runs zipped elements on the engine.
    ///
    /// This is where a map's per-element outcomes are observed, and the place for per-element
    /// hooks such as a cache: `elements` holds every element's mapped values (index `i` is
    /// element `i`), and after `run_map` returns, `outcome.result` holds each element's output
    /// (`None` where it failed) and `outcome.report` each element's status, attempts and errors
    /// (`report.elements[i]`, `report.errors_of(i)`). Per-element *events*, as they happen, come
    /// through a [`MapObserver`](maptask_runtime::MapObserver) in the options; asking for them
    /// moves sync work off the engine's fast path (chunks without per-element messages).
    ///
    /// Not `async`: each map's own code is this choice of path and the typed side that the
    /// engine makes for it; the futures are the engine's, boxed once.
    fn run(&self, elements: Vec<M>) -> Running<'_, K, T::Output> {
        let spec = match &self.config.spec {
            Ok(spec) => spec,
            Err(source) => {
                return Either::Right(failed::<K, T::Output>(
                    self.config.spec_failure(source, elements.len()),
                ))
            }
        };
        let runtime = self.config.runtime();
        if let Some(backend) = runtime.backend() {
            return Either::Right(self.run_on_backend(backend, runtime, spec.clone(), elements));
        }
        #[cfg(feature = "cache")]
        if let Some(plan) = crate::cached::map::plan::<T>(&self.config.cache, runtime) {
            return Either::Right(Box::pin(async move {
                let shape = crate::cached::map::MapShape {
                    mapped_names: self.config.mapped_names,
                    bound_names: self.config.bound_names,
                    bound: &*self.work.bound,
                };
                let outcome = crate::cached::map::run_map(
                    plan,
                    runtime,
                    spec,
                    shape,
                    elements,
                    self.work.clone(),
                    self.config.options.clone(),
                )
                .await;
                collected::<K, T::Output>(outcome)
            }));
        }
        #[cfg(not(feature = "cache"))]
        if !matches!(self.config.cache, crate::cached::CacheChoice::Off) {
            let _ = crate::cached::codec_of::<T>();
        }
        Either::Left(K::run_on(
            runtime,
            spec,
            elements,
            self.work.clone(),
            self.config.options.clone(),
        ))
    }

    /// Runs zipped elements on the runtime's backend (e.g. one child process per element). A
    /// cached task's elements are looked up first, and only the misses go to the backend.
    fn run_on_backend<'a>(
        &'a self,
        backend: &'a Arc<dyn maptask_runtime::MapBackend>,
        runtime: &'a Runtime,
        spec: MapSpec,
        elements: Vec<M>,
    ) -> BoxFuture<'a, Ran<K, T::Output>> {
        #[cfg(feature = "cache")]
        if let Some(plan) = crate::cached::map::plan::<T>(&self.config.cache, runtime) {
            return Box::pin(async move {
                let shape = crate::cached::map::MapShape {
                    mapped_names: self.config.mapped_names,
                    bound_names: self.config.bound_names,
                    bound: &*self.work.bound,
                };
                let outcome = crate::cached::map::run_on_backend(
                    plan,
                    &spec,
                    shape,
                    elements,
                    self.config.options.clone(),
                    |spec, elements, options, on_output| {
                        self.backend_outcome(backend, runtime, spec, elements, options, on_output)
                    },
                )
                .await;
                collected::<K, T::Output>(outcome)
            });
        }
        let collect: Collect<K, T::Output> = collected::<K, T::Output>;
        Box::pin(
            self.backend_outcome(
                backend,
                runtime,
                spec,
                elements,
                self.config.options.clone(),
                None,
            )
            .map(collect),
        )
    }

    /// Runs `elements` on `backend`: each element's whole inputs, bound values included, go to
    /// the backend erased, and each output comes back erased (and, as it arrives, to
    /// `on_output`).
    fn backend_outcome(
        &self,
        backend: &Arc<dyn maptask_runtime::MapBackend>,
        runtime: &Runtime,
        spec: MapSpec,
        elements: Vec<M>,
        options: maptask_runtime::RunOptions,
        on_output: Option<maptask_runtime::OutputHook>,
    ) -> impl std::future::Future<Output = maptask_runtime::MapOutcome<T::Output>> + Send + 'static
    {
        let map = maptask_runtime::RemoteMap {
            spec,
            task: T::NAME,
            mapped: self.config.mapped_names,
            elements: self.work.boxed_inputs(elements),
            on_output,
        };
        unbox_outcome::<T::Output>(
            Arc::clone(backend),
            runtime.clone(),
            map,
            options,
            self.config.name.clone(),
        )
    }
}

/// The common length of the mapped inputs of map `name`, or an error that names each input
/// (`mapped_names`) and its length.
fn check_lengths(name: &str, mapped_names: &[&str], lengths: &[usize]) -> Result<usize, MapError> {
    // The names are gathered only for the error.
    if let Some((&first, rest)) = lengths.split_first() {
        if rest.iter().all(|&len| len == first) {
            return Ok(first);
        }
    }
    let named: Vec<(&str, usize)> = mapped_names
        .iter()
        .copied()
        .zip(lengths.iter().copied())
        .collect();
    maptask_runtime::check_lengths(name, &named)
}

/// Runs `remote` on `backend` (at the first poll, as any future), and makes its erased outcome
/// outputs of type `O`: an error names the backend and the type when one is not an `O`. Generic over the output only, so that maps of one output type share
/// it.
async fn unbox_outcome<O: 'static>(
    backend: Arc<dyn maptask_runtime::MapBackend>,
    runtime: Runtime,
    remote: maptask_runtime::RemoteMap,
    options: RunOptions,
    map: String,
) -> maptask_runtime::MapOutcome<O> {
    let outcome = backend.run_map(&runtime, remote, options).await;
    let backend = backend.name();
    let result = outcome.result.and_then(|outputs| {
        let mut unboxed = Vec::with_capacity(outputs.len());
        for output in outputs {
            unboxed.push(match output.map(|o| o.downcast::<O>()) {
                None => None,
                Some(Ok(output)) => Some(*output),
                Some(Err(_)) => {
                    return Err(MapError::Internal {
                        map,
                        message: format!(
                            "backend `{backend}` returned an output that is not `{}`",
                            std::any::type_name::<O>()
                        ),
                    })
                }
            });
        }
        Ok(unboxed)
    });
    maptask_runtime::MapOutcome {
        result,
        report: outcome.report,
    }
}

/// Zips the mapped inputs into one tuple per element. One input is wrapped in place (see
/// [`wrap_one`]).
macro_rules! zip_inputs {
    ($n:expr; $arg:ident $idx:tt) => {{
        debug_assert_eq!($arg.len(), $n);
        wrap_one($arg)
    }};
    ($n:expr; $($arg:ident $idx:tt),+) => {{
        let mut iters = ($($arg.into_iter(),)+);
        let mut elements = Vec::with_capacity($n);
        while let ($(Some($arg),)+) = ($(iters.$idx.next(),)+) {
            elements.push(($($arg,)+));
        }
        elements
    }};
}

/// What a map's run gives its caller: the outputs collected by tolerance `K`, and the report.
type Ran<K, O> = (Result<<K as Tolerance>::Output<O>, MapError>, MapReport);

/// The function that turns an outcome into a [`Ran`].
type Collect<K, O> = fn(MapOutcome<O>) -> Ran<K, O>;

/// What a map's run awaits: the engine's own future, or a boxed one (a backend, the cache, a
/// failure before the start).
type Running<'a, K, O> = Either<<K as Tolerance>::Run<'a, O>, BoxFuture<'a, Ran<K, O>>>;

/// The future of a map that failed before it started (generic over the output only, so that
/// maps of one output type share it).
fn failed<'a, K: Tolerance, O: Send + 'a>(
    (error, report): (MapError, MapReport),
) -> BoxFuture<'a, Ran<K, O>> {
    Box::pin(std::future::ready((Err(error), report)))
}

/// A map's outcome as its caller sees it: the outputs collected by the map's tolerance (`Vec<T>`
/// or `Vec<Option<T>>`), and the report.
fn collected<K: Tolerance, O: Send>(
    outcome: maptask_runtime::MapOutcome<O>,
) -> (Result<K::Output<O>, MapError>, MapReport) {
    let result = outcome
        .result
        .and_then(|outputs| K::collect(outputs, &outcome.report));
    (result, outcome.report)
}

/// `[a, b, …]` as `[(a,), (b,), …]`, in the same allocation and without touching the values
/// when `(A,)` has the layout of `A` (as rustc lays it out): a pass over a large input costs
/// as much as a quick map's elements. Otherwise (never seen) a collect, which may still reuse
/// the allocation.
fn wrap_one<A>(values: Vec<A>) -> Vec<(A,)> {
    if std::mem::size_of::<(A,)>() == std::mem::size_of::<A>()
        && std::mem::align_of::<(A,)>() == std::mem::align_of::<A>()
    {
        let mut values = std::mem::ManuallyDrop::new(values);
        // SAFETY: a one-field tuple of the field's size holds the field at offset 0 and
        // nothing else, so each `A` is a valid `(A,)`; the allocation's layout (size and
        // alignment per element, capacity) is unchanged, so the `Vec` frees it correctly.
        unsafe {
            Vec::from_raw_parts(
                values.as_mut_ptr().cast::<(A,)>(),
                values.len(),
                values.capacity(),
            )
        }
    } else {
        values.into_iter().map(|value| (value,)).collect()
    }
}

macro_rules! impl_call {
    ($($ty:ident $arg:ident $idx:tt),+) => {
        // One argument per mapped parameter is the point of `call`.
        #[allow(clippy::too_many_arguments)]
        impl<T, $($ty,)+ B, K> MapTask<T, ($($ty,)+), B, K>
        where
            T: Task,
            $($ty: Clone + Send + 'static,)+
            B: crate::__private::BoundValues + Send + Sync + 'static,
            K: Tolerance,
        {
            /// Runs the map over the mapped inputs, given in declaration order and zipped.
            ///
            /// Inputs of different lengths fail before any element runs; empty inputs return an
            /// empty output at once.
            pub fn call(
                &self,
                $($arg: Vec<$ty>),+
            ) -> impl std::future::Future<Output = Result<K::Output<T::Output>, MapError>> + Send + '_ {
                let result: fn(Ran<K, T::Output>) -> Result<K::Output<T::Output>, MapError> =
                    |(result, _)| result;
                self.call_with_report($($arg),+).map(result)
            }

            /// Like [`call`](Self::call), and also returns the engine's report: each element's
            /// status, attempts, duration and errors.
            pub fn call_with_report(
                &self,
                $($arg: Vec<$ty>),+
            ) -> impl std::future::Future<Output = (Result<K::Output<T::Output>, MapError>, MapReport)> + Send + '_ {
                let n = match check_lengths(&self.config.name, self.config.mapped_names, &[$($arg.len()),+]) {
                    Ok(n) => n,
                    Err(error) => {
                        let report = self.config.unstarted_report(0);
                        return Either::Right(failed::<K, T::Output>((error, report)));
                    }
                };
                let elements: Vec<($($ty,)+)> = zip_inputs!(n; $($arg $idx),+);
                self.run(elements)
            }
        }

        impl<T, $($ty,)+ B, K> crate::workflow::CallTuple<($(Vec<$ty>,)+)> for MapTask<T, ($($ty,)+), B, K>
        where
            T: Task,
            $($ty: Clone + Send + Sync + 'static,)+
            B: crate::__private::BoundValues + Send + Sync + 'static,
            K: Tolerance,
        {
            type Output = K::Output<T::Output>;

            fn call_tuple(
                &self,
                ($($arg,)+): ($(Vec<$ty>,)+),
            ) -> futures::future::BoxFuture<'_, Result<Self::Output, MapError>> {
                Box::pin(self.call($($arg),+))
            }
        }
    };
}

impl_call!(A0 a0 0);
impl_call!(A0 a0 0, A1 a1 1);
impl_call!(A0 a0 0, A1 a1 1, A2 a2 2);
impl_call!(A0 a0 0, A1 a1 1, A2 a2 2, A3 a3 3);
impl_call!(A0 a0 0, A1 a1 1, A2 a2 2, A3 a3 3, A4 a4 4);
impl_call!(A0 a0 0, A1 a1 1, A2 a2 2, A3 a3 3, A4 a4 4, A5 a5 5);
impl_call!(A0 a0 0, A1 a1 1, A2 a2 2, A3 a3 3, A4 a4 4, A5 a5 5, A6 a6 6);
impl_call!(A0 a0 0, A1 a1 1, A2 a2 2, A3 a3 3, A4 a4 4, A5 a5 5, A6 a6 6, A7 a7 7);

/// A map's specification from its options.
fn make_spec(
    name: &str,
    concurrency: usize,
    criterion: &Result<Criterion, SpecError>,
    retries: u32,
    timeout: Option<Duration>,
) -> Result<MapSpec, SpecError> {
    Ok(MapSpec::new(name)
        .concurrency(concurrency)
        .criterion(criterion.clone()?)
        .retries(retries)
        .timeout(timeout))
}

/// The specification of a map of task `T` written with `parts`, without building the map: what a
/// workflow's Flyte definition needs of its map nodes.
#[cfg(feature = "flyte")]
pub(crate) fn map_spec<T: Task>(parts: &MapParts) -> Result<MapSpec, SpecError> {
    let name = match parts.name {
        Some(name) => name.to_owned(),
        None => default_name(T::NAME, parts.bound_names),
    };
    Ok(MapSpec::new(name)
        .concurrency(parts.concurrency.unwrap_or(0))
        .criterion(parts.criterion.resolve()?)
        .retries(parts.retries.unwrap_or(T::METADATA.retries))
        .timeout(parts.timeout.or(T::METADATA.timeout)))
}

/// The interface of a map of task `T` over `mapped_names`, tolerant of failures when `K` is.
pub(crate) fn map_interface<T: Task, K: Tolerance>(mapped_names: &[&str]) -> Interface {
    let task = T::interface();
    let inputs = task
        .inputs
        .into_iter()
        .map(|p| {
            if mapped_names.contains(&p.name) {
                Param {
                    ty: p.ty.list_of(),
                    rust_type: leak_once(format!("Vec<{}>", p.rust_type)),
                    ..p
                }
            } else {
                p
            }
        })
        .collect();
    let element: TypeDesc = if K::TOLERANT {
        task.output.optional_of()
    } else {
        task.output
    };
    let output = element.list_of();
    let output_rust_type = if K::TOLERANT {
        format!("Vec<Option<{}>>", success_type(task.output_rust_type))
    } else {
        format!("Vec<{}>", success_type(task.output_rust_type))
    };
    Interface {
        inputs,
        output,
        output_rust_type: leak_once(output_rust_type),
    }
}

/// `task.map` or `task.map[a,b]`, with the bound names sorted so that their order in the macro
/// does not change the name.
fn default_name(task: &str, bound: &[&str]) -> String {
    if bound.is_empty() {
        return format!("{task}.map");
    }
    let mut names = bound.to_vec();
    names.sort_unstable();
    format!("{task}.map[{}]", names.join(","))
}

/// The success type of an output written as `Result<T, E>`: `T`; any other output as written.
fn success_type(output: &str) -> &str {
    let inner = output
        .rsplit_once("Result<")
        .filter(|(prefix, _)| prefix.is_empty() || prefix.ends_with("::"))
        .map(|(_, rest)| rest);
    match inner.and_then(|rest| split_first_argument(rest)) {
        Some(ok) => ok,
        None => output,
    }
}

/// The first generic argument of `T, E>` or `T>`, respecting nested brackets.
fn split_first_argument(rest: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' if depth > 0 => depth -= 1,
            ',' | '>' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
}

/// A `&'static str` for a type name built at run time. Each distinct name is leaked once, so
/// describing the same map again and again does not grow memory.
fn leak_once(text: String) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(HashSet::new()));
    let mut names = match names.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(existing) = names.get(text.as_str()) {
        return existing;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    names.insert(leaked);
    leaked
}
