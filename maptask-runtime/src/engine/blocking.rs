//! Blocking work on the compute pool: a map's element queue, drained by pool threads, and the
//! inbox through which they report back to the driver.
//!
//! Two modes share this code:
//!
//! * **Pool-scheduled** (blocking work without a timeout or a runtime-wide cap, the common
//!   case). The map's unstarted inputs live here, and pool threads start them themselves, in
//!   index order, under the concurrency window: a thread that ends an element takes the next one
//!   without a round trip through the driver. The window's bookkeeping (`active`), the failure
//!   count and the failing-early decision are kept under the queue's lock, so no element starts
//!   once the decision is taken. The driver still decides and queues every retry.
//! * **Driver-scheduled** (a timeout or a runtime-wide cap is set). The driver starts each
//!   attempt and queues it here; pool threads only run them.
//!
//! Each pool thread that holds a copy of the map's job takes a few items at a time (one when
//! little is available, so a slow element never holds back its neighbours), runs them, and
//! pushes their results to the inbox in one lock. The inbox wakes the driver once per drain, not
//! once per result.
//!
//! A timed-out blocking attempt cannot be interrupted: it keeps its thread until the function
//! returns. The driver declares the timeout on time, and *abandons* the attempt
//! ([`BlockingMap::abandon`]): the attempt's thread stops counting as one of the map's drainers,
//! the pool starts a replacement (see `pool`), and when the function returns its result is
//! dropped and the thread goes back to the pool without touching the map again. Stopping a map
//! abandons its running attempts the same way: every one with a timeout, and without one every
//! slow one (taken one at a time); attempts of a quick batch end within microseconds and keep
//! their thread.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maptask_core::TaskError;

use super::attempt::{run_blocking, Done};
use super::inbox::{Inbox, WAKE_BATCH};
use crate::pool::PoolJob;
use crate::work::Work;

use super::inbox::lock;
use crate::panics;
use crate::pool::PoolHandle;

/// A message from the pool to the driver.
pub(crate) enum Msg<I, O> {
    /// An attempt began: sent when the driver needs to know at once (an observer is set, or a
    /// timeout must be armed).
    Started {
        index: usize,
        attempt: u32,
        at: Instant,
    },
    /// An attempt ended. `keep` is a copy of the input, returned when the attempt failed and
    /// another may follow (pool-scheduled first attempts only).
    Done(Done<O>, Option<I>),
}

struct Item<I> {
    index: usize,
    attempt: u32,
    input: I,
}

/// What the pool needs to start elements itself.
pub(crate) struct Schedule {
    pub(crate) n: usize,
    /// The concurrency window (`n` when unbounded).
    pub(crate) cap: usize,
    pub(crate) min_successes: usize,
    pub(crate) retries: u32,
    /// Send `Started` for every element (an observer is set).
    pub(crate) announce: bool,
    /// Retries wait for a backoff timer, which the driver must arm as soon as the attempt fails.
    pub(crate) backoff: bool,
}

struct Queue<I> {
    /// Attempts queued by the driver: retries, or every attempt when the driver schedules.
    queued: VecDeque<Item<I>>,
    /// Pool-scheduled: the inputs not started yet, in index order.
    fresh: std::vec::IntoIter<I>,
    /// Pool-scheduled: the lowest index not started yet.
    next: usize,
    /// Pool-scheduled: elements holding a slot of the window (running, or failed and waiting
    /// for the driver to queue their retry).
    active: usize,
    /// Pool-scheduled: elements that failed after their last attempt.
    failed: usize,
    /// Pool-scheduled: elements that ended, successfully or not.
    ended: usize,
    /// Copies of this job queued or running in the pool.
    drainers: usize,
    /// Pool-scheduled: retryable failures put in the inbox since the driver was last woken
    /// (see `complete`). Each holds a slot of the window until the driver queues its retry.
    retry_unseen: usize,
    /// Timed attempts running now (every attempt with a timeout; slow ones without), as
    /// (index, attempt). An attempt missing from here when it returns was abandoned.
    running: Vec<(usize, u32)>,
}

