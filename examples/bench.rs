//! The benchmark table of issues #6 and #14: the overhead of `map_task!` per element, against floors
//! measured in the same process and the same run.
//!
//! ```text
//! cargo run --release --example bench                    # the full table (about 2 minutes)
//! cargo run --release --example bench -- --quick         # a smoke run, a few seconds
//! cargo run --release --example bench -- --json out.json # also write the table as JSON
//! cargo run --release --example bench -- --only 1 --sizes 10000   # one scenario, chosen sizes
//! ```
//!
//! Scenarios (see `benches/RESULTS.md` for the figures and their analysis):
//!
//! 1. a no-op sync task `fn(i64) -> i64`, n = 10^3, 10^4, 10^6, unbounded and with concurrency
//!    64: ns per element, against (a) a `tokio::spawn` per element gated by an `Arc<Semaphore>`
//!    and (b) `futures::stream::iter(..).map(..).buffer_unordered(c)`;
//! 2. an async task sleeping 10 ms, n = 10,000, concurrency 1,000: wall time against
//!    n / c × 10 ms;
//! 3. a CPU-bound sync task of about 1 ms, n = 2,000, unbounded: wall time against n × t / cores,
//!    with t measured single-threaded in this run;
//! 4. peak RSS growth per element at n = 10^6 for scenario 1, each figure in a fresh child
//!    process, against the 16 bytes of the input and output values;
//! 5. n = 10^5, 10% of the elements fail once then succeed (retries = 1): ns per element,
//!    against scenario 1 at the same n, measured in the same rounds, and against the same
//!    failing task by hand (a sequential loop, and rayon, retrying inline and keeping the
//!    errors);
//! 6. a `#[workflow]` chaining ten quick sync nodes: time per node, against the same chain by
//!    hand with one `spawn_blocking` per node, and against the plain calls.
//!
//! Scenario 1 runs n = 10^3 to 10^7 against three more floors: a sequential loop, rayon's
//! `par_iter().map().collect()`, and `tokio::task::spawn_blocking` over one chunk per core.
//! Scenario 3 adds rayon and the chunked `spawn_blocking`.
//!
//! Every timed figure is the median of several rounds; in each round every variant runs once,
//! in turn, so that drift of the machine hits them alike.

use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures::StreamExt;
use maptask::prelude::*;
use maptask::runtime::{work, RunOptions};
use maptask::MapSpec;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------------------------
// The tasks.

/// Scenario 1: nothing at all.
#[task]
fn noop(x: i64) -> i64 {
    x
}

/// Scenario 2: waits 10 ms.
#[task]
async fn nap(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_millis(10)).await;
    x
}

/// Scenario 3: about 1 ms of arithmetic (`iters` is calibrated at start-up).
#[task]
fn crunch(seed: u64, iters: u64) -> u64 {
    spin(seed, iters)
}

/// A serial xorshift chain: no vectorization, no shortcut.
fn spin(seed: u64, iters: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..black_box(iters) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Scenario 6: one quick step of a chain of workflow nodes.
#[task]
fn step(x: i64) -> i64 {
    x + 1
}

/// Scenario 6: ten quick sync nodes in a chain.
#[workflow]
fn chain10(x: i64) -> i64 {
    let a = step(x);
    let b = step(a);
    let c = step(b);
    let d = step(c);
    let e = step(d);
    let f = step(e);
    let g = step(f);
    let h = step(g);
    let i = step(h);
    step(i)
}

/// Per-element attempt flags for scenario 5, indexed by the input.
static SEEN: OnceLock<Box<[AtomicU8]>> = OnceLock::new();

fn seen() -> &'static [AtomicU8] {
    SEEN.get().map_or(&[], |b| &b[..])
}

fn reset_seen(n: usize) {
    let table = SEEN.get_or_init(|| (0..n.max(1)).map(|_| AtomicU8::new(0)).collect());
    assert!(
        table.len() >= n,
        "scenario 5 sizes must not grow within a run"
    );
    for flag in &table[..n] {
        flag.store(0, Ordering::Relaxed);
    }
}

/// Scenario 5: every tenth element fails on its first attempt and succeeds on its second.
#[task(retries = 1)]
fn flaky(x: i64) -> Result<i64, TaskError> {
    let flag = &seen()[x as usize];
    if x % 10 == 0 && flag.swap(1, Ordering::Relaxed) == 0 {
        return Err(TaskError::msg("transient"));
    }
    Ok(x)
}

// ---------------------------------------------------------------------------------------------
// The floors: hand-written tokio doing the same work.

/// Floor (a): one `tokio::spawn` per element; with a bound, a permit of an `Arc<Semaphore>` is
/// taken before each spawn and released when the element ends. Outputs collected in order.
async fn floor_spawn<O, F, Fut>(inputs: Vec<i64>, c: usize, f: F) -> Vec<O>
where
    O: Send + 'static,
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = O> + Send + 'static,
{
    let n = inputs.len();
    let mut handles = Vec::with_capacity(n);
    if c == 0 {
        for x in inputs {
            handles.push(tokio::spawn(f(x)));
        }
    } else {
        let semaphore = Arc::new(Semaphore::new(c));
        for x in inputs {
            let permit = Arc::clone(&semaphore).acquire_owned().await.expect("open");
            let fut = f(x);
            handles.push(tokio::spawn(async move {
                let y = fut.await;
                drop(permit);
                y
            }));
        }
    }
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("no panic"));
    }
    out
}

