//! Counters of live children, for monitoring and for tests that pin the window.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many children a [`ProcessArray`](crate::ProcessArray) has started, and how many were
/// alive (started, not yet reaped) at once.
#[derive(Debug, Default)]
pub struct Stats {
    live: AtomicUsize,
    peak: AtomicUsize,
    started: AtomicUsize,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsSnapshot {
    /// Children started and not yet reaped.
    pub live: usize,
    /// The most children alive at once.
    pub peak: usize,
    /// Children started in total.
    pub started: usize,
}

impl Stats {
    pub(crate) fn started(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let live = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(live, Ordering::SeqCst);
    }

    pub(crate) fn reaped(&self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }

    /// The current counts.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            live: self.live.load(Ordering::SeqCst),
            peak: self.peak.load(Ordering::SeqCst),
            started: self.started.load(Ordering::SeqCst),
        }
    }
}