impl<I> Queue<I> {
    fn startable(&self, schedule: Option<&Schedule>) -> usize {
        let fresh = schedule.map_or(0, |s| {
            s.cap.saturating_sub(self.active).min(s.n - self.next)
        });
        self.queued.len() + fresh
    }
}

/// The blocking side of one map.
pub(crate) struct BlockingMap<I, W: Work<I>> {
    work: Arc<W>,
    timeout: Option<Duration>,
    threads: usize,
    schedule: Option<Schedule>,
    queue: Mutex<Queue<I>>,
    closed: AtomicBool,
    pub(crate) inbox: Inbox<Msg<I, W::Output>>,
    pool: PoolHandle,
    name: Arc<str>,
    span: tracing::Span,
}

impl<I: Send + 'static, W: Work<I>> BlockingMap<I, W> {
    /// Stops the map: nothing queued or unstarted will start, and their inputs are dropped.
    /// Timed attempts still running (see `Queue::running`) are abandoned. Returns the number of
    /// elements the pool started (pool-scheduled mode).
    pub(crate) fn close(&self) -> usize {
        self.closed.store(true, Ordering::Release);
        let (queued, fresh, next, abandoned) = {
            let mut queue = lock(&self.queue);
            let abandoned = std::mem::take(&mut queue.running).len();
            queue.drainers -= abandoned;
            (
                std::mem::take(&mut queue.queued),
                std::mem::replace(&mut queue.fresh, Vec::new().into_iter()),
                queue.next,
                abandoned,
            )
        };
        for _ in 0..abandoned {
            self.pool.abandon();
        }
        drop(queued);
        drop(fresh);
        next
    }

    /// Gives up on attempt `attempt` of element `index`, which ran past its timeout: its thread
    /// stops counting as one of this map's drainers, and the pool replaces it. Returns whether
    /// the attempt was still running.
    pub(crate) fn abandon(&self, index: usize, attempt: u32) -> bool {
        {
            let mut queue = lock(&self.queue);
            let Some(at) = queue.running.iter().position(|&r| r == (index, attempt)) else {
                return false;
            };
            queue.running.swap_remove(at);
            queue.drainers -= 1;
        }
        self.pool.abandon();
        true
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// Items a drainer runs before it lets other maps have its thread.
const QUANTUM: usize = 256;
/// Elements quicker than this on average are taken in batches.
const QUICK: Duration = Duration::from_micros(5);
/// The most items a drainer takes at once.
const MAX_BATCH: usize = 64;

/// Whether any subscriber may record a DEBUG span: the global level check that
/// `tracing::debug_span!` makes first. When it fails, the macro would build `Span::none()`, so
/// the element span is skipped altogether; when it passes, the span is built and the macro
/// checks its callsite as usual, so subscribers interested in element spans still get them,
/// with the map's name, the index and the attempt.
#[inline]
pub(crate) fn debug_spans_enabled() -> bool {
    use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
    tracing::Level::DEBUG <= STATIC_MAX_LEVEL && tracing::Level::DEBUG <= LevelFilter::current()
}

/// What a batch's attempts did, for the window's bookkeeping.
#[derive(Default)]
struct Ends {
    /// Elements that ended.
    finished: usize,
    /// Elements that failed for good.
    failed: usize,
    /// Failed attempts, final or not.
    errors: usize,
}

/// How one attempt ended, for the window's bookkeeping.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// The element is done: it succeeded.
    Succeeded,
    /// The element is done: it failed for good.
    Failed,
    /// Another attempt follows; the element keeps its slot.
    Retry,
}

