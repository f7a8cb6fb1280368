//! A map of a cached task: look up, run the misses, store successes, merge.
//!
//! The seam is [`Runtime::run_map`]: this module calls it with the elements that missed, each
//! paired with its key, and with the map's work wrapped in [`StoringWork`], which queues the
//! output of each successful attempt to the store's writer thread. Hits never reach the engine,
//! so they take no concurrency slot and no attempt. The engine's indices, counts, report and
//! errors are mapped back to the whole map's, and every hit appears as a
//! [`MapEvent::Cached`] event and an [`ElementStatus::Cached`] report entry. The success
//! criterion is the map's own: hits count as successes, so the engine is asked for
//! `min_successes − hits` of the misses.

use std::any::Any;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use maptask_cache::{codec, key, Digest, Input, Store};
use maptask_core::{CacheCodec, Criterion, Execution, MapError, MapSpec, Task, TaskError};
use maptask_runtime::{
    Counts, ElementReport, ElementStatus, MapEvent, MapObserver, MapOutcome, MapReport, MapStatus,
    OutputHook, RunOptions, Runtime, Work,
};

use super::{BoundValues, Components};

/// What a cached map needs to know about its task.
pub(crate) struct Plan<T: Task> {
    pub store: Store,
    pub codec: CacheCodec<T::Inputs, T::Output>,
    pub version: &'static str,
}

/// The parts of a `MapTask` that the cached run reads.
pub(crate) struct MapShape<'a> {
    pub mapped_names: &'static [&'static str],
    pub bound_names: &'static [&'static str],
    pub bound: &'a (dyn BoundValues + Sync),
}

/// Where one key input comes from.
enum Slot {
    /// A bound value: hashed once for the whole map.
    Bound(Digest),
    /// Mapped parameter number `j`, hashed per element.
    Mapped(usize),
}

