//! Async attempts: one tokio task each, reporting through an inbox.
//!
//! Each attempt is spawned as its own task, so async elements run in parallel on the tokio
//! workers. The driver keeps an abort handle per running element and aborts them all when the map
//! stops or its future is dropped. Results come back through an [`Inbox`], which wakes the driver
//! only when it has something to do: a slot to refill, a failure to handle, an observer to feed,
//! or the last result.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use maptask_core::TaskError;
use tokio::task::AbortHandle;

use super::attempt::Done;
use super::inbox::{Inbox, WAKE_BATCH};

pub(crate) struct Shared<O> {
    pub(crate) inbox: Inbox<Done<O>>,
    /// Whether the driver wants every result at once.
    eager: AtomicBool,
    /// Attempts spawned and not yet reported.
    outstanding: AtomicUsize,
}

impl<O> Shared<O> {
    fn deliver(&self, done: Done<O>) {
        let error = done.result.is_err();
        let waiting = self.inbox.push_len(done);
        let left = self.outstanding.fetch_sub(1, Ordering::AcqRel) - 1;
        if error || left == 0 || waiting >= WAKE_BATCH || self.eager.load(Ordering::Acquire) {
            self.inbox.wake();
        }
    }
}

/// Reports an attempt's end even when its task unwinds or is dropped before it could.
struct Report<O> {
    shared: Arc<Shared<O>>,
    index: usize,
    attempt: u32,
    sent: bool,
}

impl<O> Drop for Report<O> {
    fn drop(&mut self) {
        if !self.sent {
            // Aborted (the map is stopping, or the tokio runtime shuts down), or unwound.
            let error = if std::thread::panicking() {
                TaskError::permanent_msg("the attempt's task panicked")
            } else {
                TaskError::cancelled()
            };
            self.shared.deliver(Done {
                index: self.index,
                attempt: self.attempt,
                elapsed: Duration::ZERO,
                result: Err(error),
            });
        }
    }
}

/// The running async attempts of one map.
pub(crate) struct Tasks<O> {
    pub(crate) shared: Arc<Shared<O>>,
    /// The abort handle of each element's running attempt, by index.
    handles: Vec<Option<AbortHandle>>,
    running: usize,
}

impl<O: Send + 'static> Tasks<O> {
    pub(crate) fn new(n: usize) -> Tasks<O> {
        Tasks {
            shared: Arc::new(Shared {
                inbox: Inbox::new(),
                eager: AtomicBool::new(true),
                outstanding: AtomicUsize::new(0),
            }),
            handles: (0..n).map(|_| None).collect(),
            running: 0,
        }
    }

    /// Whether every result should wake the driver.
    pub(crate) fn set_eager(&self, eager: bool) {
        self.shared.eager.store(eager, Ordering::Release);
    }

    /// Spawns an attempt of element `index`.
    pub(crate) fn spawn(
        &mut self,
        index: usize,
        attempt: u32,
        run: impl Future<Output = Done<O>> + Send + 'static,
    ) {
        self.shared.outstanding.fetch_add(1, Ordering::AcqRel);
        let mut report = Report {
            shared: Arc::clone(&self.shared),
            index,
            attempt,
            sent: false,
        };
        let handle = tokio::spawn(async move {
            let done = run.await;
            report.sent = true;
            report.shared.deliver(done);
        });
        if let Some(slot) = self.handles.get_mut(index) {
            if slot.replace(handle.abort_handle()).is_none() {
                self.running += 1;
            }
        }
    }

    /// Forgets the task of an element whose attempt has reported.
    pub(crate) fn reported(&mut self, index: usize) {
        if let Some(Some(_)) = self.handles.get_mut(index).map(Option::take) {
            self.running -= 1;
        }
    }

    /// Aborts every running attempt.
    pub(crate) fn abort_all(&mut self) {
        if self.running == 0 {
            return;
        }
        for handle in self.handles.iter_mut().filter_map(Option::take) {
            handle.abort();
        }
        self.running = 0;
    }
}

impl<O> Drop for Tasks<O> {
    fn drop(&mut self) {
        if self.running > 0 {
            for handle in self.handles.iter_mut().filter_map(Option::take) {
                handle.abort();
            }
        }
    }
}
