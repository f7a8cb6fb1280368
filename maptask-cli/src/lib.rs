//! The command line of `maptask` programs, and progress bars.
//!
//! Where things are:
//! * `progress`: [`Progress`](progress::Progress), an observer of the engine's events that draws
//!   one bar per map and one line per workflow node.
//! * `cli`: the grammar (`args`), errors and exit codes (`error`), inputs from JSON (`inputs`).
#![warn(missing_docs)]

pub mod cli;
pub mod progress;
