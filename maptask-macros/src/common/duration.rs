//! The duration grammar of `maptask-core`, shared as a source file so that a malformed timeout is
//! a compile error while this crate depends on syn, quote and proc-macro2 alone.

#[path = "../../../maptask-core/src/duration.rs"]
mod grammar;

pub use grammar::parse_duration;
