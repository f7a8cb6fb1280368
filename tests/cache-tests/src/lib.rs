//! Tasks shared by the cache's tests, the crash child and the benchmark.
//!
//! Each task counts its real runs per `tag`, so tests running in parallel never see each
//! other's counts.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

use maptask::prelude::*;

static RUNS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

fn count(tag: &str) {
    let mut runs = RUNS.lock().unwrap_or_else(|p| p.into_inner());
    *runs
        .get_or_insert_with(HashMap::new)
        .entry(tag.to_owned())
        .or_default() += 1;
}

/// How many times a task body really ran for `tag`.
pub fn runs(tag: &str) -> usize {
    let runs = RUNS.lock().unwrap_or_else(|p| p.into_inner());
    runs.as_ref().and_then(|r| r.get(tag)).copied().unwrap_or(0)
}

/// Three numbers from `x` on; cached. Counts its runs under `<tag>/node`.
#[task(cache = "1")]
pub fn range_of(x: i64, tag: String) -> Vec<i64> {
    count(&format!("{tag}/node"));
    (x..x + 3).collect()
}

/// Scales `x`; cached.
#[task(cache = "1")]
pub fn scale(x: i64, factor: i64, tag: String) -> i64 {
    count(&tag);
    x * factor
}

/// The same inputs as `scale`, another task.
#[task(cache = "1")]
pub fn scale_again(x: i64, factor: i64, tag: String) -> i64 {
    count(&tag);
    x * factor
}

/// Version 1 of a task named `demo.versioned`.
#[task(cache = "1", name = "demo.versioned")]
pub fn versioned_v1(x: i64, tag: String) -> i64 {
    count(&tag);
    x + 1
}

/// Version 2 of the task named `demo.versioned`.
#[task(cache = "2", name = "demo.versioned")]
pub fn versioned_v2(x: i64, tag: String) -> i64 {
    count(&tag);
    x + 1
}

/// Labels `x`; `verbose` is not part of the key.
#[task(cache = "1", cache_ignore = ["verbose"])]
pub fn label(x: i64, verbose: bool, tag: String) -> String {
    count(&tag);
    // Only how much is logged would depend on `verbose`; the output does not.
    let _ = verbose;
    format!("the number {x}")
}

/// The elements whose `x` is in this list fail.
pub static FAILING: Mutex<Vec<i64>> = Mutex::new(Vec::new());

/// Fails for the `x` in [`FAILING`].
#[task(cache = "1")]
pub fn flaky(x: i64, tag: String) -> Result<i64, TaskError> {
    count(&tag);
    if FAILING.lock().unwrap().contains(&x) {
        Err(TaskError::permanent_msg(format!("{x} fails")))
    } else {
        Ok(x * 3)
    }
}

/// An async cached task.
#[task(cache = "1")]
pub async fn async_square(x: i64, tag: String) -> i64 {
    count(&tag);
    tokio::task::yield_now().await;
    x * x
}

/// Appends `i` to the file `log`, works for `work_ms`, and returns a value of `i`. Only `i` is
/// in the key.
#[task(cache = "1", cache_ignore = ["log", "work_ms"])]
pub fn append_and_work(i: i64, log: String, work_ms: u64) -> String {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("the log opens");
    // One write per line, with O_APPEND: lines from concurrent elements never interleave.
    file.write_all(format!("{i}\n").as_bytes())
        .expect("the log is written");
    std::thread::sleep(std::time::Duration::from_millis(work_ms));
    format!("{i}:{}", i * i + 7)
}

/// A no-op, for the benchmark.
#[task(cache = "1")]
pub fn identity(x: i64) -> i64 {
    x
}
