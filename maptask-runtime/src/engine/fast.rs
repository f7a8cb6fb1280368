//! The fast path: blocking work without a timeout, a backoff, a runtime-wide cap or an
//! observer, run in contiguous chunks on the compute pool.
//!
//! Pool threads claim chunks of consecutive indices, lowest first, under the concurrency window
//! (a claimed element holds a slot until its chunk ends, so at most `concurrency` elements are
//! ever claimed and unfinished). Each thread runs its chunk in order, retries an element at once
//! on its own thread (an element waiting to retry keeps its slot, as everywhere), takes each
//! input out of the input buffer and writes each output in place into the output buffer. Nothing
//! is sent, allocated or recorded per element on the way: a chunk records one line (where it
//! starts, how many elements it ran, their mean time), and only failures take a lock.
//!
//! A chunk starts at one element and doubles while its elements take under 5 µs on average, up
//! to [`MAX_CHUNK`] and to a share of what is left, so slow elements are taken one at a time
//! (none waits behind another while a thread is free) and quick ones cost a lock and two clock
//! reads per few thousand elements.
//!
//! The first failure that leaves too few possible successes stops the map at once: no element
//! starts afterwards (each thread checks before every element), and the map's future returns
//! without waiting for the elements still running, whose results are discarded.
//!
//! The scheduling below ([`Core`]) is not generic: each map instantiates only [`Buffers`]'s
//! element loop and its buffer handling.

use std::any::TypeId;
use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::ops::Range;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;
use maptask_core::TaskError;

use super::inbox::lock;
use super::inline;
use crate::events::MapStatus;
use crate::panics;
use crate::pool::PoolJob;
use crate::report::{ElementReport, ElementReports, ElementStatus};
use crate::work::Work;

/// The most elements one chunk holds.
const MAX_CHUNK: usize = 4096;
/// Elements quicker than this on average are taken in growing chunks.
const QUICK: Duration = Duration::from_micros(5);
/// How long a thread drains one map before it lets other jobs of the pool have its thread.
const QUANTUM: Duration = Duration::from_millis(2);
/// How long the caller of a map of work known to be quick runs its elements before it hands the
/// rest to the pool.
const INLINE_BUDGET: Duration = Duration::from_micros(100);

/// One chunk's record: elements `start..start + ran` ran (of `len` claimed), `each` long on
/// average.
#[derive(Clone, Copy)]
struct ChunkLine {
    start: usize,
    len: usize,
    ran: usize,
    each: Duration,
}

/// An element whose report is not "succeeded at its first attempt".
#[derive(Clone, Copy)]
struct Exception {
    index: usize,
    attempts: u32,
    status: ElementStatus,
}

/// What the map records, under one lock taken once per chunk and once per failed attempt.
#[derive(Default)]
struct Record {
    /// Set when the map stopped: nothing recorded afterwards counts.
    verdict: Option<MapStatus>,
    chunks: Vec<ChunkLine>,
    exceptions: Vec<Exception>,
    errors: Vec<(usize, TaskError)>,
    failed: usize,
}

struct Claims {
    /// The lowest index not claimed yet.
    next: usize,
    /// Claimed elements whose chunk has not ended.
    active: usize,
    /// Copies of the job queued or running.
    drainers: usize,
}

/// The map's scheduling state, shared by the pool threads and the map's future.
pub(crate) struct Core {
    pub(crate) n: usize,
    cap: usize,
    pub(crate) min_successes: usize,
    pub(crate) retries: u32,
    threads: usize,
    pub(crate) name: Arc<str>,
    span: tracing::Span,
    /// The kind of work (its type), for `inline`'s record of quick work.
    kind: TypeId,
    claims: Mutex<Claims>,
    record: Mutex<Record>,
    /// Start nothing more: the map failed early, was cancelled, or its future was dropped.
    closed: AtomicBool,
    /// Every drainer retired: nothing runs, everything claimed was written.
    done: AtomicBool,
    waker: AtomicWaker,
}

