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
//! compute pool, a set of OS threads sized to the machine's parallelism, never through
//! `spawn_blocking`. Two exceptions keep quick work off the pool's round trip: a single call
//! ([`Runtime::run_task`], a workflow's task node) of work known to be quick runs on the thread
//! that polls it, and the caller of a map of such work runs its first elements itself, for at
//! most 100 µs; work is *known to be quick* once a call of its type took under 50 µs, until
//! three calls took longer.
//!
//! A blocking attempt cannot be interrupted. With a timeout, the map stops waiting for it at the
//! deadline: its window slot and any runtime-wide permit are freed, its retry (or the next
//! element) starts at once, and the pool starts a replacement thread, up to
//! [`RuntimeBuilder::max_replacement_threads`]. The late result is discarded; the thread returns
//! to the pool, or ends, when the function returns. A map that fails early or is cancelled
//! abandons its timed attempts the same way; attempts without a timeout keep their thread until
//! they return.
//!
//! # Panics
//!
//! A panic inside an element is caught, fails that element (permanently), is reported once
//! through `tracing` (WARN, with the map, the index, the attempt and where it happened) and in
//! the report, and does not reach the process's panic hook; every other panic does (see
//! [`filter_element_panics`]).
//!
//! # Cost per element
//!
//! Blocking work without a timeout, a backoff, a runtime-wide cap or an observer takes the fast
//! path: pool threads claim contiguous chunks of indices under the concurrency window, retry
//! at once on their own thread, and write outputs in place, with no message, allocation or
//! report entry per element (the report keeps one entry per run of equal element reports, see
//! [`ElementReports`]). Otherwise the map's future owns all of its state; per element it keeps a
//! 24-byte record (status, attempts, time in attempts) and the output slot; error lists exist
//! only for elements that fail. No event is built without an observer. See `examples/bench.rs`
//! and `benches/RESULTS.md` for the figures.
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

pub use backend::{MapBackend, OutputHook, RemoteMap};
pub use engine::{check_lengths, AllOutcome, MapFuture};
pub use events::{Counts, MapEvent, MapObserver, MapStatus};
pub use panics::filter_element_panics;
pub use pool::PoolStatus;
pub use report::{
    ElementErrors, ElementReport, ElementReports, ElementStatus, MapOutcome, MapReport,
};
pub use runtime::{RunOptions, Runtime, RuntimeBuilder};
pub use work::{TaskWork, Work};

pub use tokio_util::sync::CancellationToken;
