//! The command line of `maptask` programs, and progress bars.
//!
//! Where things are:
//! * `progress`: [`Progress`](progress::Progress), an observer of the engine's events that draws
//!   one bar per map and one line per workflow node.
#![warn(missing_docs)]

pub mod progress;