/// How each element's key is made: the kept inputs, sorted by name.
struct KeyPlan {
    task: &'static str,
    version: &'static str,
    slots: Vec<(&'static str, Slot)>,
    /// Per mapped parameter: its index in the task's parameters, or `None` when ignored.
    mapped: Vec<Option<usize>>,
    encode_input: fn(usize, &dyn Any, &mut Vec<u8>) -> Result<(), maptask_core::CodecError>,
}

impl KeyPlan {
    fn new<T: Task>(plan: &Plan<T>, shape: &MapShape<'_>) -> Result<KeyPlan, String> {
        let ignore = plan.codec.ignore;
        let index_of = |name: &str| T::PARAMS.iter().position(|p| *p == name);
        let mut slots = Vec::new();
        let mut scratch = Vec::new();
        let mut failure = None;
        shape.bound.visit(&mut |k, value| {
            let Some(&name) = shape.bound_names.get(k) else {
                return;
            };
            if ignore.contains(&name) || failure.is_some() {
                return;
            }
            let Some(index) = index_of(name) else {
                failure = Some(format!("`{name}` is not a parameter"));
                return;
            };
            scratch.clear();
            match (plan.codec.encode_input)(index, value, &mut scratch) {
                Ok(()) => slots.push((
                    name,
                    Slot::Bound(Input::from_canonical(name, &scratch).digest),
                )),
                Err(e) => failure = Some(format!("bound value `{name}`: {e}")),
            }
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
        let mut mapped = Vec::new();
        for (j, &name) in shape.mapped_names.iter().enumerate() {
            if ignore.contains(&name) {
                mapped.push(None);
                continue;
            }
            let index = index_of(name).ok_or_else(|| format!("`{name}` is not a parameter"))?;
            mapped.push(Some(index));
            slots.push((name, Slot::Mapped(j)));
        }
        slots.sort_unstable_by(|a, b| a.0.cmp(b.0));
        Ok(KeyPlan {
            task: T::NAME,
            version: plan.version,
            slots,
            mapped,
            encode_input: plan.codec.encode_input,
        })
    }

    /// The digest of every element, in order. What the elements share (the task, the version
    /// and the bound values that sort before the first mapped input) is hashed once.
    fn digests<M: Components>(&self, elements: &[M]) -> Result<Vec<Digest>, String> {
        let mut scratch = Vec::new();
        let mut mapped = vec![Digest([0; 32]); self.mapped.len()];
        let mut digests = Vec::with_capacity(elements.len());
        let first_mapped = self
            .slots
            .iter()
            .position(|(_, slot)| matches!(slot, Slot::Mapped(_)))
            .unwrap_or(self.slots.len());
        let mut shared = key::DigestBuilder::new(self.task, self.version, self.slots.len());
        for (name, slot) in &self.slots[..first_mapped] {
            if let Slot::Bound(digest) = slot {
                shared.input(name, digest);
            }
        }
        for element in elements {
            let mut failure = None;
            element.visit(&mut |j, value| {
                if let Some(Some(index)) = self.mapped.get(j) {
                    scratch.clear();
                    match (self.encode_input)(*index, value, &mut scratch) {
                        Ok(()) => mapped[j] = Input::from_canonical("", &scratch).digest,
                        Err(e) => failure = Some(e.to_string()),
                    }
                }
            });
            if let Some(failure) = failure {
                return Err(failure);
            }
            let mut builder = shared.clone();
            for (name, slot) in &self.slots[first_mapped..] {
                match slot {
                    Slot::Bound(digest) => builder.input(name, digest),
                    Slot::Mapped(j) => builder.input(name, &mapped[*j]),
                }
            }
            digests.push(builder.finish());
        }
        Ok(digests)
    }
}

/// Stores the outputs of successful attempts.
pub(crate) struct Sink<O> {
    store: Store,
    task: Arc<str>,
    header: Vec<u8>,
    encode: fn(&O, &mut Vec<u8>) -> Result<(), maptask_core::CodecError>,
    warned: AtomicBool,
}

impl<O> Sink<O> {
    fn store(&self, digest: Digest, output: &O) {
        let mut entry = Vec::with_capacity(self.header.len() + 16);
        entry.extend_from_slice(&self.header);
        let result = (self.encode)(output, &mut entry)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                self.store
                    .put(Arc::clone(&self.task), digest, entry)
                    .map_err(|e| e.to_string())
            });
        if let Err(error) = result {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "maptask cache: an output of task `{}` was not stored: {error}",
                    self.task
                );
            }
        }
    }
}

/// The map's work, storing each success under the element's key.
struct StoringWork<W, O> {
    inner: W,
    sink: Arc<Sink<O>>,
}

impl<M, W> Work<(M, Digest)> for StoringWork<W, W::Output>
where
    M: Send + 'static,
    W: Work<M>,
{
    type Output = W::Output;

    fn execution(&self) -> Execution {
        self.inner.execution()
    }

    fn call(
        &self,
        (input, digest): (M, Digest),
    ) -> impl Future<Output = Result<W::Output, TaskError>> + Send + 'static {
        let attempt = self.inner.call(input);
        let sink = Arc::clone(&self.sink);
        async move {
            let result = attempt.await;
            if let Ok(output) = &result {
                sink.store(digest, output);
            }
            result
        }
    }

    fn call_blocking(&self, (input, digest): (M, Digest)) -> Result<W::Output, TaskError> {
        let result = self.inner.call_blocking(input);
        if let Ok(output) = &result {
            self.sink.store(digest, output);
        }
        result
    }
}

/// A cached map after its lookup: the hits, and the misses still to run.
pub(crate) struct Planned<M, O> {
    spec: MapSpec,
    started: Instant,
    min_successes: usize,
    options: RunOptions,
    outputs: Vec<Option<O>>,
    remap: Arc<Remap>,
    /// The misses, each with its key; taken by [`Planned::take_misses`].
    misses: Vec<(M, Digest)>,
    sink: Arc<Sink<O>>,
    store: Store,
}

