//! The command line.

pub mod args;
pub mod error;
pub mod inputs;
