//! Element and map events, delivered to a [`MapObserver`].
//!
//! Every event carries the map's name and a snapshot of the map's [`Counts`] taken right after
//! the event, so an observer can draw a progress bar from any single event. Events of one map are
//! delivered in order, from the task that drives the map.

use std::sync::Arc;
use std::time::Duration;

use maptask_core::TaskError;

/// Receives the events of the maps it is given to.
///
/// Called synchronously from the task that drives the map: keep it quick and never block. The
/// runtime builds no event at all when no observer is set.
pub trait MapObserver: Send + Sync + 'static {
    /// Called once per event, in order.
    fn on_event(&self, event: &MapEvent);
}

impl<F> MapObserver for F
where
    F: Fn(&MapEvent) + Send + Sync + 'static,
{
    fn on_event(&self, event: &MapEvent) {
        self(event)
    }
}

/// How many elements of a map are in each state.
///
/// `pending + running + succeeded + failed + cancelled == total` at every instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Counts {
    /// The number of elements.
    pub total: usize,
    /// Not started yet.
    pub pending: usize,
    /// Started and not finished: running an attempt or waiting to retry.
    pub running: usize,
    /// Finished with an output.
    pub succeeded: usize,
    /// Finished without an output, after their last attempt.
    pub failed: usize,
    /// Stopped while running because the map failed early or was cancelled.
    pub cancelled: usize,
    /// Of the `succeeded`, how many took their output from the cache without running.
    pub cached: usize,
}

impl Counts {
    /// The number of elements that finished, successfully or not.
    pub fn finished(&self) -> usize {
        self.succeeded + self.failed
    }
}

/// How a map ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapStatus {
    /// Every element finished and enough succeeded.
    Succeeded,
    /// Too many elements failed; the map failed early.
    Failed,
    /// The map was cancelled through its token.
    Cancelled,
}

/// Something that happened in a map.
///
/// `attempt` counts from 1. `elapsed` is the wall time of one attempt; `duration` is an
/// element's total time spent in attempts so far (the sum of its attempts' `elapsed`).
///
/// Both are exact except for quick blocking attempts that a compute-pool thread runs in a batch
/// (because its previous attempts averaged under 5 µs): each gets the batch's mean wall time,
/// with a single clock read per batch. Async work, maps with a timeout and slower blocking
/// elements (run one at a time) get exact times. See
/// [`ElementReport::duration`](crate::ElementReport::duration) for the details.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MapEvent {
    /// The map checked its specification and is about to start its first elements.
    MapStarted {
        /// The map's name.
        map: Arc<str>,
        /// The number of elements.
        n: usize,
        /// The successes required.
        min_successes: usize,
        /// The concurrency cap (0 = unbounded).
        concurrency: usize,
        /// The counts: all pending.
        counts: Counts,
    },
    /// An attempt of an element was started (for blocking work: handed to the compute pool).
    Started {
        /// The map's name.
        map: Arc<str>,
        /// The element's index.
        index: usize,
        /// The attempt, from 1.
        attempt: u32,
        /// The counts after the event.
        counts: Counts,
    },
    /// An element succeeded.
    Succeeded {
        /// The map's name.
        map: Arc<str>,
        /// The element's index.
        index: usize,
        /// The attempt that succeeded.
        attempt: u32,
        /// This attempt's wall time (a batch mean for quick blocking attempts: see above).
        elapsed: Duration,
        /// The element's total time in attempts.
        duration: Duration,
        /// The counts after the event.
        counts: Counts,
    },
    /// An attempt returned an error or panicked.
    Failed {
        /// The map's name.
        map: Arc<str>,
        /// The element's index.
        index: usize,
        /// The attempt that failed.
        attempt: u32,
        /// Its error.
        error: TaskError,
        /// Whether another attempt follows. If not, the element has failed.
        will_retry: bool,
        /// The pause before the next attempt, when there is one and a backoff is set.
        retry_in: Option<Duration>,
        /// This attempt's wall time (a batch mean for quick blocking attempts: see above).
        elapsed: Duration,
        /// The element's total time in attempts.
        duration: Duration,
        /// The counts after the event.
        counts: Counts,
    },
    /// An attempt ran past its timeout and was cancelled (or, for blocking work, abandoned).
    TimedOut {
        /// The map's name.
        map: Arc<str>,
        /// The element's index.
        index: usize,
        /// The attempt that timed out.
        attempt: u32,
        /// The timeout.
        timeout: Duration,
        /// Whether another attempt follows. If not, the element has failed.
        will_retry: bool,
        /// The pause before the next attempt, when there is one and a backoff is set.
        retry_in: Option<Duration>,
        /// The element's total time in attempts.
        duration: Duration,
        /// The counts after the event.
        counts: Counts,
    },
    /// An element took its output from the cache and did not run. It counts as succeeded.
    Cached {
        /// The map's name.
        map: Arc<str>,
        /// The element's index.
        index: usize,
        /// The counts after the event.
        counts: Counts,
    },
    /// A running element was cancelled because the map failed early or was cancelled.
    Cancelled {
        /// The map's name.
        map: Arc<str>,
        /// The element's index.
        index: usize,
        /// The attempt that was running (or waiting to retry).
        attempt: u32,
        /// The counts after the event.
        counts: Counts,
    },
    /// The map ended. Not sent when the map's future is dropped.
    MapFinished {
        /// The map's name.
        map: Arc<str>,
        /// How it ended.
        status: MapStatus,
        /// The map's wall time.
        elapsed: Duration,
        /// The final counts.
        counts: Counts,
    },
}