/// The misses of a [`Planned`] map: what the engine or a backend runs.
pub(crate) struct Misses<M> {
    /// The map's specification, asking for the successes the hits leave to find.
    pub spec: MapSpec,
    /// The elements, each with its key.
    pub elements: Vec<(M, Digest)>,
    /// The map's options, with an observer that maps the misses' indices and counts back to
    /// the whole map's.
    pub options: RunOptions,
}

/// Computes every element's key and looks them all up. `Err` gives the elements back when the
/// map must run without the cache: its keys cannot be computed (one warning), or its
/// specification is for the engine to reject.
pub(crate) fn prepare<T, M>(
    plan: Plan<T>,
    spec: &MapSpec,
    shape: MapShape<'_>,
    elements: Vec<M>,
    options: RunOptions,
) -> Result<Planned<M, T::Output>, Vec<M>>
where
    T: Task,
    M: Components,
{
    let started = Instant::now();
    let n = elements.len();
    let min_successes = match spec.criterion.min_successes(n) {
        Ok(m) if n > 0 => m,
        _ => return Err(elements),
    };
    let digests = match KeyPlan::new(&plan, &shape).and_then(|keys| keys.digests(&elements)) {
        Ok(digests) => digests,
        Err(error) => {
            tracing::warn!(
                "maptask cache: map `{}` runs without the cache: {error}",
                spec.name
            );
            return Err(elements);
        }
    };
    let header = codec::header(&T::interface().output.to_string());
    let outputs = lookup(&plan, &header, &digests);
    let hits = outputs.iter().filter(|o| o.is_some()).count();

    let mut misses = Vec::with_capacity(n - hits);
    let mut miss_index = Vec::with_capacity(n - hits);
    for (i, (element, digest)) in elements.into_iter().zip(&digests).enumerate() {
        if outputs[i].is_none() {
            misses.push((element, *digest));
            miss_index.push(i);
        }
    }
    let remap = Arc::new(Remap {
        n,
        hits,
        miss_index,
    });
    if let Some(observer) = &options.observer {
        announce(observer.as_ref(), spec, n, min_successes, &outputs);
    }
    let sink = Arc::new(Sink {
        store: plan.store.clone(),
        task: Arc::from(T::NAME),
        header,
        encode: plan.codec.encode_output,
        warned: AtomicBool::new(false),
    });
    Ok(Planned {
        spec: spec.clone(),
        started,
        min_successes,
        options,
        outputs,
        remap,
        misses,
        sink,
        store: plan.store,
    })
}

impl<M, O> Planned<M, O> {
    /// The misses to run, or `None` when every element hit.
    pub(crate) fn take_misses(&mut self) -> Option<Misses<M>> {
        if self.misses.is_empty() {
            return None;
        }
        let mut spec = self.spec.clone();
        spec.criterion = Criterion::MinSuccesses(self.min_successes - self.remap.hits);
        let options = RunOptions {
            observer: self.options.observer.clone().map(|inner| {
                Arc::new(RemapObserver {
                    inner,
                    remap: Arc::clone(&self.remap),
                }) as Arc<dyn MapObserver>
            }),
            cancel: self.options.cancel.clone(),
        };
        Some(Misses {
            spec,
            elements: std::mem::take(&mut self.misses),
            options,
        })
    }

    /// What stores the output of a miss that succeeded.
    pub(crate) fn sink(&self) -> Arc<Sink<O>> {
        Arc::clone(&self.sink)
    }

    /// Waits until every stored output is committed, and merges the hits with `sub`, the
    /// outcome of the misses (`None` when there were none).
    pub(crate) async fn finish(self, sub: Option<MapOutcome<O>>) -> MapOutcome<O> {
        if let Err(error) = self.store.flush_async().await {
            tracing::warn!(
                "maptask cache: results of map `{}` may not all be stored: {error}",
                self.spec.name
            );
        }
        let outcome = merge(
            &self.spec,
            self.min_successes,
            &self.remap,
            self.outputs,
            sub,
            self.started.elapsed(),
        );
        if let (Some(observer), true) = (&self.options.observer, self.remap.miss_index.is_empty()) {
            // Nothing ran, so nobody else ends the map's event stream.
            deliver(
                observer.as_ref(),
                &MapEvent::MapFinished {
                    map: Arc::from(self.spec.name.as_str()),
                    status: outcome.report.status,
                    elapsed: outcome.report.elapsed,
                    counts: outcome.report.totals,
                },
            );
        }
        outcome
    }
}

