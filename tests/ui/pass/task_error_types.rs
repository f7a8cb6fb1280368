//! Every error type a task may return: a std error, `anyhow`, boxed errors, strings,
//! `TaskError` with `?` on std errors, and `io::Result`.
use maptask::prelude::*;

#[derive(Debug, thiserror::Error)]
#[error("bad")]
struct Bad;

#[task]
fn std_error(x: i64) -> Result<i64, Bad> {
    if x < 0 { Err(Bad) } else { Ok(x) }
}

#[task]
fn any(x: i64) -> anyhow::Result<i64> {
    anyhow::ensure!(x >= 0, "negative");
    Ok(x)
}

#[task]
async fn any_spelled(x: i64) -> Result<i64, anyhow::Error> {
    Ok(x)
}

#[task]
fn boxed(x: i64) -> Result<i64, Box<dyn std::error::Error + Send + Sync>> {
    Ok(x.to_string().parse::<i64>()?)
}

#[task]
fn string(x: i64) -> Result<i64, String> {
    Ok(x)
}

#[task]
fn task_error(path: String) -> Result<usize, TaskError> {
    Ok(std::fs::read_to_string(path)?.len())
}

#[task]
fn io(path: String) -> std::io::Result<usize> {
    Ok(std::fs::read(path)?.len())
}

fn main() {
    let _ = (map_task!(std_error), map_task!(any), map_task!(any_spelled), map_task!(boxed));
    let _ = (map_task!(string), map_task!(task_error), map_task!(io));
}