impl<I: Clone + Send + 'static, W: Work<I>> BlockingMap<I, W> {
    pub(crate) fn new(
        work: Arc<W>,
        timeout: Option<Duration>,
        threads: usize,
        schedule: Option<(Schedule, Vec<I>)>,
        pool: PoolHandle,
        name: Arc<str>,
        span: tracing::Span,
    ) -> BlockingMap<I, W> {
        let (schedule, fresh) = match schedule {
            Some((schedule, inputs)) => (Some(schedule), inputs.into_iter()),
            None => (None, Vec::new().into_iter()),
        };
        BlockingMap {
            work,
            timeout,
            threads: threads.max(1),
            schedule,
            queue: Mutex::new(Queue {
                queued: VecDeque::new(),
                fresh,
                next: 0,
                active: 0,
                failed: 0,
                ended: 0,
                drainers: 0,
                retry_unseen: 0,
                running: Vec::new(),
            }),
            closed: AtomicBool::new(false),
            inbox: Inbox::new(),
            pool,
            name,
            span,
        }
    }

    /// Queues attempts (possibly none), and returns how many more copies of the job the pool
    /// needs to run what can start.
    pub(crate) fn enqueue(&self, items: &mut Vec<(usize, u32, I)>) -> usize {
        let mut queue = lock(&self.queue);
        queue
            .queued
            .extend(items.drain(..).map(|(index, attempt, input)| Item {
                index,
                attempt,
                input,
            }));
        Self::missing_drainers(&mut queue, self.threads, self.schedule.as_ref())
    }

    fn missing_drainers(
        queue: &mut Queue<I>,
        threads: usize,
        schedule: Option<&Schedule>,
    ) -> usize {
        let wanted = threads.min(queue.startable(schedule));
        let missing = wanted.saturating_sub(queue.drainers);
        queue.drainers += missing;
        missing
    }

    /// Takes the next item, or the next few when `many` (the last items were quick), or
    /// retires this drainer when none can start.
    fn take(&self, queue: &mut Queue<I>, batch: &mut Vec<Item<I>>, many: bool) -> bool {
        let schedule = self.schedule.as_ref();
        let startable = queue.startable(schedule);
        if startable == 0 || self.is_closed() {
            queue.drainers -= 1;
            return false;
        }
        // With a timeout, an item must start as soon as it is taken: its deadline runs from
        // the `Started` message.
        let k = if self.timeout.is_some() || !many {
            1
        } else {
            (startable / self.threads).clamp(1, MAX_BATCH)
        };
        while batch.len() < k {
            let Some(item) = queue.queued.pop_front() else {
                break;
            };
            batch.push(item);
        }
        if let Some(schedule) = schedule {
            while batch.len() < k && queue.active < schedule.cap {
                let Some(input) = queue.fresh.next() else {
                    break;
                };
                let index = queue.next;
                queue.next += 1;
                queue.active += 1;
                if schedule.announce {
                    // Under the queue's lock, so `Started` messages keep index order.
                    self.inbox.push_quietly(Msg::Started {
                        index,
                        attempt: 1,
                        at: Instant::now(),
                    });
                }
                batch.push(Item {
                    index,
                    attempt: 1,
                    input,
                });
            }
            if schedule.announce {
                self.inbox.wake();
            }
        }
        true
    }

    fn element_span(&self, index: usize, attempt: u32) -> tracing::Span {
        tracing::debug_span!(parent: &self.span, "element", map = %self.name, index, attempt)
    }

    /// Runs one item. Returns its message and how it ended, or `None` when the attempt was
    /// abandoned while it ran (this thread then no longer drains the map).
    ///
    /// When `timed`, the clock is read after the item and its exact wall time (from `mark`,
    /// where the previous item ended) is reported. Otherwise the clock is not read and the
    /// reported time is zero: the caller fills in the batch's mean afterwards.
    fn run_item(
        &self,
        item: Item<I>,
        mark: &mut Instant,
        timed: bool,
        traced: bool,
    ) -> Option<(Msg<I, W::Output>, End)> {
        let Item {
            index,
            attempt,
            input,
        } = item;
        // Timed attempts (with a timeout, or slow ones, taken one at a time) are listed as
        // running, so that stopping the map abandons them and the pool replaces their threads
        // (see `close`). Quick batches are not: they end within microseconds, and listing them
        // would cost two locks per element and spawn needless replacements.
        let tracked = timed;
        if tracked {
            lock(&self.queue).running.push((index, attempt));
        }
        if self.timeout.is_some() {
            *mark = Instant::now();
            self.inbox.push_quietly(Msg::Started {
                index,
                attempt,
                at: *mark,
            });
            self.inbox.wake();
        }
        let retries = self.schedule.as_ref().map_or(0, |s| s.retries);
        // Pool-scheduled first attempts keep a copy of the input for a retry; the driver keeps
        // the copies of later attempts. `Clone` is user code: its panic fails the attempt.
        let kept = if attempt == 1 && attempt <= retries {
            panics::catch(AssertUnwindSafe(|| input.clone())).map(Some)
        } else {
            Ok(None)
        };
        let (result, keep) = match kept {
            Ok(keep) if traced => {
                let span = self.element_span(index, attempt);
                let result = span
                    .in_scope(|| run_blocking(&*self.work, input, (&self.name, index, attempt)));
                (result, keep)
            }
            Ok(keep) => (
                run_blocking(&*self.work, input, (&self.name, index, attempt)),
                keep,
            ),
            Err(payload) => (
                Err(panics::element_panicked(
                    &self.name,
                    index,
                    attempt,
                    payload.as_ref(),
                )),
                None,
            ),
        };
        let elapsed = if timed {
            let now = Instant::now();
            let elapsed = now.saturating_duration_since(*mark);
            *mark = now;
            elapsed
        } else {
            Duration::ZERO
        };
        if tracked {
            let mut queue = lock(&self.queue);
            match queue.running.iter().position(|&r| r == (index, attempt)) {
                Some(at) => {
                    queue.running.swap_remove(at);
                }
                None => {
                    // Abandoned: the driver has moved on and the pool has replaced this thread.
                    // The late result is dropped (outside the lock).
                    drop(queue);
                    drop(result);
                    self.pool.unstuck();
                    return None;
                }
            }
        }
        let result = match self.timeout {
            // Ran past its timeout: the driver has declared (or will declare) the timeout;
            // report it as one too, so the late output is never used.
            Some(limit) if elapsed > limit => Err(TaskError::timeout(limit)),
            _ => result,
        };
        let (end, keep) = match &result {
            Ok(_) => (End::Succeeded, None),
            Err(error) if !error.is_permanent() && attempt <= retries => (End::Retry, keep),
            Err(_) => (End::Failed, None),
        };
        let done = Done {
            index,
            attempt,
            elapsed,
            result,
        };
        Some((Msg::Done(done, keep), end))
    }

    /// Delivers a batch's results and, when pool-scheduled, frees the slots of finished
    /// elements and takes the failing-early decision. Returns the extra drainers now wanted,
    /// whether to wake the driver, and the unstarted inputs to drop (outside the lock) when the
    /// map just failed.
    fn complete(
        &self,
        queue: &mut Queue<I>,
        out: &mut Vec<Msg<I, W::Output>>,
        ends: Ends,
        quick: bool,
    ) -> (usize, bool, Option<std::vec::IntoIter<I>>) {
        // Results go in before slots are freed, so the driver never sees an element start in a
        // slot that has not been freed yet.
        let waiting = self.inbox.push_all_quietly(out);
        let Some(schedule) = &self.schedule else {
            return (0, waiting > 0, None);
        };
        queue.active -= ends.finished;
        queue.failed += ends.failed;
        queue.ended += ends.finished;
        // A final failure wakes the driver at once (it may fail the map, though the decision to
        // start nothing more is taken here). A retryable failure only needs the driver to queue
        // the retry: after a batch of quick elements without backoff, it waits for the next
        // wake-up (at most WAKE_BATCH results later, i.e. a few ms), or for the moment the pool
        // cannot start anything more without the driver, whichever comes first. Slow elements
        // and backoff timers wake the driver at once, so retries are never held back long.
        let retrying = ends.errors > ends.failed;
        let defer = quick && !schedule.backoff;
        if retrying && defer {
            queue.retry_unseen += ends.errors - ends.failed;
        }
        let mut wake = ends.failed > 0
            || (retrying && !defer)
            || schedule.announce
            || waiting >= WAKE_BATCH
            || queue.ended >= schedule.n;
        if schedule.n - queue.failed < schedule.min_successes {
            // Too many failures: start nothing more, from this instant.
            self.closed.store(true, Ordering::Release);
            let fresh = std::mem::replace(&mut queue.fresh, Vec::new().into_iter());
            return (0, true, Some(fresh));
        }
        let extra = if ends.finished > 0 {
            Self::missing_drainers(queue, self.threads, Some(schedule))
        } else {
            0
        };
        // Wake the driver for the retries it has not seen before they hold a quarter of the
        // window (so the pool never runs short of startable elements), and whenever nothing can
        // start without it.
        wake |= queue.retry_unseen > 0
            && (queue.retry_unseen * 4 >= schedule.cap || queue.startable(Some(schedule)) == 0);
        if wake {
            queue.retry_unseen = 0;
        }
        (extra, wake, None)
    }
}

