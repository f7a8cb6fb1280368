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

/// Fails the first attempt of each element, leaving a marker file in `dir`.
#[task(name = "demo.flaky", retries = 1)]
fn flaky(x: i64, dir: String) -> Result<i64, TaskError> {
    let marker = std::path::Path::new(&dir).join(format!("{x}.tried"));
    if marker.exists() {
        return Ok(x);
    }
    std::fs::write(&marker, b"").map_err(TaskError::permanent)?;
    Err(TaskError::msg("the first attempt fails"))
}

/// Retries every element once.
#[workflow(name = "demo.flaky_all")]
fn flaky_all(xs: Vec<i64>, dir: String) -> Vec<i64> {
    map_task!(flaky, concurrency = 3, dir = dir)(x = xs)
}

/// Sleeps, within a 300 ms timeout.
#[task(name = "demo.sleepy", timeout = "300ms")]
fn sleepy(ms: u64) -> u64 {
    std::thread::sleep(std::time::Duration::from_millis(ms));
    ms
}

/// Sleeps for each duration; half may time out.
#[workflow(name = "demo.sleepy_all")]
fn sleepy_all(ms: Vec<u64>) -> Vec<Option<u64>> {
    map_task!(sleepy, concurrency = 2, min_success_ratio = 0.5)(ms = ms)
}

/// A report that serializes but does not deserialize.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    x: i64,
}

impl maptask::Describe for Report {
    fn type_desc() -> maptask::TypeDesc {
        maptask::TypeDesc::Opaque {
            name: "Report".into(),
        }
    }
}

/// Reports on one number.
#[task(name = "demo.report")]
fn report(x: i64) -> Report {
    Report { x }
}

/// Reports on every number; its map cannot run in child processes, which cannot send a
/// `Report` back.
#[workflow(name = "demo.reports")]
fn reports(xs: Vec<i64>) -> Vec<Report> {
    map_task!(report)(x = xs)
}

fn main() -> ExitCode {
    maptask::cli::main!()
}
