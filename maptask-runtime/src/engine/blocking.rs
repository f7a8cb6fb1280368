//! Blocking work on the compute pool: a map's element queue, drained by pool threads, and the
//! inbox through which they report back to the driver.
//!
//! The driver pushes `(index, attempt, input)` items in index order. Each pool thread that holds
//! a copy of the map's job pops a few items at a time (one when the queue is short, so a slow
//! element never holds back its neighbours), runs them, and pushes their results to the inbox in
//! one lock. The inbox wakes the driver once per drain, not once per result.
//!
//! A timed-out blocking attempt cannot be interrupted: it keeps its thread until the function
//! returns. The driver declares the timeout on time and ignores the late result.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Context;
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;
use maptask_core::TaskError;

use super::attempt::{run_blocking, Done};
use crate::pool::PoolJob;
use crate::work::Work;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // User code never runs under these locks.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A message from the pool to the driver.
pub(crate) enum Msg<O> {
    /// A timed attempt began to run (sent only when the map has a timeout).
    Started {
        index: usize,
        attempt: u32,
        at: Instant,
    },
    /// An attempt ended.
    Done(Done<O>),
}

/// A multi-producer, single-consumer batch channel that wakes its consumer once per drain.
pub(crate) struct Inbox<T> {
    items: Mutex<Vec<T>>,
    waker: AtomicWaker,
}

impl<T> Inbox<T> {
    fn new() -> Inbox<T> {
        Inbox {
            items: Mutex::new(Vec::new()),
            waker: AtomicWaker::new(),
        }
    }

    /// Moves every item of `batch` into the inbox and wakes the consumer.
    fn push_all(&self, batch: &mut Vec<T>) {
        if batch.is_empty() {
            return;
        }
        {
            let mut items = lock(&self.items);
            if items.is_empty() {
                std::mem::swap(&mut *items, batch);
            } else {
                items.append(batch);
            }
        }
        self.waker.wake();
    }

    /// Pushes one item and wakes the consumer.
    fn push_one(&self, item: T) {
        lock(&self.items).push(item);
        self.waker.wake();
    }

    /// Moves everything in the inbox into `into` (which must be empty), after registering `cx`
    /// to be woken by the next push.
    pub(crate) fn drain(&self, cx: &mut Context<'_>, into: &mut Vec<T>) {
        self.waker.register(cx.waker());
        let mut items = lock(&self.items);
        if into.is_empty() {
            std::mem::swap(&mut *items, into);
        } else {
            into.append(&mut items);
        }
    }
}

struct Item<I> {
    index: usize,
    attempt: u32,
    input: I,
}

struct Queue<I> {
    items: VecDeque<Item<I>>,
    /// Copies of this job queued or running in the pool.
    drainers: usize,
}

/// The blocking side of one map.
pub(crate) struct BlockingMap<I, W: Work<I>> {
    work: std::sync::Arc<W>,
    timeout: Option<Duration>,
    threads: usize,
    queue: Mutex<Queue<I>>,
    closed: AtomicBool,
    pub(crate) inbox: Inbox<Msg<W::Output>>,
    name: std::sync::Arc<str>,
    span: tracing::Span,
}

/// Items a drainer runs before it lets other maps have its thread.
const QUANTUM: usize = 256;
/// The most items a drainer takes at once.
const MAX_BATCH: usize = 64;

impl<I: Send + 'static, W: Work<I>> BlockingMap<I, W> {
    pub(crate) fn new(
        work: std::sync::Arc<W>,
        timeout: Option<Duration>,
        threads: usize,
        name: std::sync::Arc<str>,
        span: tracing::Span,
    ) -> BlockingMap<I, W> {
        BlockingMap {
            work,
            timeout,
            threads: threads.max(1),
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                drainers: 0,
            }),
            closed: AtomicBool::new(false),
            inbox: Inbox::new(),
            name,
            span,
        }
    }

    /// Queues attempts, and returns how many more copies of the job the pool needs.
    pub(crate) fn enqueue(&self, items: &mut Vec<(usize, u32, I)>) -> usize {
        let mut queue = lock(&self.queue);
        queue
            .items
            .extend(items.drain(..).map(|(index, attempt, input)| Item {
                index,
                attempt,
                input,
            }));
        let wanted = self.threads.min(queue.items.len());
        let missing = wanted.saturating_sub(queue.drainers);
        queue.drainers += missing;
        missing
    }

    /// Stops the map: nothing queued will start, and the inputs of queued items are dropped.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let dropped = std::mem::take(&mut lock(&self.queue).items);
        drop(dropped);
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Takes the next few items, or retires this drainer when there are none.
    fn take(&self, batch: &mut Vec<Item<I>>) -> bool {
        let mut queue = lock(&self.queue);
        if queue.items.is_empty() || self.is_closed() {
            queue.drainers -= 1;
            return false;
        }
        let len = queue.items.len();
        let k = (len / (4 * self.threads)).clamp(1, MAX_BATCH).min(len);
        batch.extend(queue.items.drain(..k));
        true
    }

    fn element_span(&self, index: usize, attempt: u32) -> tracing::Span {
        tracing::debug_span!(parent: &self.span, "element", map = %self.name, index, attempt)
    }
}

impl<I: Send + 'static, W: Work<I>> PoolJob for BlockingMap<I, W> {
    fn run(&self) -> bool {
        let mut batch: Vec<Item<I>> = Vec::new();
        let mut out: Vec<Msg<W::Output>> = Vec::new();
        let mut ran = 0;
        loop {
            if !self.take(&mut batch) {
                return false;
            }
            ran += batch.len();
            // One clock read per element: each attempt ends where the next begins.
            let mut mark = Instant::now();
            for Item {
                index,
                attempt,
                input,
            } in batch.drain(..)
            {
                if self.is_closed() {
                    continue;
                }
                if self.timeout.is_some() {
                    mark = Instant::now();
                    self.inbox.push_one(Msg::Started {
                        index,
                        attempt,
                        at: mark,
                    });
                }
                let span = self.element_span(index, attempt);
                let result = span.in_scope(|| run_blocking(&*self.work, input));
                let now = Instant::now();
                let elapsed = now.saturating_duration_since(mark);
                mark = now;
                let result = match self.timeout {
                    // Ran past its timeout: the driver has declared (or will declare) the timeout;
                    // report it as one too, so the late output is never used.
                    Some(limit) if elapsed > limit => Err(TaskError::timeout(limit)),
                    _ => result,
                };
                out.push(Msg::Done(Done {
                    index,
                    attempt,
                    elapsed,
                    result,
                }));
            }
            self.inbox.push_all(&mut out);
            if ran >= QUANTUM {
                // Let other maps have the thread; come back at the end of the queue.
                let mut queue = lock(&self.queue);
                if queue.items.is_empty() || self.is_closed() {
                    queue.drainers -= 1;
                    return false;
                }
                return true;
            }
        }
    }
}