impl<I: Clone + Send + 'static, W: Work<I>> PoolJob for BlockingMap<I, W> {
    fn run(&self) -> usize {
        let mut batch: Vec<Item<I>> = Vec::new();
        let mut out: Vec<Msg<I, W::Output>> = Vec::new();
        let mut ran = 0;
        // Batches only pay off for quick elements; slow ones are taken one at a time so that
        // none waits behind another while a thread is free.
        let mut quick = false;
        if !self.take(&mut lock(&self.queue), &mut batch, quick) {
            return 0;
        }
        loop {
            ran += batch.len();
            let taken = batch.len() as u32;
            let mut ends = Ends::default();
            // Slow elements (taken one at a time) and maps with a timeout read the clock once
            // per element: each attempt ends where the next begins, and its time is exact. A
            // batch of quick elements in a map without a timeout reads it once, at its end, and
            // gives each element the batch's mean: at a few ns per element, a clock read
            // (~20-40 ns on virtual machines) would cost more than the element.
            let timed = !quick || self.timeout.is_some();
            // No element span when no subscriber can take a DEBUG span (checked per batch).
            let traced = debug_spans_enabled();
            let started = Instant::now();
            let mut mark = started;
            let mut items = batch.drain(..);
            while let Some(item) = items.next() {
                if self.is_closed() {
                    continue;
                }
                let Some((msg, end)) = self.run_item(item, &mut mark, timed, traced) else {
                    // This thread no longer drains the map: what it holds goes back unrun.
                    let rest: Vec<Item<I>> = items.collect();
                    if !rest.is_empty() {
                        let mut queue = lock(&self.queue);
                        for item in rest.into_iter().rev() {
                            queue.queued.push_front(item);
                        }
                    }
                    if !out.is_empty() {
                        self.inbox.push_all_quietly(&mut out);
                        self.inbox.wake();
                    }
                    return 0;
                };
                out.push(msg);
                match end {
                    End::Succeeded => ends.finished += 1,
                    End::Failed => {
                        ends.finished += 1;
                        ends.failed += 1;
                        ends.errors += 1;
                    }
                    End::Retry => ends.errors += 1,
                }
            }
            drop(items);
            if !timed {
                mark = Instant::now();
                let ran_here = u32::try_from(out.len()).unwrap_or(u32::MAX).max(1);
                let each = mark.saturating_duration_since(started) / ran_here;
                for msg in &mut out {
                    if let Msg::Done(done, _) = msg {
                        done.elapsed = each;
                    }
                }
            }
            quick = mark.saturating_duration_since(started) < QUICK * taken;
            // One lock to hand in the results and take the next items.
            let mut queue = lock(&self.queue);
            let (extra, wake, dropped) = self.complete(&mut queue, &mut out, ends, quick);
            let next = if extra > 0 || ran >= QUANTUM {
                // Come back at the end of the pool's queue, with company if more can start.
                Some(1 + extra)
            } else if self.take(&mut queue, &mut batch, quick) {
                None
            } else {
                Some(0)
            };
            drop(queue);
            if wake {
                self.inbox.wake();
            }
            drop(dropped);
            if let Some(copies) = next {
                return copies;
            }
        }
    }
}
