//! The tokio runtime of `maptask`: the map engine.
//!
//! A [`Runtime`] runs the `n` elements of one task under a [`MapSpec`](maptask_core::MapSpec)
//! with the exact semantics of the design (§3): a sliding concurrency window over the lowest
//! unstarted indices, per-element retries with optional exponential backoff, per-attempt
//! timeouts, panic capture, failing early as soon as the minimum number of successes can no
//! longer be reached, and cancellation by dropping the future or through a
//! [`CancellationToken`].
//!
//! * [`Runtime::run_map`] runs a map and returns a [`MapOutcome`]: the outputs in input order
//!   and a [`MapReport`].
//! * [`Runtime::run_task`] runs one task call with the same attempt machinery.
//! * [`Work`] is what runs one element; [`TaskWork`] adapts a [`Task`](maptask_core::Task), and
//!   [`work::blocking`] and [`work::async_fn`] adapt closures.
//! * [`MapBackend`] runs maps elsewhere (e.g. one child process per element), chosen with
//!   [`RuntimeBuilder::backend`].
//! * [`registry`] (feature `registry`): every `#[task]` linked into a binary, found by name
//!   and run from serialized inputs.
//! * [`MapObserver`] receives [`MapEvent`]s, enough to draw progress bars and reports.
//!
//! # Where attempts run
//!
//! Async work (`Execution::Async`) runs as tokio tasks, one per attempt, so elements run in
//! parallel on the tokio workers. Blocking work (`Execution::Blocking`) runs on the runtime's
//! compute pool, a fixed set of OS threads sized to the machine's parallelism, never on the async
//! worker threads and never through `spawn_blocking`. A blocking attempt cannot be interrupted:
//! when it times out, or its map fails early or is cancelled, it keeps its thread until the
//! function returns, and its result is discarded.
//!
//! # Cost per element
//!
//! The map's future owns all of its state; there is no lock around it. Per element it keeps a
//! 24-byte record (status, attempts, time in attempts) and the output slot; error lists exist
//! only for elements that fail. No event is built without an observer. Attempts report back
//! through a batch inbox that wakes the map's task only when it has something to do. For
//! blocking work without a timeout or a runtime-wide cap, pool threads start the next element
//! themselves under the concurrency window, and take quick elements a few at a time, so a no-op
//! `fn(i64) -> i64` costs tens of nanoseconds per element (see `examples/overhead.rs`).
#![warn(missing_docs)]

pub mod backend;
mod engine;
pub mod events;
mod panics;
mod pool;
#[cfg(feature = "registry")]
pub mod registry;
pub mod report;
mod runtime;
pub mod work;

pub use backend::{MapBackend, RemoteMap};
pub use engine::check_lengths;
pub use events::{Counts, MapEvent, MapObserver, MapStatus};
pub use panics::filter_element_panics;
pub use pool::PoolStatus;
pub use report::{
    ElementErrors, ElementReport, ElementReports, ElementStatus, MapOutcome, MapReport,
};
pub use runtime::{RunOptions, Runtime, RuntimeBuilder};
pub use work::{TaskWork, Work};

pub use tokio_util::sync::CancellationToken;