impl MapEvent {
    /// The map's name.
    pub fn map(&self) -> &str {
        match self {
            MapEvent::MapStarted { map, .. }
            | MapEvent::Started { map, .. }
            | MapEvent::Succeeded { map, .. }
            | MapEvent::Failed { map, .. }
            | MapEvent::TimedOut { map, .. }
            | MapEvent::Cached { map, .. }
            | MapEvent::Cancelled { map, .. }
            | MapEvent::MapFinished { map, .. } => map,
        }
    }

    /// The element's index, for element events.
    pub fn index(&self) -> Option<usize> {
        match self {
            MapEvent::Started { index, .. }
            | MapEvent::Succeeded { index, .. }
            | MapEvent::Failed { index, .. }
            | MapEvent::TimedOut { index, .. }
            | MapEvent::Cached { index, .. }
            | MapEvent::Cancelled { index, .. } => Some(*index),
            MapEvent::MapStarted { .. } | MapEvent::MapFinished { .. } => None,
        }
    }

    /// The attempt, for element events.
    pub fn attempt(&self) -> Option<u32> {
        match self {
            MapEvent::Started { attempt, .. }
            | MapEvent::Succeeded { attempt, .. }
            | MapEvent::Failed { attempt, .. }
            | MapEvent::TimedOut { attempt, .. }
            | MapEvent::Cancelled { attempt, .. } => Some(*attempt),
            MapEvent::Cached { .. }
            | MapEvent::MapStarted { .. }
            | MapEvent::MapFinished { .. } => None,
        }
    }

    /// The counts right after the event.
    pub fn counts(&self) -> Counts {
        match self {
            MapEvent::MapStarted { counts, .. }
            | MapEvent::Started { counts, .. }
            | MapEvent::Succeeded { counts, .. }
            | MapEvent::Failed { counts, .. }
            | MapEvent::TimedOut { counts, .. }
            | MapEvent::Cached { counts, .. }
            | MapEvent::Cancelled { counts, .. }
            | MapEvent::MapFinished { counts, .. } => *counts,
        }
    }

    /// Whether this event ends an element: it succeeded, failed for good, or was cancelled.
    pub fn ends_element(&self) -> bool {
        match self {
            MapEvent::Succeeded { .. } | MapEvent::Cached { .. } | MapEvent::Cancelled { .. } => {
                true
            }
            MapEvent::Failed { will_retry, .. } | MapEvent::TimedOut { will_retry, .. } => {
                !will_retry
            }
            MapEvent::Started { .. }
            | MapEvent::MapStarted { .. }
            | MapEvent::MapFinished { .. } => false,
        }
    }
}