/// Runs a map of a cached task on the engine: only the misses run, and each success is stored
/// as soon as its attempt returns.
pub(crate) async fn run_map<T, M, W>(
    plan: Plan<T>,
    runtime: &Runtime,
    spec: &MapSpec,
    shape: MapShape<'_>,
    elements: Vec<M>,
    work: W,
    options: RunOptions,
) -> MapOutcome<T::Output>
where
    T: Task,
    M: Components + Clone + Send + 'static,
    W: Work<M, Output = T::Output>,
{
    let mut planned = match prepare(plan, spec, shape, elements, options.clone()) {
        Ok(planned) => planned,
        Err(elements) => return runtime.run_map(spec, elements, work, options).await,
    };
    let sub = match planned.take_misses() {
        None => None,
        Some(misses) => {
            let storing = StoringWork {
                inner: work,
                sink: planned.sink(),
            };
            Some(
                runtime
                    .run_map(&misses.spec, misses.elements, storing, misses.options)
                    .await,
            )
        }
    };
    planned.finish(sub).await
}

/// Runs a map of a cached task on a backend: only the misses go to `run` (which runs them
/// elsewhere, e.g. one child process each), with a hook that stores each success as soon as the
/// backend has its output; what the backend did not hand to the hook is stored from the outcome.
pub(crate) async fn run_on_backend<T, M, F, Fut>(
    plan: Plan<T>,
    spec: &MapSpec,
    shape: MapShape<'_>,
    elements: Vec<M>,
    options: RunOptions,
    run: F,
) -> MapOutcome<T::Output>
where
    T: Task,
    M: Components,
    F: FnOnce(MapSpec, Vec<M>, RunOptions, Option<OutputHook>) -> Fut,
    Fut: Future<Output = MapOutcome<T::Output>>,
{
    let mut planned = match prepare(plan, spec, shape, elements, options.clone()) {
        Ok(planned) => planned,
        Err(elements) => return run(spec.clone(), elements, options, None).await,
    };
    let sub = match planned.take_misses() {
        None => None,
        Some(misses) => {
            let (elements, digests): (Vec<M>, Vec<Digest>) = misses.elements.into_iter().unzip();
            let digests = Arc::new(digests);
            let stored: Arc<Vec<AtomicBool>> =
                Arc::new((0..digests.len()).map(|_| AtomicBool::new(false)).collect());
            let hook: OutputHook = {
                let (sink, digests, stored) =
                    (planned.sink(), Arc::clone(&digests), Arc::clone(&stored));
                Arc::new(move |i: usize, output: &(dyn Any + Send)| {
                    if let (Some(output), Some(digest)) =
                        (output.downcast_ref::<T::Output>(), digests.get(i))
                    {
                        if !stored[i].swap(true, Ordering::Relaxed) {
                            sink.store(*digest, output);
                        }
                    }
                })
            };
            let outcome = run(misses.spec, elements, misses.options, Some(hook)).await;
            if let Ok(outputs) = &outcome.result {
                let sink = planned.sink();
                for (i, output) in outputs.iter().enumerate() {
                    if let Some(output) = output {
                        if !stored[i].swap(true, Ordering::Relaxed) {
                            sink.store(digests[i], output);
                        }
                    }
                }
            }
            Some(outcome)
        }
    };
    planned.finish(sub).await
}

