//! The child process of the resume test: a cached map over `n` elements that each append their
//! index to a log and work a few milliseconds.
//!
//! `cache-crash-child <store-file|off> <log> <n> <work_ms>` prints one output per line.

use maptask::prelude::*;
use maptask_cache_tests::append_and_work;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, store, log, n, work_ms] = args.as_slice() else {
        return Err("usage: cache-crash-child <store-file|off> <log> <n> <work_ms>".into());
    };
    let n: i64 = n.parse()?;
    let work_ms: u64 = work_ms.parse()?;
    let map = map_task!(
        append_and_work,
        concurrency = 8,
        log = log.clone(),
        work_ms = work_ms
    );
    let map = if store == "off" {
        map.without_cache()
    } else {
        map.with_cache(maptask::cache::Store::open(store)?)
    };
    let outputs = map.call((0..n).collect()).await?;
    for output in outputs {
        println!("{output}");
    }
    Ok(())
}
