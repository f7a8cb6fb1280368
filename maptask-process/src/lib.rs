//! The process-array backend of `maptask`: each attempt of each element of a map is a child
//! process, under the engine's exact semantics.
//!
//! It is the Kubernetes array plugin in miniature. A [`ProcessArray`] starts children of one
//! executable (by default the running one, which holds every task), lets the caller's
//! [`Launch`] fill in each child's arguments and read what it left behind, and leaves the
//! scheduling to the engine ([`maptask_runtime::Runtime::run_map`]): the sliding window, the
//! runtime-wide cap, per-element retries, per-attempt timeouts, failing early and cancellation.
//!
//! Where things are:
//! * [`array`](ProcessArray): configuration and the entry point;
//! * `launch`: the [`Launch`] trait, the caller's protocol (for Flyte, `map-execute`);
//! * `work`: the engine's `Work` for one attempt, and the messages of system failures;
//! * `child`: one child process, its process group, and terminate-then-kill on drop;
//! * `run_dir`: the private run directory and log tails;
//! * `stats`: counters of live children.
//!
//! Unix only: children are managed through process groups and signals.
#![warn(missing_docs)]

mod array;
mod child;
mod launch;
mod run_dir;
mod stats;
mod work;

pub use array::{ProcessArray, ProcessArrayBuilder, ProcessError};
pub use launch::{Attempt, Collected, Launch};
pub use run_dir::RunDir;
pub use stats::{Stats, StatsSnapshot};