/// What a chunk's elements did, for the record: kept by the thread and handed in when the
/// chunk ends (or at the first final failure), so that retried attempts take no lock.
#[derive(Default)]
pub(crate) struct ChunkEnd {
    /// Elements run (started), from the chunk's start.
    pub(crate) ran: usize,
    errors: Vec<(usize, TaskError)>,
    exceptions: Vec<Exception>,
}

impl ChunkEnd {
    /// Moves what was kept into the record, or drops it when the map has stopped.
    fn hand_in(&mut self, record: &mut Record) {
        if record.verdict.is_none() {
            record.errors.append(&mut self.errors);
            record.exceptions.append(&mut self.exceptions);
        } else {
            self.errors.clear();
            self.exceptions.clear();
        }
    }
}

impl Core {
    pub(crate) fn new(
        n: usize,
        cap: usize,
        min_successes: usize,
        retries: u32,
        name: Arc<str>,
        span: tracing::Span,
        kind: TypeId,
    ) -> Core {
        Core {
            kind,
            n,
            cap: cap.clamp(1, n.max(1)),
            min_successes,
            retries,
            // Set by `run`, from the pool.
            threads: 1,
            name,
            span,
            claims: Mutex::new(Claims {
                next: 0,
                active: 0,
                drainers: 0,
            }),
            record: Mutex::new(Record::default()),
            closed: AtomicBool::new(false),
            done: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// The span of one attempt, when a subscriber wants element spans.
    pub(crate) fn element_span(&self, index: usize, attempt: u32) -> tracing::Span {
        tracing::debug_span!(parent: &self.span, "element", map = %self.name, index, attempt)
    }

    /// How many copies of the job to start with.
    pub(crate) fn start(&self) -> usize {
        let mut claims = lock(&self.claims);
        let wanted = self.threads.min(self.cap).min(self.n);
        claims.drainers += wanted;
        wanted
    }

    /// The map's caller joins in as a drainer (see [`Core::drain_inline`]).
    fn join_caller(&self) {
        lock(&self.claims).drainers += 1;
    }

    /// The caller stops draining. Returns how many pool copies must start to run what is left.
    fn retire_caller(&self) -> usize {
        let mut claims = lock(&self.claims);
        claims.drainers -= 1;
        let startable = if self.is_closed() {
            0
        } else {
            (self.cap - claims.active).min(self.n - claims.next)
        };
        let missing = self.threads.min(startable).saturating_sub(claims.drainers);
        claims.drainers += missing;
        if claims.drainers == 0 {
            drop(claims);
            self.done.store(true, Ordering::Release);
            self.waker.wake();
        }
        missing
    }

    /// Stops the map with `status`, unless it has stopped already.
    pub(crate) fn stop(&self, status: MapStatus) {
        let mut record = lock(&self.record);
        self.stop_locked(&mut record, status);
    }

    fn stop_locked(&self, record: &mut Record, status: MapStatus) {
        if record.verdict.is_none() {
            record.verdict = Some(status);
            self.closed.store(true, Ordering::Release);
            self.waker.wake();
        }
    }

    /// An attempt failed. Returns false when the map has stopped (the element then counts as
    /// cancelled and must not retry). A failure that another attempt follows is kept in
    /// `local` until the chunk ends; a final one is recorded at once, since it may decide the
    /// map.
    #[cold]
    pub(crate) fn attempt_failed(
        &self,
        local: &mut ChunkEnd,
        index: usize,
        attempt: u32,
        error: TaskError,
        will_retry: bool,
    ) -> bool {
        if will_retry {
            if self.is_closed() {
                return false;
            }
            local.errors.push((index, error));
            return true;
        }
        let mut record = lock(&self.record);
        if record.verdict.is_some() {
            return false;
        }
        // Earlier attempts of this element first: errors stay in attempt order.
        local.hand_in(&mut record);
        record.errors.push((index, error));
        record.exceptions.push(Exception {
            index,
            attempts: attempt,
            status: ElementStatus::Failed,
        });
        record.failed += 1;
        if self.n - record.failed < self.min_successes {
            self.stop_locked(&mut record, MapStatus::Failed);
        }
        true
    }

    /// An element succeeded after `attempts` attempts (more than one).
    #[cold]
    pub(crate) fn retried_ok(&self, local: &mut ChunkEnd, index: usize, attempts: u32) {
        local.exceptions.push(Exception {
            index,
            attempts,
            status: ElementStatus::Succeeded,
        });
    }

    /// Claims the next chunk of at most `want` elements, or retires this drainer.
    fn claim(&self, want: usize, alone: bool) -> Option<Range<usize>> {
        let mut claims = lock(&self.claims);
        let left = self.n - claims.next;
        let free = self.cap - claims.active;
        if left == 0 || free == 0 || self.is_closed() {
            claims.drainers -= 1;
            if claims.drainers == 0 {
                drop(claims);
                self.done.store(true, Ordering::Release);
                self.waker.wake();
            }
            return None;
        }
        // Leave work for the other threads: a share of what is left, and of the window.
        // (The caller, before the pool joins in, is alone.)
        let share = if alone {
            left
        } else {
            (left / (2 * self.threads)).max(1)
        };
        let window = if alone {
            self.cap
        } else {
            (self.cap / self.threads).max(1)
        };
        let k = want.min(share).min(window).min(free).min(left).max(1);
        let start = claims.next;
        claims.next += k;
        claims.active += k;
        Some(start..start + k)
    }

    /// A chunk ended: frees its slots and records it. Returns how many more drainers can start
    /// (none asked for without `company`: the caller asks when it retires).
    fn chunk_ended(
        &self,
        range: Range<usize>,
        local: &mut ChunkEnd,
        took: Duration,
        company: bool,
    ) -> usize {
        let len = range.len();
        let ran = local.ran;
        {
            let mut record = lock(&self.record);
            local.hand_in(&mut record);
            if record.verdict.is_none() && ran > 0 {
                let each = took / u32::try_from(ran).unwrap_or(u32::MAX);
                record.chunks.push(ChunkLine {
                    start: range.start,
                    len,
                    ran,
                    each,
                });
            }
        }
        let mut claims = lock(&self.claims);
        claims.active -= len;
        if self.is_closed() || !company {
            return 0;
        }
        let startable = (self.cap - claims.active).min(self.n - claims.next);
        let wanted = self.threads.min(startable);
        let missing = wanted.saturating_sub(claims.drainers);
        claims.drainers += missing;
        missing
    }

    /// One turn of a pool thread: claims and runs chunks for a while. Returns the copies of the
    /// job to queue again (see [`PoolJob::run`]).
    pub(crate) fn drain(&self, elements: &dyn RunChunk) -> usize {
        self.drain_for(elements, QUANTUM, 1, None).unwrap_or(0)
    }

    /// The map's caller runs chunks itself for up to `budget`, before any pool thread is woken:
    /// a quick map ends without a thread hand-off. Returns the pool copies to start for what is
    /// left. Only for work known to be quick (see `inline`), so that the caller, an async
    /// worker, is never held much longer than `budget`.
    pub(crate) fn drain_inline(
        &self,
        elements: &dyn RunChunk,
        budget: Duration,
        mean: Duration,
    ) -> usize {
        self.join_caller();
        let mut extra = 0;
        // A first chunk that the known mean time per element fits in a quarter of the budget.
        let per = mean.as_nanos().max(1);
        let first = usize::try_from(budget.as_nanos() / 4 / per)
            .unwrap_or(MAX_CHUNK)
            .clamp(1, MAX_CHUNK);
        if self
            .drain_for(elements, budget, first, Some(&mut extra))
            .is_none()
        {
            // Retired through `claim`: nothing was left to start.
            return extra;
        }
        extra + self.retire_caller()
    }

    /// Claims and runs chunks until nothing is left (`None`, retired) or `limit` has passed
    /// (the copies to queue again). The caller (`extra` given) keeps the count of extra drainers
    /// wanted instead of requeueing.
    fn drain_for(
        &self,
        elements: &dyn RunChunk,
        limit: Duration,
        first: usize,
        mut extra_out: Option<&mut usize>,
    ) -> Option<usize> {
        let began = Instant::now();
        let mut want = first;
        let mut local = ChunkEnd::default();
        loop {
            // The caller drains before any pool thread is asked to: it is alone.
            let alone = extra_out.is_some();
            let range = self.claim(want, alone)?;
            // No element span when no subscriber can take a DEBUG span (checked per chunk).
            let traced = super::blocking::debug_spans_enabled();
            let started = Instant::now();
            {
                // Element panics skip the panic hook (see `panics`).
                let _quiet = panics::InElement::enter();
                elements.run_chunk(self, range.clone(), traced, &mut local);
            }
            let ran = local.ran;
            let now = Instant::now();
            let took = now.saturating_duration_since(started);
            want = if ran > 0 && took < QUICK * u32::try_from(ran).unwrap_or(u32::MAX) {
                (want * 2).min(MAX_CHUNK)
            } else {
                1
            };
            inline::record_kind(
                self.kind,
                took / u32::try_from(ran.max(1)).unwrap_or(u32::MAX),
            );
            let extra = self.chunk_ended(range, &mut local, took, !alone);
            if let Some(out) = extra_out.as_deref_mut() {
                *out += extra;
                if now.saturating_duration_since(began) >= limit {
                    return Some(0);
                }
            } else if extra > 0 || now.saturating_duration_since(began) >= limit {
                // Come back at the end of the pool's queue, with company if more can start.
                return Some(1 + extra);
            }
        }
    }

    /// Polls for the end of the map: its verdict once it stopped, or `Succeeded` once every
    /// element ran and enough succeeded (`Failed` otherwise, which the failure that decided it
    /// has set already).
    pub(crate) fn poll_end(&self, cx: &mut Context<'_>) -> Poll<MapStatus> {
        self.waker.register(cx.waker());
        if let Some(verdict) = lock(&self.record).verdict {
            return Poll::Ready(verdict);
        }
        if self.done.load(Ordering::Acquire) {
            let mut record = lock(&self.record);
            let status = record.verdict.unwrap_or(MapStatus::Succeeded);
            record.verdict = Some(status);
            return Poll::Ready(status);
        }
        Poll::Pending
    }

    /// The report's parts once the map ended: per element reports, errors by element in
    /// attempt order, and whether every claimed element's output was written (the map ran to
    /// its end).
    pub(crate) fn outcome(&self) -> (ElementReports, Vec<(usize, TaskError)>) {
        let (mut chunks, exceptions, errors) = {
            let mut record = lock(&self.record);
            (
                std::mem::take(&mut record.chunks),
                std::mem::take(&mut record.exceptions),
                std::mem::take(&mut record.errors),
            )
        };
        let claimed = lock(&self.claims).next.min(self.n);
        chunks.sort_unstable_by_key(|c| c.start);
        let mut exceptions = exceptions;
        exceptions.sort_unstable_by_key(|e| e.index);
        let mut builder = Runs {
            reports: ElementReports::default(),
            exceptions: exceptions.into_iter().peekable(),
        };
        // Claimed elements outside every chunk line were running (or about to) when the map
        // stopped: cancelled, like the elements the map was running.
        let running = ElementReport {
            status: ElementStatus::Cancelled,
            attempts: 1,
            duration: Duration::ZERO,
        };
        let unrun = ElementReport {
            status: ElementStatus::Cancelled,
            attempts: 0,
            duration: Duration::ZERO,
        };
        let mut at = 0;
        for chunk in chunks {
            builder.fill(at..chunk.start, running, Duration::ZERO);
            let ok = ElementReport {
                status: ElementStatus::Succeeded,
                attempts: 1,
                duration: chunk.each,
            };
            let ran_end = chunk.start + chunk.ran;
            builder.fill(chunk.start..ran_end, ok, chunk.each);
            builder.fill(ran_end..chunk.start + chunk.len, unrun, Duration::ZERO);
            at = chunk.start + chunk.len;
        }
        builder.fill(at..claimed.max(at), running, Duration::ZERO);
        let not_started = ElementReport {
            status: ElementStatus::NotStarted,
            attempts: 0,
            duration: Duration::ZERO,
        };
        builder.fill(claimed.max(at)..self.n, not_started, Duration::ZERO);
        (builder.reports, errors)
    }
}

/// Builds element reports run by run, with the exceptions laid over them.
struct Runs {
    reports: ElementReports,
    exceptions: std::iter::Peekable<std::vec::IntoIter<Exception>>,
}

impl Runs {
    /// Reports `range` as `base`, except the exceptions in it, whose attempts each took `each`.
    fn fill(&mut self, range: Range<usize>, base: ElementReport, each: Duration) {
        let mut i = range.start;
        while let Some(e) = self.exceptions.next_if(|e| e.index < range.end) {
            if e.index < i {
                continue;
            }
            self.reports.push_run(e.index - i, base);
            self.reports.push_run(
                1,
                ElementReport {
                    status: e.status,
                    attempts: e.attempts,
                    duration: each * e.attempts,
                },
            );
            i = e.index + 1;
        }
        self.reports.push_run(range.end.saturating_sub(i), base);
    }
}

/// The typed part of a fast map: runs one chunk of elements.
pub(crate) trait RunChunk: Send + Sync {
    /// Runs the elements of `range` in order, stopping before an element once the map is
    /// closed; sets `local.ran` and keeps retried failures in `local`.
    fn run_chunk(&self, core: &Core, range: Range<usize>, traced: bool, local: &mut ChunkEnd);
}

/// A buffer of `n` values, each moved in or out exactly once by whoever owns its index.
struct Slots<T> {
    /// Holds the allocation, with a length of 0: the values are tracked by the map.
    vec: UnsafeCell<ManuallyDrop<Vec<T>>>,
    base: *mut T,
}

impl<T> Slots<T> {
    fn full(mut values: Vec<T>) -> Slots<T> {
        let base = values.as_mut_ptr();
        // SAFETY: the values stay where they are; they are now owned index by index.
        unsafe { values.set_len(0) };
        Slots {
            vec: UnsafeCell::new(ManuallyDrop::new(values)),
            base,
        }
    }

    fn empty(n: usize) -> Slots<T> {
        let mut values = Vec::with_capacity(n);
        let base = values.as_mut_ptr();
        Slots {
            vec: UnsafeCell::new(ManuallyDrop::new(values)),
            base,
        }
    }

    /// SAFETY: `i` is in bounds, holds a value, and the caller owns index `i`.
    #[inline]
    unsafe fn take(&self, i: usize) -> T {
        std::ptr::read(self.base.add(i))
    }

    /// SAFETY: `i` is in bounds, holds no value, and the caller owns index `i`.
    #[inline]
    unsafe fn put(&self, i: usize, value: T) {
        std::ptr::write(self.base.add(i), value);
    }

    /// Drops the values of `range`. SAFETY: they hold values, and nobody else uses them.
    unsafe fn drop_range(&self, range: Range<usize>) {
        if std::mem::needs_drop::<T>() && !range.is_empty() {
            let slice = std::ptr::slice_from_raw_parts_mut(self.base.add(range.start), range.len());
            std::ptr::drop_in_place(slice);
        }
    }

    /// Frees the allocation. SAFETY: called once, when no index holds a value.
    unsafe fn free(&self) {
        ManuallyDrop::drop(&mut *self.vec.get());
    }

    /// The whole buffer as a `Vec`. SAFETY: every index holds a value; called once, instead of
    /// `free`.
    unsafe fn take_vec(&self, n: usize) -> Vec<T> {
        let vec = &mut *self.vec.get();
        vec.set_len(n);
        ManuallyDrop::take(vec)
    }
}

/// The buffers of a fast map: inputs taken out, outputs written in place, index by index.
pub(crate) struct Buffers<I, W: Work<I>> {
    pub(crate) core: Core,
    work: Arc<W>,
    inputs: Slots<I>,
    outputs: Slots<Option<W::Output>>,
    /// Whether the outputs were handed over (then only the inputs are left to free).
    taken: AtomicBool,
}

// SAFETY: each index of the buffers is used by one thread at a time: the pool thread that
// claimed it (under `Core::claims`), or the map's future after every drainer retired (`done`,
// read with `Acquire` after the drainers' `Release`). Values cross threads, hence `Send`.
unsafe impl<I: Send, W: Work<I>> Sync for Buffers<I, W> {}
unsafe impl<I: Send, W: Work<I>> Send for Buffers<I, W> {}

impl<I: Clone + Send + 'static, W: Work<I>> Buffers<I, W> {
    pub(crate) fn new(core: Core, work: Arc<W>, inputs: Vec<I>) -> Buffers<I, W> {
        let n = inputs.len();
        Buffers {
            core,
            work,
            inputs: Slots::full(inputs),
            outputs: Slots::empty(n),
            taken: AtomicBool::new(false),
        }
    }

    /// The outputs, when every element ran (`done`, never stopped): `None` at each failed
    /// index.
    pub(crate) fn take_outputs(&self) -> Option<Vec<Option<W::Output>>> {
        if !self.core.done.load(Ordering::Acquire) || self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        let claimed = lock(&self.core.claims).next;
        // SAFETY: every drainer retired, so every claimed index was written and nobody runs;
        // unclaimed ones (none, unless stopped) get `None`.
        unsafe {
            for i in claimed..self.core.n {
                self.inputs.drop_range(i..i + 1);
                self.outputs.put(i, None);
            }
            lock(&self.core.claims).next = self.core.n;
            Some(self.outputs.take_vec(self.core.n))
        }
    }

    /// Runs every attempt of element `index`: retries at once on this thread.
    #[inline]
    fn run_element(
        &self,
        local: &mut ChunkEnd,
        index: usize,
        input: I,
        traced: bool,
    ) -> Option<W::Output> {
        let core = &self.core;
        let retries = core.retries;
        let mut input = Some(input);
        let mut attempt = 1;
        loop {
            // The input is cloned only while another attempt may follow.
            let last = attempt > retries;
            let arg = if last {
                input.take()
            } else {
                match panics::catch(AssertUnwindSafe(|| input.clone())) {
                    Ok(arg) => arg,
                    Err(payload) => {
                        let error =
                            panics::element_panicked(&core.name, index, attempt, payload.as_ref());
                        core.attempt_failed(local, index, attempt, error, false);
                        return None;
                    }
                }
            };
            let arg = arg?;
            let call = || match std::panic::catch_unwind(AssertUnwindSafe(|| {
                self.work.call_blocking(arg)
            })) {
                Ok(result) => result,
                Err(payload) => Err(panics::element_panicked(
                    &core.name,
                    index,
                    attempt,
                    payload.as_ref(),
                )),
            };
            let result = if traced {
                core.element_span(index, attempt).in_scope(call)
            } else {
                call()
            };
            match result {
                Ok(output) => {
                    if attempt > 1 {
                        core.retried_ok(local, index, attempt);
                    }
                    return Some(output);
                }
                Err(error) => {
                    let will_retry = !error.is_permanent() && !last;
                    if !core.attempt_failed(local, index, attempt, error, will_retry) || !will_retry
                    {
                        return None;
                    }
                    attempt += 1;
                }
            }
        }
    }
}

impl<I: Clone + Send + 'static, W: Work<I>> RunChunk for Buffers<I, W> {
    fn run_chunk(&self, core: &Core, range: Range<usize>, traced: bool, local: &mut ChunkEnd) {
        let mut i = range.start;
        while i < range.end && !core.is_closed() {
            // SAFETY: this thread claimed `range`; each index is taken and written once.
            let input = unsafe { self.inputs.take(i) };
            let output = if core.retries == 0 && !traced {
                // The common case, kept straight: one attempt, no span.
                match std::panic::catch_unwind(AssertUnwindSafe(|| self.work.call_blocking(input)))
                {
                    Ok(Ok(output)) => Some(output),
                    Ok(Err(error)) => {
                        core.attempt_failed(local, i, 1, error, false);
                        None
                    }
                    Err(payload) => {
                        let error = panics::element_panicked(&core.name, i, 1, payload.as_ref());
                        core.attempt_failed(local, i, 1, error, false);
                        None
                    }
                }
            } else {
                self.run_element(local, i, input, traced)
            };
            unsafe { self.outputs.put(i, output) };
            i += 1;
        }
        let ran = i - range.start;
        // The map stopped: the rest of the chunk never runs.
        // SAFETY: as above, for the indices of `range` not run.
        unsafe {
            self.inputs.drop_range(i..range.end);
            for j in i..range.end {
                self.outputs.put(j, None);
            }
        }
        local.ran = ran;
    }
}

