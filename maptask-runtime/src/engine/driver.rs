//! The driver: the single owner of a map's state.
//!
//! The driver is polled as one future (the `run_map` future). It starts elements in index order
//! as slots free up, receives the end of every attempt, decides retries, arms backoff and
//! deadline timers, fails early, and emits every event. Attempts themselves run elsewhere: async
//! ones as tokio tasks (`tasks`), blocking ones on the compute pool (`blocking`). For blocking
//! work without a timeout or a runtime-wide cap, the pool starts fresh elements itself under the
//! same window, and the driver learns of each start from the pool's messages. Because every
//! event is emitted here, events are ordered and their counts are exact.
//!
//! Per element the driver keeps a compact [`Slot`] (state, attempts, time in attempts) and the
//! output; error lists are allocated only for elements that fail an attempt.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use maptask_core::{error::summarize_failures, Execution, MapError, TaskError};
use tokio::sync::Semaphore;
use tokio_util::sync::{PollSemaphore, WaitForCancellationFutureOwned};

use super::attempt::{run_async, run_async_timed, Done};
use super::blocking::{BlockingMap, Msg, Schedule};
use super::tasks::Tasks;
use super::timers::{Timer, TimerKind, Timers};
use crate::events::{Counts, MapEvent, MapObserver, MapStatus};
use crate::pool::{ComputePool, PoolJob};
use crate::report::{
    ElementErrors, ElementReport, ElementReports, ElementStatus, MapOutcome, MapReport,
};
use crate::work::Work;

/// The longest backoff pause, however many attempts have failed.
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 60 * 60);

/// The pause before the attempt that follows `failed` failed attempts: `base × 2^(failed − 1)`.
fn backoff_delay(base: Duration, failed: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failed.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.checked_mul(factor)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

/// Where an element is. The layout matches [`ElementReport`]'s so the report reuses the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    NotStarted,
    Running,
    Backoff,
    Succeeded,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    state: State,
    attempts: u32,
    duration: Duration,
}

/// The map's settings, fixed for the run.
pub(crate) struct Settings {
    pub(crate) name: Arc<str>,
    pub(crate) n: usize,
    pub(crate) min_successes: usize,
    pub(crate) concurrency: usize,
    pub(crate) retries: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) backoff: Option<Duration>,
}

/// Permits of the runtime-wide cap on elements in flight, held by this map.
struct Permits {
    semaphore: PollSemaphore,
    held: usize,
    to_release: usize,
}

impl Permits {
    /// Takes up to `want` permits; 0 when none is free, after arranging a wake-up for when one is.
    fn take(&mut self, cx: &mut Context<'_>, want: usize) -> usize {
        let inner = self.semaphore.clone_inner();
        let free = inner.available_permits().min(want);
        let free = u32::try_from(free).unwrap_or(u32::MAX);
        if free > 0 {
            if let Ok(permit) = inner.try_acquire_many(free) {
                permit.forget();
                self.held += free as usize;
                return free as usize;
            }
        }
        match self.semaphore.poll_acquire(cx) {
            Poll::Ready(Some(permit)) => {
                permit.forget();
                self.held += 1;
                1
            }
            // The semaphore is never closed; if it were, there would be no cap left to respect.
            Poll::Ready(None) => want,
            Poll::Pending => 0,
        }
    }

    fn release(&mut self, k: usize) {
        self.to_release += k;
    }

    fn flush(&mut self) {
        if self.to_release > 0 {
            let k = self.to_release.min(self.held);
            self.held -= k;
            self.to_release = 0;
            self.semaphore.add_permits(k);
        }
    }
}

impl Drop for Permits {
    fn drop(&mut self) {
        if self.held > 0 {
            self.semaphore.add_permits(self.held);
        }
    }
}

/// Closes a blocking map when the driver goes away, so no queued element starts afterwards.
struct CloseOnDrop<I: Send + 'static, W: Work<I>>(Arc<BlockingMap<I, W>>);

