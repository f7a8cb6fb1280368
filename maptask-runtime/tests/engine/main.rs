//! Behaviour tests of the map engine, one binary.

mod basics;
mod blocking;
mod cancel;
mod common;
mod concurrency;
mod events;
mod failing;
mod outputs;
mod panics;
mod props;
mod reports;
mod retries;
mod task;
mod timeouts;
#[path = "../support/tracked.rs"]
mod tracked;
