//! A program whose whole command line is `maptask::cli::main()`.

use std::process::ExitCode;

use maptask::prelude::*;

/// Renders one number; 13 fails for good.
#[task(name = "demo.render", retries = 1)]
fn render(a: i64) -> Result<String, TaskError> {
    if a == 13 {
        return Err(TaskError::permanent_msg("13 is unlucky"));
    }
    Ok(format!("#{a}"))
}

/// Multiplies.
#[task(name = "demo.scale")]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

/// Adds up.
#[task(name = "demo.total")]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// Does nothing, for the benchmark.
#[task(name = "demo.noop")]
fn noop(x: i64) -> i64 {
    x
}

/// Renders every number; half of them may fail.
#[workflow(name = "demo.render_all")]
fn render_all(xs: Vec<i64>) -> Vec<Option<String>> {
    map_task!(render, concurrency = 4, min_success_ratio = 0.5)(a = xs)
}

/// Scales every number by `factor`, then adds them up.
#[workflow(name = "demo.scale_sum")]
fn scale_sum(xs: Vec<i64>, factor: i64) -> i64 {
    let scaled = map_task!(scale, concurrency = 2, factor = factor)(x = xs);
    total(scaled)
}

/// Runs `noop` over every number.
#[workflow(name = "demo.noops")]
fn noops(xs: Vec<i64>) -> Vec<i64> {
    map_task!(noop, concurrency = 8)(x = xs)
}

fn main() -> ExitCode {
    maptask::cli::main()
}