impl<I: Send + 'static, W: Work<I>> Drop for CloseOnDrop<I, W> {
    fn drop(&mut self) {
        self.0.close();
    }
}

enum Exec<I: Send + 'static, W: Work<I>> {
    Async {
        tasks: Tasks<W::Output>,
        done: Vec<Done<W::Output>>,
    },
    Blocking {
        map: CloseOnDrop<I, W>,
        job: Arc<dyn PoolJob>,
        pool: Arc<ComputePool>,
        to_queue: Vec<(usize, u32, I)>,
        msgs: Vec<Msg<I, W::Output>>,
        /// Whether the pool starts fresh elements itself (see `blocking`).
        scheduled: bool,
        /// Whether the pool was asked to start (on the first poll).
        kicked: bool,
    },
}

/// One map's state while it runs.
pub(crate) struct Driver<I: Send + 'static, W: Work<I>> {
    s: Settings,
    /// At most this many elements active at once (`n` when unbounded).
    cap: usize,
    work: Arc<W>,
    exec: Exec<I, W>,
    /// The inputs not started yet, in index order.
    inputs: std::vec::IntoIter<I>,
    /// The inputs kept for another attempt; empty when `retries == 0`.
    retained: Vec<Option<I>>,
    /// The lowest index not started yet.
    next: usize,
    outputs: Vec<Option<W::Output>>,
    slots: Vec<Slot>,
    /// Every failed attempt's error with its element's index, in the order the driver saw
    /// them (attempt order per element); grouped by index once, in `finish`.
    errors: Vec<(usize, TaskError)>,
    counts: Counts,
    timers: Timers,
    permits: Option<Permits>,
    cancel: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    observer: Option<Arc<dyn MapObserver>>,
    pub(crate) span: tracing::Span,
    started_at: Instant,
    verdict: Option<MapStatus>,
    /// Whether `MapStarted` was sent.
    announced: bool,
    /// Set when the engine broke an invariant; the map then fails with `MapError::Internal`.
    internal: Option<String>,
}