/// Looks every digest up in one read transaction and decodes the hits. An entry that cannot be
/// used is a miss, reported once per map.
fn lookup<T: Task>(plan: &Plan<T>, header: &[u8], digests: &[Digest]) -> Vec<Option<T::Output>> {
    let mut outputs: Vec<Option<T::Output>> = Vec::with_capacity(digests.len());
    outputs.resize_with(digests.len(), || None);
    let mut unusable = 0usize;
    let mut first_reason = None;
    let decode = plan.codec.decode_output;
    let result = plan.store.lookup(T::NAME, digests, |i, entry| {
        let decoded = codec::payload(entry, header)
            .map_err(|e| e.to_string())
            .and_then(|payload| decode(payload).map_err(|e| e.to_string()));
        match decoded {
            Ok(output) => outputs[i] = Some(output),
            Err(reason) => {
                unusable += 1;
                first_reason.get_or_insert(reason);
            }
        }
    });
    if let Err(error) = result {
        tracing::warn!(
            "maptask cache: lookups of task `{}` failed, every element runs: {error}",
            T::NAME
        );
        outputs.iter_mut().for_each(|o| *o = None);
    } else if let Some(reason) = first_reason {
        tracing::warn!(
            "maptask cache: {unusable} stored result(s) of task `{}` cannot be used ({reason}); those elements run again",
            T::NAME
        );
    }
    outputs
}

/// The indices of the misses in the whole map.
struct Remap {
    n: usize,
    hits: usize,
    miss_index: Vec<usize>,
}

impl Remap {
    fn index(&self, sub: usize) -> usize {
        self.miss_index.get(sub).copied().unwrap_or(sub)
    }

    fn counts(&self, sub: Counts) -> Counts {
        Counts {
            total: self.n,
            succeeded: sub.succeeded + self.hits,
            cached: sub.cached + self.hits,
            ..sub
        }
    }
}

/// `MapStarted` for the whole map, then one `Cached` event per hit.
fn announce<O>(
    observer: &dyn MapObserver,
    spec: &MapSpec,
    n: usize,
    min_successes: usize,
    outputs: &[Option<O>],
) {
    let map: Arc<str> = Arc::from(spec.name.as_str());
    let mut counts = Counts {
        total: n,
        pending: n,
        ..Counts::default()
    };
    deliver(
        observer,
        &MapEvent::MapStarted {
            map: Arc::clone(&map),
            n,
            min_successes,
            concurrency: spec.concurrency,
            counts,
        },
    );
    for (index, _) in outputs.iter().enumerate().filter(|(_, o)| o.is_some()) {
        counts.pending -= 1;
        counts.succeeded += 1;
        counts.cached += 1;
        deliver(
            observer,
            &MapEvent::Cached {
                map: Arc::clone(&map),
                index,
                counts,
            },
        );
    }
}

/// Delivers an event; an observer's panic must not take down the map, as in the engine.
pub(crate) fn deliver(observer: &dyn MapObserver, event: &MapEvent) {
    let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        observer.on_event(event);
    }));
    if delivered.is_err() {
        tracing::error!("a map observer panicked; the event was dropped");
    }
}

/// Forwards the engine's events of the misses with the whole map's indices and counts. The
/// engine's `MapStarted` is dropped: the whole map's was already sent.
struct RemapObserver {
    inner: Arc<dyn MapObserver>,
    remap: Arc<Remap>,
}

