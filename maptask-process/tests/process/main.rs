//! The process array against real child processes (`src/bin/test_child.rs`).

mod common;
mod kill;
mod results;
mod window;
