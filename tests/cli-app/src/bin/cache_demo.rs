//! A program with cached tasks whose whole command line is `maptask::cli::main()`, for the
//! tests of `cache stats`, `cache clear` and cache hits on the process backend.
//!
//! Each element that really runs appends one line, `<task> <x>`, to the file named by its bound
//! `log` input, which `cache_ignore` leaves out of the key: the tests count what ran.

use std::io::Write;
use std::process::ExitCode;

use maptask::prelude::*;

/// Appends `<task> <x>` to `log`.
fn note(log: &str, task: &str, x: i64) -> Result<(), TaskError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(TaskError::permanent)?;
    // One write per line: appends of a few bytes do not interleave between processes.
    file.write_all(format!("{task} {x}\n").as_bytes())
        .map_err(TaskError::permanent)
}

/// Squares; cached.
#[task(name = "cachedemo.square", cache = "1.0", cache_ignore = ["log"])]
fn square(x: i64, log: String) -> Result<i64, TaskError> {
    note(&log, "square", x)?;
    Ok(x * x)
}

/// Adds one; cached.
#[task(name = "cachedemo.plus_one", cache = "1.0", cache_ignore = ["log"])]
fn plus_one(x: i64, log: String) -> Result<i64, TaskError> {
    note(&log, "plus_one", x)?;
    Ok(x + 1)
}

/// Squares every number, then adds one to each square.
#[workflow(name = "cachedemo.chain")]
fn chain(xs: Vec<i64>, log: String) -> Vec<i64> {
    let squares = map_task!(square, concurrency = 4, log = log)(x = xs);
    map_task!(plus_one, concurrency = 4, log = log)(x = squares)
}

/// Multiplies by ten after `ms` milliseconds; cached.
#[task(name = "cachedemo.slow", cache = "1.0", cache_ignore = ["log", "ms"])]
fn slow(x: i64, log: String, ms: u64) -> Result<i64, TaskError> {
    note(&log, "slow", x)?;
    std::thread::sleep(std::time::Duration::from_millis(ms));
    Ok(x * 10)
}

/// Runs `slow` over every number, two at a time.
#[workflow(name = "cachedemo.slow_all")]
fn slow_all(xs: Vec<i64>, log: String, ms: u64) -> Vec<i64> {
    map_task!(slow, concurrency = 2, log = log, ms = ms)(x = xs)
}

fn main() -> ExitCode {
    maptask::cli::main()
}