/// Floor (b): `stream::iter(..).map(..).buffer_unordered(c)` in the calling task (`c = n` when
/// unbounded), outputs put back in input order.
async fn floor_buffer<O, F, Fut>(inputs: Vec<i64>, c: usize, f: F) -> Vec<O>
where
    O: Default + Clone,
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = O>,
{
    let n = inputs.len();
    let c = if c == 0 { n.max(1) } else { c };
    let mut out = vec![O::default(); n];
    let mut stream = futures::stream::iter(inputs.into_iter().enumerate())
        .map(|(i, x)| {
            let fut = f(x);
            async move { (i, fut.await) }
        })
        .buffer_unordered(c);
    while let Some((i, y)) = stream.next().await {
        out[i] = y;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Timing.

type BoxFut<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// One variant of a measurement: runs `batch` calls over fresh inputs and returns their total
/// time (input preparation and output drop excluded).
struct Variant<'a> {
    name: &'static str,
    run: Box<dyn Fn(usize) -> BoxFut<'a> + Send + Sync + 'a>,
}

struct Timed {
    /// Median per call.
    median: Duration,
    /// Fastest per call.
    min: Duration,
    /// Slowest per call.
    max: Duration,
}

impl Timed {
    /// The spread of the rounds around the median, as `-a%/+b%`.
    fn spread(&self) -> String {
        let m = self.median.as_secs_f64().max(1e-12);
        format!(
            "-{:.0}%/+{:.0}%",
            (m - self.min.as_secs_f64()) / m * 100.0,
            (self.max.as_secs_f64() - m) / m * 100.0
        )
    }
}

fn per_call(samples: &mut [Duration], batch: usize) -> Timed {
    samples.sort_unstable();
    let b = batch as u32;
    Timed {
        median: samples[samples.len() / 2] / b,
        min: samples[0] / b,
        max: samples[samples.len() - 1] / b,
    }
}

/// Runs every variant once per round, `rounds` times (after one warm-up round).
async fn rounds(variants: &[Variant<'_>], rounds: usize, batch: usize) -> Vec<Timed> {
    let mut samples: Vec<Vec<Duration>> = variants.iter().map(|_| Vec::new()).collect();
    for round in 0..=rounds {
        for (v, variant) in variants.iter().enumerate() {
            let t = (variant.run)(batch);
            let elapsed = {
                let start = Instant::now();
                t.await;
                start.elapsed()
            };
            if round > 0 {
                samples[v].push(elapsed);
            }
        }
    }
    samples.iter_mut().map(|s| per_call(s, batch)).collect()
}

fn inputs(n: usize) -> Vec<i64> {
    (0..n as i64).collect()
}

/// Times `batch` calls of `call` over fresh inputs of size `n`: the inputs are built before the
/// clock starts, the outputs dropped after it stops, and checked.
macro_rules! timed_batch {
    ($n:expr, $batch:expr, |$xs:ident| $call:expr) => {{
        let n = $n;
        let batch = $batch;
        async move {
            let all: Vec<Vec<i64>> = (0..batch).map(|_| inputs(n)).collect();
            let mut outs = Vec::with_capacity(batch);
            let start = Instant::now();
            for $xs in all {
                outs.push($call);
            }
            let elapsed = start.elapsed();
            for out in &outs {
                check_identity(out, n);
            }
            drop(outs);
            elapsed
        }
    }};
}

fn check_identity(out: &[i64], n: usize) {
    assert_eq!(out.len(), n);
    assert!(out.iter().enumerate().all(|(i, &y)| y == i as i64));
}

/// Runs each variant's timed batch per round; returns the median time per call of each.
async fn rounds_timed(
    names: &[&'static str],
    run: &(dyn Fn(usize) -> BoxFutDur + Send + Sync),
    rounds: usize,
) -> Vec<Timed> {
    let mut samples: Vec<Vec<Duration>> = names.iter().map(|_| Vec::new()).collect();
    for round in 0..=rounds {
        for (v, sample) in samples.iter_mut().enumerate() {
            let elapsed = run(v).await;
            if round > 0 {
                sample.push(elapsed);
            }
        }
    }
    samples.iter_mut().map(|s| per_call(s, 1)).collect()
}

type BoxFutDur = std::pin::Pin<Box<dyn std::future::Future<Output = Duration> + Send>>;

// ---------------------------------------------------------------------------------------------
// Options and output.

struct Options {
    quick: bool,
    json: Option<String>,
    only: Option<Vec<u32>>,
    sizes: Option<Vec<usize>>,
}

impl Options {
    fn parse() -> Options {
        let mut options = Options {
            quick: false,
            json: None,
            only: None,
            sizes: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--json" => options.json = Some(args.next().expect("--json needs a path")),
                "--only" => {
                    let list = args.next().expect("--only needs a list, e.g. 1,3");
                    options.only = Some(
                        list.split(',')
                            .map(|s| s.parse().expect("a number"))
                            .collect(),
                    );
                }
                "--sizes" => {
                    let list = args.next().expect("--sizes needs a list, e.g. 1000,10000");
                    options.sizes = Some(
                        list.split(',')
                            .map(|s| s.parse().expect("a number"))
                            .collect(),
                    );
                }
                "-h" | "--help" => {
                    println!(
                        "usage: bench [--quick] [--json PATH] [--only 1,2,3,4,5,6] [--sizes N,..]"
                    );
                    std::process::exit(0);
                }
                other => panic!("unknown argument `{other}`; try --help"),
            }
        }
        options
    }

    fn runs(&self, scenario: u32) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.contains(&scenario))
    }
}