impl<I, W> Driver<I, W>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        s: Settings,
        inputs: Vec<I>,
        work: W,
        pool: impl FnOnce() -> Arc<ComputePool>,
        in_flight: Option<Arc<Semaphore>>,
        observer: Option<Arc<dyn MapObserver>>,
        cancel: Option<tokio_util::sync::CancellationToken>,
        started_at: Instant,
    ) -> Driver<I, W> {
        let n = s.n;
        let span = tracing::info_span!(
            "map",
            map = %s.name,
            n,
            min_successes = s.min_successes,
            concurrency = s.concurrency
        );
        let work = Arc::new(work);
        let cap = if s.concurrency == 0 {
            n
        } else {
            s.concurrency.min(n)
        };
        let mut inputs = Some(inputs);
        let exec = match work.execution() {
            Execution::Async => {
                let tasks = Tasks::new(n);
                // Every result must reach the driver at once while it has slots to refill, an
                // observer to feed, or runtime-wide permits to give back.
                tasks.set_eager(cap < n || observer.is_some() || in_flight.is_some());
                Exec::Async {
                    tasks,
                    done: Vec::new(),
                }
            }
            Execution::Blocking => {
                let pool = pool();
                // The pool starts elements itself unless the driver must time each attempt or
                // take runtime-wide permits for it.
                let scheduled = s.timeout.is_none() && in_flight.is_none();
                let schedule = if scheduled {
                    let schedule = Schedule {
                        n,
                        cap,
                        min_successes: s.min_successes,
                        retries: s.retries,
                        announce: observer.is_some(),
                        backoff: s.backoff.is_some(),
                    };
                    inputs.take().map(|inputs| (schedule, inputs))
                } else {
                    None
                };
                let map = Arc::new(BlockingMap::new(
                    Arc::clone(&work),
                    s.timeout,
                    pool.threads(),
                    schedule,
                    pool.handle(),
                    Arc::clone(&s.name),
                    span.clone(),
                ));
                let job: Arc<dyn PoolJob> = map.clone();
                Exec::Blocking {
                    map: CloseOnDrop(map),
                    job,
                    pool,
                    to_queue: Vec::new(),
                    msgs: Vec::new(),
                    scheduled,
                    kicked: false,
                }
            }
        };
        let retained = if s.retries > 0 {
            (0..n).map(|_| None).collect()
        } else {
            Vec::new()
        };
        Driver {
            cap,
            work,
            exec,
            inputs: inputs.unwrap_or_default().into_iter(),
            retained,
            next: 0,
            outputs: (0..n).map(|_| None).collect(),
            slots: vec![
                Slot {
                    state: State::NotStarted,
                    attempts: 0,
                    duration: Duration::ZERO,
                };
                n
            ],
            errors: Vec::new(),
            counts: Counts {
                total: n,
                pending: n,
                ..Counts::default()
            },
            timers: Timers::default(),
            permits: in_flight.map(|semaphore| Permits {
                semaphore: PollSemaphore::new(semaphore),
                held: 0,
                to_release: 0,
            }),
            cancel: cancel.map(|token| Box::pin(token.cancelled_owned())),
            observer,
            span,
            started_at,
            verdict: None,
            announced: false,
            internal: None,
            s,
        }
    }

    /// Calls the observer, if any, with the event `make` builds. Builds nothing without one.
    #[inline]
    fn emit(&self, make: impl FnOnce(Arc<str>, Counts) -> MapEvent) {
        if let Some(observer) = &self.observer {
            let event = make(Arc::clone(&self.s.name), self.counts);
            // An observer's panic must not take down the map.
            if catch_unwind(AssertUnwindSafe(|| observer.on_event(&event))).is_err() {
                tracing::error!("a map observer panicked; the event was dropped");
            }
        }
    }

    /// Drives the map until it ends.
    pub(crate) fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<MapStatus> {
        if !self.announced {
            self.announced = true;
            let (n, min_successes, concurrency) =
                (self.s.n, self.s.min_successes, self.s.concurrency);
            self.emit(|map, counts| MapEvent::MapStarted {
                map,
                n,
                min_successes,
                concurrency,
                counts,
            });
        }
        loop {
            if let Some(cancel) = &mut self.cancel {
                if cancel.as_mut().poll(cx).is_ready() {
                    self.stop(MapStatus::Cancelled);
                }
            }
            let mut progress = false;
            if self.verdict.is_none() {
                progress |= self.dispatch(cx);
            }
            if self.verdict.is_none() {
                progress |= self.poll_completions(cx);
            }
            if self.verdict.is_none() {
                progress |= self.poll_timers(cx);
            }
            self.flush();
            if let Some(status) = self.verdict {
                return Poll::Ready(status);
            }
            if self.counts.finished() == self.s.n {
                self.verdict = Some(MapStatus::Succeeded);
                return Poll::Ready(MapStatus::Succeeded);
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Starts elements while the window and the runtime-wide cap allow.
    fn dispatch(&mut self, cx: &mut Context<'_>) -> bool {
        if self.pool_scheduled() {
            return false;
        }
        let mut started = false;
        while self.next < self.s.n && self.counts.running < self.cap && self.verdict.is_none() {
            let want = (self.cap - self.counts.running).min(self.s.n - self.next);
            let granted = match &mut self.permits {
                Some(permits) => permits.take(cx, want),
                None => want,
            };
            if granted == 0 {
                break;
            }
            for _ in 0..granted {
                self.start_next();
                started = true;
                if self.verdict.is_some() {
                    break;
                }
            }
        }
        if self.next == self.s.n && self.observer.is_none() && self.permits.is_none() {
            if let Exec::Async { tasks, .. } = &self.exec {
                // Nothing left to start: successes may wait in the inbox until a batch is full.
                tasks.set_eager(false);
            }
        }
        started
    }

    fn pool_scheduled(&self) -> bool {
        matches!(
            self.exec,
            Exec::Blocking {
                scheduled: true,
                ..
            }
        )
    }

    /// Records the first attempt of an element the pool started itself.
    fn pool_started(&mut self, index: usize) {
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        if slot.state != State::NotStarted {
            return;
        }
        slot.state = State::Running;
        slot.attempts = 1;
        self.counts.pending -= 1;
        self.counts.running += 1;
        self.next = self.next.max(index + 1);
        self.emit(|map, counts| MapEvent::Started {
            map,
            index,
            attempt: 1,
            counts,
        });
    }

    /// Starts the lowest unstarted element.
    fn start_next(&mut self) {
        let index = self.next;
        self.next += 1;
        self.counts.pending -= 1;
        self.counts.running += 1;
        match self.inputs.next() {
            Some(input) if self.s.retries == 0 => self.launch(index, input),
            Some(input) => {
                self.retained[index] = Some(input);
                self.launch_retained(index);
            }
            None => self.lost_input(index),
        }
    }

    /// Starts the next attempt of an element whose input is retained: a clone while another
    /// attempt may follow, the value itself for the last one.
    fn launch_retained(&mut self, index: usize) {
        let last = self.slots[index].attempts >= self.s.retries;
        let input = if last {
            self.retained[index].take()
        } else {
            self.retained[index].clone()
        };
        match input {
            Some(input) => self.launch(index, input),
            None => self.lost_input(index),
        }
    }

    /// An element's input is gone. Unreachable unless the engine has a bug; the map then ends
    /// with `MapError::Internal` rather than a panic or a hang.
    fn lost_input(&mut self, index: usize) {
        self.internal = Some(format!("the input of element {index} is missing"));
        self.stop(MapStatus::Failed);
    }

    fn launch(&mut self, index: usize, input: I) {
        let slot = &mut self.slots[index];
        slot.attempts += 1;
        slot.state = State::Running;
        let attempt = slot.attempts;
        self.emit(|map, counts| MapEvent::Started {
            map,
            index,
            attempt,
            counts,
        });
        match &mut self.exec {
            Exec::Async { tasks, .. } => {
                let span = tracing::debug_span!(
                    parent: &self.span,
                    "element",
                    map = %self.s.name,
                    index,
                    attempt
                );
                let work = Arc::clone(&self.work);
                let map = Arc::clone(&self.s.name);
                match self.s.timeout {
                    None => tasks.spawn(
                        index,
                        attempt,
                        run_async(work, map, index, attempt, input, span),
                    ),
                    Some(limit) => tasks.spawn(
                        index,
                        attempt,
                        run_async_timed(work, map, index, attempt, input, limit, span),
                    ),
                }
            }
            Exec::Blocking { to_queue, .. } => to_queue.push((index, attempt, input)),
        }
    }

    /// Receives the ends of attempts. Returns whether anything arrived.
    fn poll_completions(&mut self, cx: &mut Context<'_>) -> bool {
        match self.exec {
            Exec::Async { .. } => self.poll_async(cx),
            Exec::Blocking { .. } => self.poll_blocking(cx),
        }
    }

    fn poll_async(&mut self, cx: &mut Context<'_>) -> bool {
        let Exec::Async { tasks, done } = &mut self.exec else {
            return false;
        };
        tasks.shared.inbox.drain(cx, done);
        if done.is_empty() {
            return false;
        }
        let mut batch = std::mem::take(done);
        for result in batch.drain(..) {
            if self.verdict.is_some() {
                continue;
            }
            if self.is_current(result.index, result.attempt) {
                if let Exec::Async { tasks, .. } = &mut self.exec {
                    tasks.reported(result.index);
                }
            }
            self.attempt_done(result);
        }
        if let Exec::Async { done, .. } = &mut self.exec {
            *done = batch;
        }
        true
    }

    fn poll_blocking(&mut self, cx: &mut Context<'_>) -> bool {
        let scheduled = self.pool_scheduled();
        let Exec::Blocking { map, msgs, .. } = &mut self.exec else {
            return false;
        };
        map.0.inbox.drain(cx, msgs);
        if msgs.is_empty() {
            return false;
        }
        let mut batch = std::mem::take(msgs);
        for msg in batch.drain(..) {
            if self.verdict.is_some() {
                continue;
            }
            match msg {
                Msg::Done(done, keep) => {
                    if scheduled && done.attempt == 1 {
                        self.pool_started(done.index);
                    }
                    if let Some(keep) = keep {
                        if let Some(slot) = self.retained.get_mut(done.index) {
                            *slot = Some(keep);
                        }
                    }
                    self.attempt_done(done);
                }
                Msg::Started { index, .. } if scheduled => self.pool_started(index),
                Msg::Started { index, attempt, at } => self.arm_deadline(index, attempt, at),
            }
        }
        if let Exec::Blocking { msgs, .. } = &mut self.exec {
            *msgs = batch;
        }
        true
    }

    fn is_current(&self, index: usize, attempt: u32) -> bool {
        self.slots
            .get(index)
            .is_some_and(|slot| slot.state == State::Running && slot.attempts == attempt)
    }

    /// A blocking attempt began to run: time it out `timeout` after it began.
    fn arm_deadline(&mut self, index: usize, attempt: u32, at: Instant) {
        let Some(limit) = self.s.timeout else { return };
        if !self.is_current(index, attempt) {
            return;
        }
        let remaining = limit.saturating_sub(at.elapsed());
        self.timers.push(Timer {
            at: tokio::time::Instant::now() + remaining,
            kind: TimerKind::Deadline,
            index,
            attempt,
        });
    }

    fn attempt_done(&mut self, done: Done<W::Output>) {
        let Done {
            index,
            attempt,
            elapsed,
            result,
        } = done;
        // A late result of an attempt already timed out (or of a cancelled map) is discarded.
        if !self.is_current(index, attempt) {
            return;
        }
        match result {
            Ok(output) => {
                let slot = &mut self.slots[index];
                slot.duration += elapsed;
                slot.state = State::Succeeded;
                let duration = slot.duration;
                self.outputs[index] = Some(output);
                if self.s.retries > 0 {
                    self.retained[index] = None;
                }
                self.counts.running -= 1;
                self.counts.succeeded += 1;
                if let Some(permits) = &mut self.permits {
                    permits.release(1);
                }
                self.emit(|map, counts| MapEvent::Succeeded {
                    map,
                    index,
                    attempt,
                    elapsed,
                    duration,
                    counts,
                });
            }
            Err(error) => self.attempt_failed(index, error, elapsed),
        }
    }

    /// An attempt of element `index` failed: retry it, or fail it and maybe the map.
    fn attempt_failed(&mut self, index: usize, error: TaskError, elapsed: Duration) {
        let slot = &mut self.slots[index];
        slot.duration += elapsed;
        let attempt = slot.attempts;
        let duration = slot.duration;
        let will_retry = !error.is_permanent() && attempt <= self.s.retries;
        let retry_in = if will_retry {
            self.s.backoff.map(|base| backoff_delay(base, attempt))
        } else {
            None
        };
        tracing::debug!(index, attempt, %error, will_retry, "attempt failed");
        if will_retry {
            if let Some(delay) = retry_in {
                slot.state = State::Backoff;
                self.timers.push(Timer {
                    at: tokio::time::Instant::now() + delay,
                    kind: TimerKind::Retry,
                    index,
                    attempt,
                });
            }
        } else {
            slot.state = State::Failed;
            self.counts.running -= 1;
            self.counts.failed += 1;
            if self.s.retries > 0 {
                self.retained[index] = None;
            }
            if let Some(permits) = &mut self.permits {
                permits.release(1);
            }
        }
        if self.observer.is_some() {
            let timeout = self.s.timeout;
            let event_error = error.clone();
            self.emit(|map, counts| match (event_error.kind(), timeout) {
                (maptask_core::FailureKind::Timeout, Some(timeout)) => MapEvent::TimedOut {
                    map,
                    index,
                    attempt,
                    timeout,
                    will_retry,
                    retry_in,
                    duration,
                    counts,
                },
                _ => MapEvent::Failed {
                    map,
                    index,
                    attempt,
                    error: event_error,
                    will_retry,
                    retry_in,
                    elapsed,
                    duration,
                    counts,
                },
            });
        }
        self.errors.push((index, error));
        if will_retry {
            if retry_in.is_none() {
                self.launch_retained(index);
            }
        } else if self.s.n - self.counts.failed < self.s.min_successes {
            self.stop(MapStatus::Failed);
        }
    }

    /// Fires the timers that are due.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let mut any = false;
        while self.verdict.is_none() {
            let Some(timer) = self.timers.poll_next(cx) else {
                break;
            };
            any = true;
            match timer.kind {
                TimerKind::Retry => {
                    let slot = self.slots[timer.index];
                    if slot.state == State::Backoff && slot.attempts == timer.attempt {
                        self.launch_retained(timer.index);
                    }
                }
                TimerKind::Deadline => {
                    if let (true, Some(limit)) =
                        (self.is_current(timer.index, timer.attempt), self.s.timeout)
                    {
                        // The attempt cannot be interrupted: the pool replaces its thread, so
                        // the retry, or the next element, starts now.
                        if let Exec::Blocking { map, job, pool, .. } = &self.exec {
                            if map.0.abandon(timer.index, timer.attempt) {
                                // Its thread no longer drains this map: queued attempts need
                                // another.
                                let missing = map.0.enqueue(&mut Vec::new());
                                if missing > 0 {
                                    pool.submit(job, missing);
                                }
                            }
                        }
                        self.attempt_failed(timer.index, TaskError::timeout(limit), limit);
                    }
                }
            }
        }
        any
    }

    /// Hands queued blocking attempts to the pool and returns freed permits.
    fn flush(&mut self) {
        if let Exec::Blocking {
            map,
            job,
            pool,
            to_queue,
            kicked,
            ..
        } = &mut self.exec
        {
            if !to_queue.is_empty() || !*kicked {
                *kicked = true;
                let missing = map.0.enqueue(to_queue);
                if missing > 0 {
                    pool.submit(job, missing);
                }
            }
        }
        if let Some(permits) = &mut self.permits {
            permits.flush();
        }
    }

    /// Ends the map: starts nothing more and cancels every running attempt.
    fn stop(&mut self, status: MapStatus) {
        if self.verdict.is_some() {
            return;
        }
        self.verdict = Some(status);
        match &mut self.exec {
            Exec::Async { tasks, .. } => tasks.abort_all(),
            Exec::Blocking {
                map,
                to_queue,
                scheduled,
                ..
            } => {
                to_queue.clear();
                let started = map.0.close();
                if *scheduled {
                    // Elements the pool started that the driver has not heard of yet: the pool
                    // starts them in index order, so every one below `started`, including
                    // those below an element heard of already (its news may come first).
                    for index in 0..started.min(self.s.n) {
                        let slot = &mut self.slots[index];
                        if slot.state == State::NotStarted {
                            slot.state = State::Running;
                            slot.attempts = 1;
                            self.counts.pending -= 1;
                            self.counts.running += 1;
                        }
                    }
                    self.next = self.next.max(started.min(self.s.n));
                }
            }
        }
        for index in 0..self.next {
            let slot = &mut self.slots[index];
            if matches!(slot.state, State::Running | State::Backoff) {
                slot.state = State::Cancelled;
                let attempt = slot.attempts;
                self.counts.running -= 1;
                self.counts.cancelled += 1;
                if let Some(permits) = &mut self.permits {
                    permits.release(1);
                }
                self.emit(|map, counts| MapEvent::Cancelled {
                    map,
                    index,
                    attempt,
                    counts,
                });
            }
        }
        self.retained = Vec::new();
    }

    /// Builds the outcome once [`Driver::poll_run`] has returned `status`.
    pub(crate) fn finish(self, status: MapStatus) -> MapOutcome<W::Output> {
        let Driver {
            s,
            exec,
            slots,
            outputs,
            errors,
            counts,
            started_at,
            observer,
            permits,
            internal,
            ..
        } = self;
        // Abort whatever still runs and return permits before anything else.
        drop(exec);
        drop(permits);
        let elapsed = started_at.elapsed();
        if let Some(observer) = &observer {
            let event = MapEvent::MapFinished {
                map: Arc::clone(&s.name),
                status,
                elapsed,
                counts,
            };
            if catch_unwind(AssertUnwindSafe(|| observer.on_event(&event))).is_err() {
                tracing::error!("a map observer panicked; the event was dropped");
            }
        }
        tracing::debug!(?status, ?counts, ?elapsed, "map finished");
        let elements: ElementReports = slots
            .into_iter()
            .map(|slot| ElementReport {
                status: match slot.state {
                    State::NotStarted => ElementStatus::NotStarted,
                    State::Succeeded => ElementStatus::Succeeded,
                    State::Failed => ElementStatus::Failed,
                    State::Running | State::Backoff | State::Cancelled => ElementStatus::Cancelled,
                },
                attempts: slot.attempts,
                duration: slot.duration,
            })
            .collect();
        let errors = group_errors(errors);
        let report = MapReport {
            map: s.name.to_string(),
            n: s.n,
            min_successes: s.min_successes,
            status,
            elements,
            errors,
            totals: counts,
            elapsed,
        };
        let result = match status {
            _ if internal.is_some() => Err(MapError::Internal {
                map: report.map.clone(),
                message: internal.unwrap_or_default(),
            }),
            MapStatus::Succeeded => Ok(outputs),
            MapStatus::Failed => {
                let failures = report.failures();
                Err(MapError::TooManyFailures {
                    map: report.map.clone(),
                    n: s.n,
                    min_successes: s.min_successes,
                    summary: summarize_failures(&failures),
                    failures,
                })
            }
            MapStatus::Cancelled => Err(MapError::Cancelled {
                map: report.map.clone(),
            }),
        };
        MapOutcome { result, report }
    }
}

/// Groups `(index, error)` pairs by index, in index order, keeping each element's errors in
/// the order they came (a stable sort; the list is nearly sorted already).
pub(crate) fn group_errors(mut errors: Vec<(usize, TaskError)>) -> Vec<ElementErrors> {
    errors.sort_by_key(|(index, _)| *index);
    let mut grouped = Vec::with_capacity(errors.len());
    for (index, error) in errors {
        super::fast::add_error(&mut grouped, index, error);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_saturates() {
        let base = Duration::from_millis(100);
        let delays: Vec<u128> = (1..=4)
            .map(|k| backoff_delay(base, k).as_millis())
            .collect();
        assert_eq!(delays, vec![100, 200, 400, 800]);
        assert_eq!(backoff_delay(base, 40), MAX_BACKOFF);
        assert_eq!(backoff_delay(Duration::MAX, 2), MAX_BACKOFF);
    }

    #[test]
    fn errors_are_grouped_by_index_in_attempt_order() {
        let e = |s: &str| TaskError::msg(s.to_owned());
        let grouped = group_errors(vec![
            (3, e("3a")),
            (1, e("1a")),
            (3, e("3b")),
            (0, e("0a")),
            (1, e("1b")),
            (3, e("3c")),
        ]);
        let flat: Vec<(usize, Vec<TaskError>)> =
            grouped.into_iter().map(|g| (g.index, g.errors)).collect();
        assert_eq!(
            flat,
            vec![
                (0, vec![e("0a")]),
                (1, vec![e("1a"), e("1b")]),
                (3, vec![e("3a"), e("3b"), e("3c")]),
            ]
        );
        assert!(group_errors(Vec::new()).is_empty());
    }
}
