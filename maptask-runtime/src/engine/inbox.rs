//! The inbox: how attempts report back to the driver, in batches.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Context;

use futures::task::AtomicWaker;

/// Locks a mutex under which no user code ever runs, so poisoning cannot leave it inconsistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// When the driver does not need every result at once, successes wake it only once this many
/// results wait in the inbox (or when nothing is left to wait for); anything that needs the
/// driver (a failure, a free slot to refill, an observer) wakes it at once.
pub(crate) const WAKE_BATCH: usize = 1024;

/// A multi-producer, single-consumer batch channel that wakes its consumer once per drain.
pub(crate) struct Inbox<T> {
    items: Mutex<Vec<T>>,
    waker: AtomicWaker,
}

impl<T> Inbox<T> {
    pub(crate) fn new() -> Inbox<T> {
        Inbox {
            items: Mutex::new(Vec::new()),
            waker: AtomicWaker::new(),
        }
    }

    /// Moves every item of `batch` into the inbox, without waking the consumer. Returns how
    /// many items the inbox holds.
    pub(crate) fn push_all_quietly(&self, batch: &mut Vec<T>) -> usize {
        let mut items = lock(&self.items);
        if items.is_empty() {
            std::mem::swap(&mut *items, batch);
        } else {
            items.append(batch);
        }
        items.len()
    }

    /// Pushes one item, without waking the consumer. Returns how many items the inbox holds.
    pub(crate) fn push_len(&self, item: T) -> usize {
        let mut items = lock(&self.items);
        items.push(item);
        items.len()
    }

    /// Pushes one item, without waking the consumer.
    pub(crate) fn push_quietly(&self, item: T) {
        lock(&self.items).push(item);
    }

    pub(crate) fn wake(&self) {
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
