//! Overhead per element of `map_task!`, against hand-written tokio, with divan.
//!
//! `cargo bench --bench map_overhead` (add `-- noop` to filter by name). Every benchmark counts
//! elements, so divan prints a throughput per element next to the time per map. The full table
//! of issue #6, with ratios, is `cargo run --release --example bench`; this suite is for
//! comparing one change against another at small sizes.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};

use divan::counter::ItemsCount;
use divan::Bencher;
use futures::StreamExt;
use maptask::prelude::*;
use maptask::runtime::{work, RunOptions};
use maptask::MapSpec;
use tokio::sync::Semaphore;

fn main() {
    divan::main();
}

/// Element counts: small enough that a sample takes at most a few milliseconds.
const SIZES: &[usize] = &[1_000, 10_000];

/// The tokio runtime every benchmark runs on: one worker per core, as `#[tokio::main]` builds.
static RT: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
});

/// Runs `fut` inside a task of the runtime, as a map called from application code would be.
fn run<T: Send + 'static>(fut: impl std::future::Future<Output = T> + Send + 'static) -> T {
    RT.block_on(async move { tokio::spawn(fut).await.expect("no panic") })
}

fn inputs(n: usize) -> Vec<i64> {
    (0..n as i64).collect()
}

/// The no-op task of scenario 1.
#[task]
fn noop(x: i64) -> i64 {
    x
}

static SEEN: OnceLock<Box<[AtomicU8]>> = OnceLock::new();

/// Every tenth element fails on its first attempt (scenario 5). The flags are reset between
/// samples, outside the timed region.
#[task(retries = 1)]
fn flaky(x: i64) -> Result<i64, TaskError> {
    let seen = SEEN.get().expect("flags allocated");
    if x % 10 == 0 && seen[x as usize].swap(1, Ordering::Relaxed) == 0 {
        return Err(TaskError::msg("transient"));
    }
    Ok(x)
}

/// `map_task!(noop)`: the user's path. `C` is the concurrency, 0 for unbounded.
#[divan::bench(args = SIZES, consts = [0, 64])]
fn map_task_noop<const C: usize>(bencher: Bencher, n: usize) {
    let map = map_task!(noop).with_concurrency(C);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| inputs(n))
        .bench_local_values(|xs| {
            let map = map.clone();
            run(async move { map.call(xs).await.expect("no failure") })
        });
}

/// `Runtime::run_map` with `work::blocking`: the engine without the macro's layer.
#[divan::bench(args = SIZES, consts = [0, 64])]
fn engine_noop<const C: usize>(bencher: Bencher, n: usize) {
    let spec = MapSpec::new("noop").concurrency(C);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| inputs(n))
        .bench_local_values(|xs| {
            let spec = spec.clone();
            run(async move {
                Runtime::global()
                    .run_map(
                        &spec,
                        xs,
                        work::blocking(|x: i64| Ok(noop(x))),
                        RunOptions::default(),
                    )
                    .await
                    .into_all()
                    .expect("no failure")
            })
        });
}

/// Floor (a): a `tokio::spawn` per element, gated by an `Arc<Semaphore>` when bounded.
#[divan::bench(args = SIZES, consts = [0, 64])]
fn floor_spawn_semaphore<const C: usize>(bencher: Bencher, n: usize) {
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| inputs(n))
        .bench_local_values(|xs| {
            run(async move {
                let semaphore = (C > 0).then(|| Arc::new(Semaphore::new(C)));
                let mut handles = Vec::with_capacity(xs.len());
                for x in xs {
                    let permit = match &semaphore {
                        Some(s) => Some(Arc::clone(s).acquire_owned().await.expect("open")),
                        None => None,
                    };
                    handles.push(tokio::spawn(async move {
                        let y = noop(x);
                        drop(permit);
                        y
                    }));
                }
                let mut out = Vec::with_capacity(handles.len());
                for handle in handles {
                    out.push(handle.await.expect("no panic"));
                }
                out
            })
        });
}

/// Floor (b): `buffer_unordered(c)` in the calling task (`c = n` when unbounded).
#[divan::bench(args = SIZES, consts = [0, 64])]
fn floor_buffer_unordered<const C: usize>(bencher: Bencher, n: usize) {
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| inputs(n))
        .bench_local_values(|xs| {
            run(async move {
                let n = xs.len();
                let c = if C == 0 { n.max(1) } else { C };
                let mut out = vec![0i64; n];
                let mut stream = futures::stream::iter(xs.into_iter().enumerate())
                    .map(|(i, x)| async move { (i, noop(x)) })
                    .buffer_unordered(c);
                while let Some((i, y)) = stream.next().await {
                    out[i] = y;
                }
                out
            })
        });
}

/// Scenario 5: 10% of the elements fail once, then succeed on their retry. One iteration per
/// sample, so that the flags reset before each iteration are still clear when it runs.
#[divan::bench(args = SIZES, sample_size = 1)]
fn map_task_failing_tenth(bencher: Bencher, n: usize) {
    let seen = SEEN.get_or_init(|| {
        (0..SIZES[SIZES.len() - 1])
            .map(|_| AtomicU8::new(0))
            .collect()
    });
    let map = map_task!(flaky, retries = 1);
    bencher
        .counter(ItemsCount::new(n))
        .with_inputs(|| {
            for flag in &seen[..n] {
                flag.store(0, Ordering::Relaxed);
            }
            inputs(n)
        })
        .bench_local_values(|xs| {
            let map = map.clone();
            run(async move {
                map.call(xs)
                    .await
                    .expect("every element succeeds on a retry")
            })
        });
}