/// The load averages of the machine: other processes on it skew every figure.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ns_per(d: Duration, n: usize) -> f64 {
    d.as_nanos() as f64 / n as f64
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn conc_label(c: usize) -> String {
    if c == 0 {
        "unbounded".into()
    } else {
        c.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario 1.

fn noop_map(c: usize) -> MapTask<noop, (i64,), (), maptask::Strict> {
    map_task!(noop).with_concurrency(c)
}

/// Floor: `tokio::task::spawn_blocking` over one contiguous chunk per core, outputs
/// concatenated in order.
async fn floor_spawn_blocking_chunks(xs: Vec<i64>) -> Vec<i64> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let chunk = xs.len().div_ceil(cores).max(1);
    let mut handles = Vec::with_capacity(cores);
    let mut xs = xs;
    while !xs.is_empty() {
        let rest = xs.split_off(chunk.min(xs.len()));
        let part = std::mem::replace(&mut xs, rest);
        handles.push(tokio::task::spawn_blocking(move || {
            part.into_iter().map(noop).collect::<Vec<i64>>()
        }));
    }
    let mut out = Vec::new();
    for handle in handles {
        let part = handle.await.expect("no panic");
        if out.is_empty() {
            out = part;
        } else {
            out.extend(part);
        }
    }
    out
}

/// The variants of scenario 1, in column order.
const S1_NAMES: [&str; 7] = [
    "map_task",
    "engine",
    "sequential",
    "rayon",
    "spawn_blocking_chunks",
    "floor_spawn",
    "floor_buffer",
];

async fn scenario1(sizes: &[usize], quick: bool) -> Vec<Value> {
    println!(
        "\n## 1. no-op sync task: ns per element (median of rounds, spread -fastest/+slowest)\n"
    );
    println!(
        "| n | concurrency | map_task! | engine (run_map) | sequential loop | rayon | spawn_blocking x cores | spawn+semaphore | buffer_unordered | map_task! / rayon | map_task! / sequential | map_task! / spawn_blocking |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for &n in sizes {
        // Windows only up to 10^6; the per-element tokio floors only up to 10^6 (seconds each
        // beyond).
        let windows: &[usize] = if n > 1_000_000 { &[0] } else { &[0, 64] };
        for &c in windows {
            let (batch, rounds_n) = match n {
                0..=2_000 => (if quick { 50 } else { 400 }, if quick { 3 } else { 9 }),
                2_001..=20_000 => (if quick { 5 } else { 40 }, if quick { 3 } else { 9 }),
                20_001..=200_000 => (if quick { 2 } else { 8 }, if quick { 3 } else { 7 }),
                200_001..=2_000_000 => (if quick { 1 } else { 4 }, if quick { 3 } else { 7 }),
                _ => (1, if quick { 3 } else { 5 }),
            };
            let per_element_floors = n <= 1_000_000;
            let map = noop_map(c);
            let spec = MapSpec::new("noop.engine").concurrency(c);
            let run = |v: usize| -> BoxFutDur {
                let map = map.clone();
                let spec = spec.clone();
                match v {
                    0 => Box::pin(timed_batch!(n, batch, |xs| map
                        .call(xs)
                        .await
                        .expect("no failure"))),
                    1 => Box::pin(timed_batch!(n, batch, |xs| Runtime::global()
                        .run_map(
                            &spec,
                            xs,
                            work::blocking(|x: i64| Ok(noop(x))),
                            RunOptions::default()
                        )
                        .await
                        .into_all()
                        .expect("no failure"))),
                    2 => Box::pin(timed_batch!(n, batch, |xs| xs
                        .iter()
                        .map(|&x| noop(x))
                        .collect::<Vec<i64>>())),
                    3 => Box::pin(timed_batch!(n, batch, |xs| {
                        use rayon::prelude::*;
                        xs.par_iter().map(|&x| noop(x)).collect::<Vec<i64>>()
                    })),
                    4 => {
                        Box::pin(timed_batch!(n, batch, |xs| floor_spawn_blocking_chunks(xs).await))
                    }
                    5 if per_element_floors => Box::pin(timed_batch!(n, batch, |xs| floor_spawn(
                        xs,
                        c,
                        |x| async move { noop(x) }
                    )
                    .await)),
                    6 if per_element_floors => Box::pin(timed_batch!(n, batch, |xs| floor_buffer(
                        xs,
                        c,
                        |x| async move { noop(x) }
                    )
                    .await)),
                    _ => Box::pin(async { Duration::ZERO }),
                }
            };
            let t = rounds_timed(&S1_NAMES, &run, rounds_n).await;
            let per = |i: usize| {
                if i >= 5 && !per_element_floors {
                    f64::NAN
                } else {
                    ns_per(t[i].median, n * batch)
                }
            };
            let cell = |i: usize| {
                if per(i).is_nan() {
                    "-".to_owned()
                } else {
                    format!("{:.2} ({})", per(i), t[i].spread())
                }
            };
            let ours = per(0);
            let (seq, rayon, chunks) = (per(2), per(3), per(4));
            println!(
                "| {n} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2}x | {:.2}x | {:.2}x |",
                conc_label(c),
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                cell(4),
                cell(5),
                cell(6),
                ours / rayon,
                ours / seq,
                ours / chunks,
            );
            let mut row = serde_json::Map::new();
            row.insert("n".into(), json!(n));
            row.insert("concurrency".into(), json!(c));
            row.insert("batch".into(), json!(batch));
            row.insert("rounds".into(), json!(rounds_n));
            for (i, name) in S1_NAMES.iter().enumerate() {
                if !per(i).is_nan() {
                    row.insert(format!("{name}_ns"), json!(per(i)));
                    row.insert(format!("{name}_min_ns"), json!(ns_per(t[i].min, n * batch)));
                    row.insert(format!("{name}_max_ns"), json!(ns_per(t[i].max, n * batch)));
                }
            }
            row.insert("ratio_to_rayon".into(), json!(ours / rayon));
            row.insert("ratio_to_sequential".into(), json!(ours / seq));
            row.insert(
                "ratio_to_spawn_blocking_chunks".into(),
                json!(ours / chunks),
            );
            rows.push(Value::Object(row));
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// Scenario 2.

async fn scenario2(n: usize, c: usize, rounds_n: usize) -> Value {
    println!("\n## 2. async task sleeping 10 ms: wall time (median of {rounds_n} rounds)\n");
    let ideal = Duration::from_millis(10) * (n.div_ceil(c) as u32);
    let map = map_task!(nap).with_concurrency(c);
    let sleeper = |x: i64| async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        x
    };
    let variants = [
        Variant {
            name: "map_task",
            run: Box::new(|_| {
                let map = map.clone();
                Box::pin(async move {
                    let out = map.call(inputs(n)).await.expect("no failure");
                    check_identity(&out, n);
                })
            }),
        },
        Variant {
            name: "floor_spawn",
            run: Box::new(move |_| {
                Box::pin(async move {
                    let out = floor_spawn(inputs(n), c, sleeper).await;
                    check_identity(&out, n);
                })
            }),
        },
        Variant {
            name: "floor_buffer",
            run: Box::new(move |_| {
                Box::pin(async move {
                    let out = floor_buffer(inputs(n), c, sleeper).await;
                    check_identity(&out, n);
                })
            }),
        },
    ];
    let t = rounds(&variants, rounds_n, 1).await;
    // What one `sleep(10 ms)` really takes on this runtime: tokio's timer wheel has a 1 ms
    // resolution and rounds deadlines up, so no tokio program reaches n / c x 10 ms.
    let mut sleeps = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        tokio::time::sleep(Duration::from_millis(10)).await;
        sleeps.push(start.elapsed());
    }
    let sleep = per_call(&mut sleeps, 1).median;
    let reachable = sleep * (n.div_ceil(c) as u32);
    println!(
        "one sleep(10 ms) takes {:.2} ms here (median of 20), so n / c sleeps in a row take {:.1} ms\n",
        ms(sleep),
        ms(reachable)
    );
    println!("| n | concurrency | ideal n/c x 10 ms | variant | wall (spread) | ratio to hand-written tokio (spawn+semaphore), same run | ratio to ideal | ratio to n/c x measured sleep |");
    println!("|---:|---:|---:|---|---:|---:|---:|---:|");
    let mut variants_json = serde_json::Map::new();
    let floor = t[1].median.as_secs_f64();
    for (variant, timed) in variants.iter().zip(&t) {
        let ratio = timed.median.as_secs_f64() / ideal.as_secs_f64();
        let ratio_reachable = timed.median.as_secs_f64() / reachable.as_secs_f64();
        let ratio_floor = timed.median.as_secs_f64() / floor;
        println!(
            "| {n} | {c} | {:.1} ms | {} | {:.1} ms ({}) | {ratio_floor:.3}x | {ratio:.3}x | {ratio_reachable:.3}x |",
            ms(ideal),
            variant.name,
            ms(timed.median),
            timed.spread()
        );
        variants_json.insert(
            variant.name.into(),
            json!({
                "wall_ms": ms(timed.median), "min_ms": ms(timed.min), "max_ms": ms(timed.max),
                "ratio_to_ideal": ratio, "ratio_to_measured_sleeps": ratio_reachable,
                "ratio_to_floor_spawn": ratio_floor,
            }),
        );
    }
    json!({
        "n": n, "concurrency": c, "ideal_ms": ms(ideal), "measured_sleep_ms": ms(sleep),
        "measured_sleeps_ms": ms(reachable), "variants": variants_json
    })
}

// ---------------------------------------------------------------------------------------------
// Scenario 3.

/// Finds `iters` such that `spin` takes about `target` on this thread.
fn calibrate(target: Duration) -> u64 {
    let mut iters: u64 = 10_000;
    loop {
        let start = Instant::now();
        black_box(spin(black_box(7), iters));
        let took = start.elapsed();
        if took >= Duration::from_millis(20) {
            // The fastest of a few runs: another process may have had the core for one of them.
            let took = (0..4)
                .map(|_| {
                    let start = Instant::now();
                    black_box(spin(black_box(7), iters));
                    start.elapsed()
                })
                .fold(took, Duration::min);
            let scaled = iters as f64 * target.as_secs_f64() / took.as_secs_f64();
            return scaled.max(1.0) as u64;
        }
        iters *= 4;
    }
}

async fn scenario3(n: usize, rounds_n: usize) -> Value {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let iters = calibrate(Duration::from_millis(1));
    // t: the task body alone, single-threaded on this thread, timed in every round next to the
    // maps so that drift of the machine hits both alike.
    let probe = (n / 8).max(25);
    println!(
        "\n## 3. CPU-bound sync task: wall time (median of {rounds_n} rounds)\n\n\
         {iters} iterations per element; t timed over {probe} elements single-threaded per round\n"
    );
    let map = map_task!(crunch, iters = iters);
    let seeds = || (0..n as u64).collect::<Vec<u64>>();
    let variants = [
        Variant {
            name: "t_single_thread",
            run: Box::new(move |_| {
                Box::pin(async move {
                    for seed in 0..probe as u64 {
                        black_box(crunch(black_box(seed), iters));
                    }
                })
            }),
        },
        Variant {
            name: "map_task",
            run: Box::new(|_| {
                let map = map.clone();
                Box::pin(async move {
                    let out = map.call(seeds()).await.expect("no failure");
                    assert_eq!(out.len(), n);
                })
            }),
        },
        Variant {
            name: "floor_spawn",
            run: Box::new(move |_| {
                Box::pin(async move {
                    let mut handles = Vec::with_capacity(n);
                    for seed in seeds() {
                        handles.push(tokio::spawn(async move { crunch(seed, iters) }));
                    }
                    for h in handles {
                        black_box(h.await.expect("no panic"));
                    }
                })
            }),
        },
        Variant {
            name: "floor_spawn_blocking",
            run: Box::new(move |_| {
                Box::pin(async move {
                    let mut handles = Vec::with_capacity(n);
                    for seed in seeds() {
                        handles.push(tokio::task::spawn_blocking(move || crunch(seed, iters)));
                    }
                    for h in handles {
                        black_box(h.await.expect("no panic"));
                    }
                })
            }),
        },
        Variant {
            name: "rayon",
            run: Box::new(move |_| {
                Box::pin(async move {
                    use rayon::prelude::*;
                    let out: Vec<u64> = seeds().par_iter().map(|&s| crunch(s, iters)).collect();
                    assert_eq!(out.len(), n);
                })
            }),
        },
        Variant {
            name: "spawn_blocking_chunks",
            run: Box::new(move |_| {
                Box::pin(async move {
                    let xs = seeds();
                    let half = xs.len().div_ceil(cores).max(1);
                    let mut handles = Vec::new();
                    for part in xs.chunks(half) {
                        let part = part.to_vec();
                        handles.push(tokio::task::spawn_blocking(move || {
                            part.into_iter()
                                .map(|s| crunch(s, iters))
                                .collect::<Vec<u64>>()
                        }));
                    }
                    let mut total = 0;
                    for h in handles {
                        total += h.await.expect("no panic").len();
                    }
                    assert_eq!(total, n);
                })
            }),
        },
    ];
    let timed = rounds(&variants, rounds_n, 1).await;
    let t = timed[0].median / probe as u32;
    let ideal = t * n as u32 / cores as u32;
    println!(
        "t = {:.3} ms single-threaded, cores = {cores}\n",
        t.as_secs_f64() * 1e3
    );
    println!("| n | ideal n x t / cores | variant | wall (spread) | ratio to rayon, same run | ratio to ideal |");
    println!("|---:|---:|---|---:|---:|---:|");
    let mut variants_json = serde_json::Map::new();
    let rayon = timed[4].median.as_secs_f64();
    for (variant, tm) in variants.iter().zip(&timed).skip(1) {
        let ratio = tm.median.as_secs_f64() / ideal.as_secs_f64();
        let ratio_rayon = tm.median.as_secs_f64() / rayon;
        println!(
            "| {n} | {:.1} ms | {} | {:.1} ms ({}) | {ratio_rayon:.3}x | {ratio:.3}x |",
            ms(ideal),
            variant.name,
            ms(tm.median),
            tm.spread()
        );
        variants_json.insert(
            variant.name.into(),
            json!({"wall_ms": ms(tm.median), "min_ms": ms(tm.min), "max_ms": ms(tm.max),
                   "ratio_to_ideal": ratio, "ratio_to_rayon": ratio_rayon}),
        );
    }
    json!({
        "n": n, "cores": cores, "iters": iters, "t_ms": t.as_secs_f64() * 1e3,
        "ideal_ms": ms(ideal), "variants": variants_json
    })
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: memory, each figure in a fresh child process.

/// `VmRSS` and `VmHWM` of this process, in bytes.
fn rss_hwm() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets `VmHWM` to the current RSS; returns whether the kernel allowed it.
fn reset_hwm() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

const MEM_VARIANTS: [&str; 5] = [
    "map_task",
    "map_task_c64",
    "engine",
    "floor_spawn",
    "floor_buffer",
];

/// The child: runs one variant once at size `n` and prints `baseline peak` in bytes.
fn mem_child(variant: &str, n: usize) {
    let variant = variant.to_owned();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        tokio::spawn(async move {
            // Warm up: start the compute pool and the workers, on a small map of each kind.
            let small = 1_000;
            check_identity(&noop_map(0).call(inputs(small)).await.expect("ok"), small);
            check_identity(
                &floor_spawn(inputs(small), 0, |x| async move { noop(x) }).await,
                small,
            );
            check_identity(
                &floor_buffer(inputs(small), 0, |x| async move { noop(x) }).await,
                small,
            );
            let (baseline, _) = rss_hwm();
            let reset = reset_hwm();
            let xs = inputs(n);
            let out = match variant.as_str() {
                "map_task" => noop_map(0).call(xs).await.expect("ok"),
                "map_task_c64" => noop_map(64).call(xs).await.expect("ok"),
                "engine" => Runtime::global()
                    .run_map(
                        &MapSpec::new("noop.engine"),
                        xs,
                        work::blocking(|x: i64| Ok(noop(x))),
                        RunOptions::default(),
                    )
                    .await
                    .into_all()
                    .expect("ok"),
                "floor_spawn" => floor_spawn(xs, 0, |x| async move { noop(x) }).await,
                "floor_buffer" => floor_buffer(xs, 0, |x| async move { noop(x) }).await,
                other => panic!("unknown variant {other}"),
            };
            let (_, peak) = rss_hwm();
            check_identity(&out, n);
            println!("{baseline} {peak} {reset}");
        })
        .await
        .expect("the child's task");
    });
}

fn scenario4(n: usize) -> Value {
    println!("\n## 4. peak RSS growth per element, n = {n} (fresh child process per figure)\n");
    println!("floor: the input and output values, 8 + 8 = 16 bytes per element\n");
    println!("| variant | peak growth | per element | overhead per element over 16 B |");
    println!("|---|---:|---:|---:|");
    let exe = std::env::current_exe().expect("the bench binary's path");
    let mut variants_json = serde_json::Map::new();
    for variant in MEM_VARIANTS {
        let output = std::process::Command::new(&exe)
            .args(["--child-mem", variant, &n.to_string()])
            .output()
            .expect("the child runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<&str> = text.split_whitespace().collect();
        let (Some(baseline), Some(peak)) = (
            fields.first().and_then(|v| v.parse::<u64>().ok()),
            fields.get(1).and_then(|v| v.parse::<u64>().ok()),
        ) else {
            println!(
                "| {variant} | child failed: {} | | |",
                String::from_utf8_lossy(&output.stderr).trim()
            );
            continue;
        };
        let reset = fields.get(2) == Some(&"true");
        let growth = peak.saturating_sub(baseline);
        let per = growth as f64 / n as f64;
        println!(
            "| {variant} | {:.1} MiB | {per:.1} B | {:.1} B |",
            growth as f64 / (1 << 20) as f64,
            per - 16.0
        );
        variants_json.insert(
            variant.into(),
            json!({
                "baseline_bytes": baseline, "peak_bytes": peak, "growth_bytes": growth,
                "per_element_bytes": per, "overhead_per_element_bytes": per - 16.0,
                "hwm_reset": reset,
            }),
        );
    }
    json!({"n": n, "floor_per_element_bytes": 16, "variants": variants_json})
}

// ---------------------------------------------------------------------------------------------
// Scenario 5.

async fn scenario5(n: usize, rounds_n: usize) -> Value {
    println!("\n## 5. failure path: 10% fail once then succeed, retries = 1, n = {n} (median of {rounds_n} rounds)\n");
    reset_seen(n);
    let flaky_map = map_task!(flaky, retries = 1);
    let retry_noop = map_task!(noop, retries = 1);
    let plain = noop_map(0);
    let run = |v: usize| -> BoxFutDur {
        let (flaky_map, retry_noop, plain) = (flaky_map.clone(), retry_noop.clone(), plain.clone());
        match v {
            0 => Box::pin(async move {
                let xs = inputs(n);
                reset_seen(n);
                let start = Instant::now();
                let (out, report) = flaky_map.call_with_report(xs).await;
                let elapsed = start.elapsed();
                let out = out.expect("every element succeeds on its retry");
                check_identity(&out, n);
                assert_eq!(report.total_attempts(), (n + n.div_ceil(10)) as u64);
                elapsed
            }),
            1 => Box::pin(timed_batch!(n, 1, |xs| retry_noop
                .call(xs)
                .await
                .expect("ok"))),
            2 => Box::pin(timed_batch!(n, 1, |xs| plain.call(xs).await.expect("ok"))),
            // Floor: the same task by hand with rayon, each element retried inline where it
            // runs, the errors kept with their indices (as a report does).
            4 => Box::pin(async move {
                use rayon::prelude::*;
                let xs = inputs(n);
                reset_seen(n);
                let start = Instant::now();
                let out: Vec<(i64, Option<TaskError>)> = xs
                    .par_iter()
                    .map(|&x| match flaky(x) {
                        Ok(y) => (y, None),
                        Err(error) => (flaky(x).expect("the retry succeeds"), Some(error)),
                    })
                    .collect();
                let (out, errors): (Vec<i64>, Vec<(usize, TaskError)>) = {
                    let mut errors = Vec::new();
                    let out = out
                        .into_iter()
                        .enumerate()
                        .map(|(i, (y, error))| {
                            if let Some(error) = error {
                                errors.push((i, error));
                            }
                            y
                        })
                        .collect();
                    (out, errors)
                };
                let elapsed = start.elapsed();
                check_identity(&out, n);
                assert_eq!(errors.len(), n.div_ceil(10));
                elapsed
            }),
            // Floor: the same task by hand, a sequential loop that retries inline and keeps
            // each failed attempt's error with its index (as a report does).
            _ => Box::pin(async move {
                let xs = inputs(n);
                reset_seen(n);
                let start = Instant::now();
                let mut errors = Vec::new();
                let out: Vec<i64> = xs
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| match flaky(x) {
                        Ok(y) => y,
                        Err(error) => {
                            errors.push((i, error));
                            flaky(x).expect("the retry succeeds")
                        }
                    })
                    .collect();
                let elapsed = start.elapsed();
                check_identity(&out, n);
                assert_eq!(errors.len(), n.div_ceil(10));
                elapsed
            }),
        }
    };
    let names = [
        "flaky",
        "noop_retries1",
        "noop",
        "flaky_by_hand",
        "flaky_by_hand_rayon",
    ];
    let t = rounds_timed(&names, &run, rounds_n).await;
    let [flaky_ns, retry_ns, noop_ns, hand_ns, rayon_ns] = [
        ns_per(t[0].median, n),
        ns_per(t[1].median, n),
        ns_per(t[2].median, n),
        ns_per(t[3].median, n),
        ns_per(t[4].median, n),
    ];
    println!("| variant | ns per element | ratio to scenario 1 (same n, unbounded) |");
    println!("|---|---:|---:|");
    println!(
        "| scenario 1: no-op, retries = 0 | {noop_ns:.1} ({}) | 1.00x |",
        t[2].spread()
    );
    println!(
        "| no-op, retries = 1, no failure | {retry_ns:.1} | {:.2}x |",
        retry_ns / noop_ns
    );
    println!(
        "| 10% fail once, retries = 1 | {flaky_ns:.1} ({}) | {:.2}x |",
        t[0].spread(),
        flaky_ns / noop_ns
    );
    println!(
        "| floor: the same 10% by hand (sequential loop, inline retry, errors kept) | {hand_ns:.1} ({}) | {:.2}x |",
        t[3].spread(),
        hand_ns / noop_ns
    );
    println!(
        "| floor: the same 10% by hand with rayon (inline retry, errors kept) | {rayon_ns:.1} ({}) | {:.2}x |",
        t[4].spread(),
        rayon_ns / noop_ns
    );
    println!(
        "\nmap_task! with 10% failing / the same by hand: {:.2}x (sequential), {:.2}x (rayon)",
        flaky_ns / hand_ns,
        flaky_ns / rayon_ns
    );
    json!({
        "flaky_by_hand_ns": hand_ns, "ratio_to_by_hand": flaky_ns / hand_ns,
        "flaky_by_hand_rayon_ns": rayon_ns, "ratio_to_by_hand_rayon": flaky_ns / rayon_ns,
        "n": n, "failing_fraction": 0.1,
        "flaky_ns": flaky_ns, "noop_retries1_ns": retry_ns, "scenario1_ns": noop_ns,
        "ratio_to_scenario1": flaky_ns / noop_ns,
        "flaky_min_ns": ns_per(t[0].min, n), "scenario1_min_ns": ns_per(t[2].min, n),
    })
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Scenario 6.

const CHAIN: usize = 10;

async fn scenario6(calls: usize, rounds_n: usize) -> Value {
    println!(
        "\n## 6. a chain of {CHAIN} quick sync workflow nodes: time per node (median of {rounds_n} rounds of {calls} workflow calls)\n"
    );
    let run = |v: usize| -> BoxFutDur {
        Box::pin(async move {
            let start = Instant::now();
            for x in 0..calls as i64 {
                let y = match v {
                    0 => chain10::run(x).await.expect("no failure"),
                    // Floor: the same chain written by hand, one `spawn_blocking` per node.
                    1 => {
                        let mut y = x;
                        for _ in 0..CHAIN {
                            y = tokio::task::spawn_blocking(move || step(y))
                                .await
                                .expect("no panic");
                        }
                        y
                    }
                    // Floor: the plain function calls.
                    _ => {
                        let mut y = x;
                        for _ in 0..CHAIN {
                            y = step(black_box(y));
                        }
                        y
                    }
                };
                assert_eq!(y, x + CHAIN as i64);
            }
            start.elapsed()
        })
    };
    let names = ["workflow", "spawn_blocking_chain", "plain_calls"];
    let t = rounds_timed(&names, &run, rounds_n).await;
    let per_node = |i: usize| ns_per(t[i].median, calls * CHAIN) / 1e3;
    println!("| variant | µs per node (spread) |");
    println!("|---|---:|");
    let mut variants_json = serde_json::Map::new();
    for (i, name) in names.iter().enumerate() {
        println!("| {name} | {:.3} ({}) |", per_node(i), t[i].spread());
        variants_json.insert(
            (*name).into(),
            json!({
                "us_per_node": per_node(i),
                "min_us_per_node": ns_per(t[i].min, calls * CHAIN) / 1e3,
                "max_us_per_node": ns_per(t[i].max, calls * CHAIN) / 1e3,
            }),
        );
    }
    json!({"chain": CHAIN, "calls": calls, "variants": variants_json})
}

// ---------------------------------------------------------------------------------------------

/// Checks the figures against the goals of issue #14 and prints the verdicts.
fn goals(report: &serde_json::Map<String, Value>) -> Value {
    let mut rows: Vec<(String, f64, f64, &str)> = Vec::new();
    if let Some(Value::Array(s1)) = report.get("scenario1") {
        let unbounded: Vec<&Value> = s1
            .iter()
            .filter(|r| r["concurrency"].as_u64() == Some(0))
            .collect();
        for row in &unbounded {
            let n = row["n"].as_u64().unwrap_or(0);
            if n == 100_000 || n == 1_000_000 {
                rows.push((
                    format!("1. map_task! / rayon, no-op, n = {n}"),
                    row["ratio_to_rayon"].as_f64().unwrap_or(f64::NAN),
                    3.0,
                    "x",
                ));
            }
        }
        let costs: Vec<(u64, f64)> = unbounded
            .iter()
            .filter_map(|r| Some((r["n"].as_u64()?, r["map_task_ns"].as_f64()?)))
            .collect();
        if costs.len() >= 2 {
            let mut sorted: Vec<f64> = costs.iter().map(|c| c.1).collect();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            let deviation = costs
                .iter()
                .map(|c| (c.1 / median - 1.0).abs())
                .fold(0.0, f64::max);
            let (lo, hi) = (costs[0].0, costs[costs.len() - 1].0);
            rows.push((
                format!("1. map_task! ns per element, n = {lo}..{hi}: largest deviation from their median"),
                deviation * 100.0,
                30.0,
                "%",
            ));
        }
    }
    if let Some(ratio) = report
        .get("scenario3")
        .and_then(|s| s["variants"]["map_task"]["ratio_to_rayon"].as_f64())
    {
        rows.push(("3. CPU-bound map_task! / rayon".into(), ratio, 1.05, "x"));
    }
    if let Some(ratio) = report
        .get("scenario5")
        .and_then(|s| s["ratio_to_scenario1"].as_f64())
    {
        rows.push(("5. failure path / no-op, same n".into(), ratio, 1.5, "x"));
    }
    if let Some(us) = report
        .get("scenario6")
        .and_then(|s| s["variants"]["workflow"]["us_per_node"].as_f64())
    {
        rows.push((
            "6. sync workflow node in a chain, µs".into(),
            us,
            5.0,
            " µs",
        ));
    }
    println!("\n## Goals (issue #14)\n");
    println!("| goal | measured | target | met |");
    println!("|---|---:|---:|---|");
    let mut out = Vec::new();
    for (label, value, target, unit) in rows {
        let met = value <= target;
        println!(
            "| {label} | {value:.2}{unit} | <= {target}{unit} | {} |",
            if met { "yes" } else { "no" }
        );
        out.push(json!({"goal": label, "measured": value, "target": target, "met": met}));
    }
    Value::Array(out)
}

/// `--profile VARIANT N C REPS`: runs one variant of scenario 1 (or `flaky` or `noop_retries1`,
/// scenario 5) `REPS`
/// times and nothing else, for `perf record` or `valgrind --tool=callgrind`.
fn profile(args: &[String]) {
    let variant = args.first().cloned().unwrap_or_else(|| "map_task".into());
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (n, c, reps) = (arg(1, 1_000_000), arg(2, 0), arg(3, 10));
    // `batch` calls in a row over inputs built beforehand, outputs kept until the batch ends,
    // then `pause` ms of rest (the pool's threads park), as in the table's rounds.
    let (batch, pause) = (arg(4, 1), arg(5, 0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    rt.block_on(async move {
        tokio::spawn(async move {
            let mut timed = Duration::ZERO;
            // Built once, as the table's rounds do.
            let map = noop_map(c);
            for rep in 0..reps {
                if batch > 1 || pause > 0 {
                    let all: Vec<Vec<i64>> = (0..batch).map(|_| inputs(n)).collect();
                    let mut outs = Vec::with_capacity(batch);
                    let start = Instant::now();
                    for xs in all {
                        outs.push(match variant.as_str() {
                            "map_task" => map.call(xs).await.expect("ok"),
                            "rayon" => {
                                use rayon::prelude::*;
                                xs.par_iter().map(|&x| noop(x)).collect::<Vec<i64>>()
                            }
                            "sequential" => xs.iter().map(|&x| noop(x)).collect::<Vec<i64>>(),
                            other => panic!("unknown batched variant {other}"),
                        });
                    }
                    let took = start.elapsed();
                    if rep > 0 {
                        timed += took;
                    }
                    drop(outs);
                    tokio::time::sleep(Duration::from_millis(pause as u64)).await;
                    if rep + 1 == reps {
                        let per = ns_per(timed, n * batch * (reps - 1).max(1));
                        println!("{per:.2} ns per element, timed calls only");
                    }
                    continue;
                }
                let xs = inputs(n);
                let out = match variant.as_str() {
                    "map_task" => noop_map(c).call(xs).await.expect("ok"),
                    "engine" => Runtime::global()
                        .run_map(
                            &MapSpec::new("noop.engine").concurrency(c),
                            xs,
                            work::blocking(|x: i64| Ok(noop(x))),
                            RunOptions::default(),
                        )
                        .await
                        .into_all()
                        .expect("ok"),
                    "floor_spawn" => floor_spawn(xs, c, |x| async move { noop(x) }).await,
                    "floor_buffer" => floor_buffer(xs, c, |x| async move { noop(x) }).await,
                    "noop_retries1" => map_task!(noop, retries = 1)
                        .with_concurrency(c)
                        .call(xs)
                        .await
                        .expect("ok"),
                    "flaky" => {
                        reset_seen(n);
                        map_task!(flaky, retries = 1)
                            .with_concurrency(c)
                            .call(xs)
                            .await
                            .expect("ok")
                    }
                    other => panic!("unknown variant {other}"),
                };
                check_identity(&out, n);
            }
        })
        .await
        .expect("the profiled task");
    });
    let per = ns_per(started.elapsed(), n * reps);
    println!("{per:.1} ns per element (including input set-up and checks)");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--profile") {
        profile(&args[2..]);
        return;
    }
    if args.get(1).map(String::as_str) == Some("--child-mem") {
        let n = args
            .get(3)
            .and_then(|s| s.parse().ok())
            .expect("--child-mem VARIANT N");
        mem_child(&args[2], n);
        return;
    }
    let options = Options::parse();
    let quick = options.quick;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    println!(
        "# maptask benchmarks{}\n\ncores: {cores}; tokio multi-thread runtime with {cores} workers; \
         compute pool: {} threads; each map is called from inside a spawned task",
        if quick { " (--quick)" } else { "" },
        Runtime::global().compute_threads()
    );
    println!("load average at start: {}", loadavg());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    let mut report = serde_json::Map::new();
    report.insert("cores".into(), json!(cores));
    report.insert("quick".into(), json!(quick));
    report.insert("loadavg_start".into(), json!(loadavg()));
    report.insert(
        "unix_time".into(),
        json!(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
    );
    let sizes = options.sizes.clone().unwrap_or_else(|| {
        if quick {
            vec![1_000, 10_000, 100_000]
        } else {
            vec![1_000, 10_000, 100_000, 1_000_000, 10_000_000]
        }
    });
    let options = Arc::new(options);
    let run_options = Arc::clone(&options);
    let report = rt.block_on(async move {
        tokio::spawn(async move {
            let options = run_options;
            if options.runs(1) {
                report.insert(
                    "scenario1".into(),
                    Value::Array(scenario1(&sizes, quick).await),
                );
            }
            if options.runs(2) {
                let (n, c, r) = if quick {
                    (1_000, 100, 2)
                } else {
                    (10_000, 1_000, 5)
                };
                report.insert("scenario2".into(), scenario2(n, c, r).await);
            }
            if options.runs(3) {
                let (n, r) = if quick { (200, 2) } else { (2_000, 3) };
                report.insert("scenario3".into(), scenario3(n, r).await);
            }
            report
        })
        .await
        .expect("the benchmark task")
    });
    let mut report = report;
    if options.runs(4) {
        report.insert(
            "scenario4".into(),
            scenario4(if quick { 100_000 } else { 1_000_000 }),
        );
    }
    if options.runs(5) {
        let (n, r) = if quick { (10_000, 3) } else { (100_000, 9) };
        let s5 =
            rt.block_on(async move { tokio::spawn(scenario5(n, r)).await.expect("scenario 5") });
        report.insert("scenario5".into(), s5);
    }
    if options.runs(6) {
        let (calls, r) = if quick { (200, 3) } else { (2_000, 7) };
        let s6 = rt
            .block_on(async move { tokio::spawn(scenario6(calls, r)).await.expect("scenario 6") });
        report.insert("scenario6".into(), s6);
    }
    let goals = goals(&report);
    report.insert("goals".into(), goals);
    println!(
        "\ntotal bench time: {:.1} s; load average at end: {}",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    report.insert("loadavg_end".into(), json!(loadavg()));
    if let Some(path) = &options.json {
        let text = serde_json::to_string_pretty(&Value::Object(report)).expect("JSON");
        std::fs::write(path, text).expect("write the JSON file");
        println!("wrote {path}");
    }
}