impl<I: Clone + Send + 'static, W: Work<I>> PoolJob for Buffers<I, W> {
    fn run(&self) -> usize {
        self.core.drain(self)
    }
}

impl<I, W: Work<I>> Drop for Buffers<I, W> {
    fn drop(&mut self) {
        // Nobody else holds the buffers now: every claimed index holds an output, every other
        // index an input, unless the outputs were handed over.
        let claimed = self
            .core
            .claims
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next;
        // SAFETY: see above.
        unsafe {
            self.inputs.drop_range(claimed..self.core.n);
            self.inputs.free();
            if !*self.taken.get_mut() {
                self.outputs.drop_range(0..claimed);
                self.outputs.free();
            }
        }
    }
}

/// Stops the map when its future is dropped, so that nothing more starts.
struct StopOnDrop<'a>(&'a Core);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop(MapStatus::Cancelled);
    }
}

/// Runs a map on the fast path (see the module's documentation). `span` is the map's span.
pub(crate) async fn run<I, W>(
    pool: &crate::pool::ComputePool,
    mut core: Core,
    work: W,
    inputs: Vec<I>,
    cancel: Option<tokio_util::sync::CancellationToken>,
    started_at: Instant,
) -> crate::report::MapOutcome<W::Output>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    core.threads = pool.threads().max(1);
    let quick = inline::quick_mean::<W>();
    let buffers = Arc::new(Buffers::new(core, Arc::new(work), inputs));
    let job: Arc<dyn PoolJob> = buffers.clone();
    let copies = if let Some(mean) = quick {
        // Work known to be quick: the caller starts, and the pool joins only for what is left
        // after the budget.
        buffers.core.drain_inline(&*buffers, INLINE_BUDGET, mean)
    } else {
        buffers.core.start()
    };
    if copies > 0 {
        pool.submit(&job, copies);
    }
    drop(job);
    let status = {
        let core = &buffers.core;
        let _stop = StopOnDrop(core);
        let mut cancelled = cancel.map(|token| Box::pin(token.cancelled_owned()));
        std::future::poll_fn(|cx| {
            if let Some(cancelled) = &mut cancelled {
                if std::future::Future::poll(cancelled.as_mut(), cx).is_ready() {
                    core.stop(MapStatus::Cancelled);
                }
            }
            core.poll_end(cx)
        })
        .await
    };
    let outputs = match status {
        MapStatus::Succeeded => buffers.take_outputs(),
        MapStatus::Failed | MapStatus::Cancelled => None,
    };
    let (elements, errors) = buffers.core.outcome();
    super::finish_report(
        &buffers.core.name,
        buffers.core.min_successes,
        status,
        elements,
        errors,
        outputs,
        started_at,
    )
}
