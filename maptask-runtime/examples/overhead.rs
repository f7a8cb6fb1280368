//! Per-element overhead of the engine against hand-written tokio floors, for a no-op sync task.
//!
//! `cargo run --release -p maptask-runtime --example overhead [n] [concurrency...]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use maptask_core::{MapSpec, TaskError};
use maptask_runtime::{work, RunOptions, Runtime};
use tokio::sync::Semaphore;

#[inline(never)]
fn noop(x: i64) -> i64 {
    std::hint::black_box(x)
}

async fn floor_spawn(n: usize, c: usize) -> Vec<i64> {
    let semaphore = Arc::new(Semaphore::new(if c == 0 {
        Semaphore::MAX_PERMITS
    } else {
        c
    }));
    let mut handles = Vec::with_capacity(n);
    for x in 0..n as i64 {
        let permit = Arc::clone(&semaphore).acquire_owned().await.unwrap();
        handles.push(tokio::spawn(async move {
            let y = noop(x);
            drop(permit);
            y
        }));
    }
    let mut out = Vec::with_capacity(n);
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

async fn floor_buffer_unordered(n: usize, c: usize) -> Vec<i64> {
    let c = if c == 0 { n } else { c };
    let mut out = vec![0; n];
    let mut stream = futures::stream::iter(0..n as i64)
        .map(|x| async move { (x as usize, noop(x)) })
        .buffer_unordered(c);
    while let Some((i, y)) = stream.next().await {
        out[i] = y;
    }
    out
}

async fn engine(rt: &Runtime, n: usize, c: usize) -> Vec<i64> {
    let spec = MapSpec::new("noop").concurrency(c);
    let outcome = rt
        .run_map(
            &spec,
            (0..n as i64).collect(),
            work::blocking(|x: i64| Ok::<_, TaskError>(noop(x))),
            RunOptions::new(),
        )
        .await;
    outcome.into_all().unwrap()
}

async fn engine_async(rt: &Runtime, n: usize, c: usize) -> Vec<i64> {
    let spec = MapSpec::new("noop").concurrency(c);
    let outcome = rt
        .run_map(
            &spec,
            (0..n as i64).collect(),
            work::async_fn(|x: i64| async move { Ok::<_, TaskError>(noop(x)) }),
            RunOptions::new(),
        )
        .await;
    outcome.into_all().unwrap()
}

fn best<F: FnMut() -> Duration>(runs: usize, mut f: F) -> Duration {
    (0..runs).map(|_| f()).min().unwrap()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let cs: Vec<usize> = if args.len() > 1 {
        args[1..].to_vec()
    } else {
        vec![0, 64]
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rt = Runtime::builder().build();
    let per = |d: Duration| d.as_nanos() as f64 / n as f64;
    if let Ok(mode) = std::env::var("ONLY") {
        // For profiling: one path, several times.
        for c in cs {
            let d = best(5, || {
                let t = Instant::now();
                let v = match mode.as_str() {
                    "async" => tokio.block_on(engine_async(&rt, n, c)),
                    "spawn" => tokio.block_on(floor_spawn(n, c)),
                    _ => tokio.block_on(engine(&rt, n, c)),
                };
                assert_eq!(v.len(), n);
                t.elapsed()
            });
            println!("{mode} n={n} c={c}: {:.0} ns/elt", per(d));
        }
        return;
    }
    for c in cs {
        let spawn = best(5, || {
            let t = Instant::now();
            let v = tokio.block_on(floor_spawn(n, c));
            assert_eq!(v.len(), n);
            t.elapsed()
        });
        let buffered = best(5, || {
            let t = Instant::now();
            let v = tokio.block_on(floor_buffer_unordered(n, c));
            assert_eq!(v.len(), n);
            t.elapsed()
        });
        let ours = best(5, || {
            let t = Instant::now();
            let v = tokio.block_on(engine(&rt, n, c));
            assert_eq!(v.len(), n);
            t.elapsed()
        });
        let ours_async = best(5, || {
            let t = Instant::now();
            let v = tokio.block_on(engine_async(&rt, n, c));
            assert_eq!(v.len(), n);
            t.elapsed()
        });
        println!(
            "n={n} c={c}: spawn+semaphore {:.0} ns/elt, buffer_unordered {:.0} ns/elt, \
             engine blocking {:.0} ns/elt ({:.2}x spawn, {:.2}x buffered), engine async {:.0} ns/elt ({:.2}x spawn)",
            per(spawn),
            per(buffered),
            per(ours),
            per(ours) / per(spawn),
            per(ours) / per(buffered),
            per(ours_async),
            per(ours_async) / per(spawn),
        );
    }
}