impl MapObserver for RemapObserver {
    fn on_event(&self, event: &MapEvent) {
        let r = &self.remap;
        let mapped = match event.clone() {
            MapEvent::MapStarted { .. } => return,
            MapEvent::Started {
                map,
                index,
                attempt,
                counts,
            } => MapEvent::Started {
                map,
                index: r.index(index),
                attempt,
                counts: r.counts(counts),
            },
            MapEvent::Succeeded {
                map,
                index,
                attempt,
                elapsed,
                duration,
                counts,
            } => MapEvent::Succeeded {
                map,
                index: r.index(index),
                attempt,
                elapsed,
                duration,
                counts: r.counts(counts),
            },
            MapEvent::Failed {
                map,
                index,
                attempt,
                error,
                will_retry,
                retry_in,
                elapsed,
                duration,
                counts,
            } => MapEvent::Failed {
                map,
                index: r.index(index),
                attempt,
                error,
                will_retry,
                retry_in,
                elapsed,
                duration,
                counts: r.counts(counts),
            },
            MapEvent::TimedOut {
                map,
                index,
                attempt,
                timeout,
                will_retry,
                retry_in,
                duration,
                counts,
            } => MapEvent::TimedOut {
                map,
                index: r.index(index),
                attempt,
                timeout,
                will_retry,
                retry_in,
                duration,
                counts: r.counts(counts),
            },
            MapEvent::Cached { map, index, counts } => MapEvent::Cached {
                map,
                index: r.index(index),
                counts: r.counts(counts),
            },
            MapEvent::Cancelled {
                map,
                index,
                attempt,
                counts,
            } => MapEvent::Cancelled {
                map,
                index: r.index(index),
                attempt,
                counts: r.counts(counts),
            },
            MapEvent::MapFinished {
                map,
                status,
                elapsed,
                counts,
            } => MapEvent::MapFinished {
                map,
                status,
                elapsed,
                counts: r.counts(counts),
            },
            other => other,
        };
        self.inner.on_event(&mapped);
    }
}

/// The whole map's outcome from the hits and the engine's outcome over the misses.
fn merge<O>(
    spec: &MapSpec,
    min_successes: usize,
    remap: &Remap,
    mut outputs: Vec<Option<O>>,
    sub: Option<MapOutcome<O>>,
    elapsed: Duration,
) -> MapOutcome<O> {
    let cached = ElementReport {
        status: ElementStatus::Cached,
        attempts: 0,
        duration: Duration::ZERO,
    };
    let mut elements: Vec<ElementReport> = outputs
        .iter()
        .map(|o| {
            if o.is_some() {
                cached
            } else {
                ElementReport {
                    status: ElementStatus::NotStarted,
                    attempts: 0,
                    duration: Duration::ZERO,
                }
            }
        })
        .collect();
    let Some(sub) = sub else {
        let totals = remap.counts(Counts::default());
        let report = MapReport {
            map: spec.name.clone(),
            n: remap.n,
            min_successes,
            status: MapStatus::Succeeded,
            elements: elements.into_iter().collect(),
            errors: Vec::new(),
            totals,
            elapsed,
        };
        return MapOutcome {
            result: Ok(outputs),
            report,
        };
    };
    for (sub_index, element) in sub.report.elements.iter().enumerate() {
        elements[remap.index(sub_index)] = *element;
    }
    let errors = sub
        .report
        .errors
        .into_iter()
        .map(|mut e| {
            e.index = remap.index(e.index);
            e
        })
        .collect();
    let report = MapReport {
        map: spec.name.clone(),
        n: remap.n,
        min_successes,
        status: sub.report.status,
        elements: elements.into_iter().collect(),
        errors,
        totals: remap.counts(sub.report.totals),
        elapsed,
    };
    let result = match sub.result {
        Ok(sub_outputs) => {
            for (sub_index, output) in sub_outputs.into_iter().enumerate() {
                outputs[remap.index(sub_index)] = output;
            }
            Ok(outputs)
        }
        Err(MapError::TooManyFailures { map, .. }) => {
            let failures = report.failures();
            Err(MapError::TooManyFailures {
                map,
                n: remap.n,
                min_successes,
                summary: maptask_core::error::summarize_failures(&failures),
                failures,
            })
        }
        Err(other) => Err(other),
    };
    MapOutcome { result, report }
}

/// The plan of a map of task `T` with this store choice, when `T` is cached and a store is
/// available.
pub(crate) fn plan<T: Task>(choice: &super::CacheChoice, runtime: &Runtime) -> Option<Plan<T>> {
    let codec = super::codec_of::<T>()?;
    let version = T::METADATA.cache_version?;
    let store = choice.resolve(runtime)?;
    Some(Plan {
        store,
        codec,
        version,
    })
}
