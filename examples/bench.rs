//! The benchmark table of issue #6: the overhead of `map_task!` per element, against floors
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
//!    against scenario 1 at the same n, measured in the same rounds.
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
}

fn per_call(samples: &mut [Duration], batch: usize) -> Timed {
    samples.sort_unstable();
    let b = batch as u32;
    Timed {
        median: samples[samples.len() / 2] / b,
        min: samples[0] / b,
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
                        "usage: bench [--quick] [--json PATH] [--only 1,2,3,4,5] [--sizes N,..]"
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

async fn scenario1(sizes: &[usize], quick: bool) -> Vec<Value> {
    println!("\n## 1. no-op sync task: ns per element (median of rounds)\n");
    println!(
        "| n | concurrency | map_task! | engine (run_map) | floor (a) spawn+semaphore | floor (b) buffer_unordered | ratio to faster floor |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for &n in sizes {
        for c in [0usize, 64] {
            let (batch, rounds_n) = match n {
                0..=2_000 => (if quick { 50 } else { 400 }, if quick { 3 } else { 9 }),
                2_001..=20_000 => (if quick { 5 } else { 40 }, if quick { 3 } else { 9 }),
                20_001..=200_000 => (if quick { 1 } else { 4 }, if quick { 3 } else { 7 }),
                _ => (1, if quick { 2 } else { 7 }),
            };
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
                    2 => Box::pin(timed_batch!(n, batch, |xs| floor_spawn(
                        xs,
                        c,
                        |x| async move { noop(x) }
                    )
                    .await)),
                    _ => Box::pin(timed_batch!(n, batch, |xs| floor_buffer(
                        xs,
                        c,
                        |x| async move { noop(x) }
                    )
                    .await)),
                }
            };
            let names = ["map_task", "engine", "floor_spawn", "floor_buffer"];
            let t = rounds_timed(&names, &run, rounds_n).await;
            let per = |i: usize| ns_per(t[i].median, n * batch);
            let [ours, engine, spawn, buffer] = [per(0), per(1), per(2), per(3)];
            let faster = spawn.min(buffer);
            println!(
                "| {n} | {} | {ours:.1} | {engine:.1} | {spawn:.1} | {buffer:.1} | {:.2}x |",
                conc_label(c),
                ours / faster
            );
            rows.push(json!({
                "n": n,
                "concurrency": c,
                "batch": batch,
                "rounds": rounds_n,
                "map_task_ns": ours,
                "engine_ns": engine,
                "floor_spawn_ns": spawn,
                "floor_buffer_ns": buffer,
                "map_task_min_ns": ns_per(t[0].min, n * batch),
                "engine_min_ns": ns_per(t[1].min, n * batch),
                "floor_spawn_min_ns": ns_per(t[2].min, n * batch),
                "floor_buffer_min_ns": ns_per(t[3].min, n * batch),
                "ratio_to_faster_floor": ours / faster,
                "engine_ratio_to_faster_floor": engine / faster,
            }));
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
    println!("| n | concurrency | ideal n/c x 10 ms | variant | wall | ratio to ideal | ratio to n/c x measured sleep |");
    println!("|---:|---:|---:|---|---:|---:|---:|");
    let mut variants_json = serde_json::Map::new();
    for (variant, timed) in variants.iter().zip(&t) {
        let ratio = timed.median.as_secs_f64() / ideal.as_secs_f64();
        let ratio_reachable = timed.median.as_secs_f64() / reachable.as_secs_f64();
        println!(
            "| {n} | {c} | {:.1} ms | {} | {:.1} ms | {ratio:.3}x | {ratio_reachable:.3}x |",
            ms(ideal),
            variant.name,
            ms(timed.median)
        );
        variants_json.insert(
            variant.name.into(),
            json!({
                "wall_ms": ms(timed.median), "min_ms": ms(timed.min), "ratio_to_ideal": ratio,
                "ratio_to_measured_sleeps": ratio_reachable,
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
    ];
    let timed = rounds(&variants, rounds_n, 1).await;
    let t = timed[0].median / probe as u32;
    let ideal = t * n as u32 / cores as u32;
    println!(
        "t = {:.3} ms single-threaded, cores = {cores}\n",
        t.as_secs_f64() * 1e3
    );
    println!("| n | ideal n x t / cores | variant | wall | ratio to ideal |");
    println!("|---:|---:|---|---:|---:|");
    let mut variants_json = serde_json::Map::new();
    for (variant, tm) in variants.iter().zip(&timed).skip(1) {
        let ratio = tm.median.as_secs_f64() / ideal.as_secs_f64();
        println!(
            "| {n} | {:.1} ms | {} | {:.1} ms | {ratio:.3}x |",
            ms(ideal),
            variant.name,
            ms(tm.median)
        );
        variants_json.insert(
            variant.name.into(),
            json!({"wall_ms": ms(tm.median), "min_ms": ms(tm.min), "ratio_to_ideal": ratio}),
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
            _ => Box::pin(timed_batch!(n, 1, |xs| plain.call(xs).await.expect("ok"))),
        }
    };
    let names = ["flaky", "noop_retries1", "noop"];
    let t = rounds_timed(&names, &run, rounds_n).await;
    let [flaky_ns, retry_ns, noop_ns] = [
        ns_per(t[0].median, n),
        ns_per(t[1].median, n),
        ns_per(t[2].median, n),
    ];
    println!("| variant | ns per element | ratio to scenario 1 (same n, unbounded) |");
    println!("|---|---:|---:|");
    println!("| scenario 1: no-op, retries = 0 | {noop_ns:.1} | 1.00x |");
    println!(
        "| no-op, retries = 1, no failure | {retry_ns:.1} | {:.2}x |",
        retry_ns / noop_ns
    );
    println!(
        "| 10% fail once, retries = 1 | {flaky_ns:.1} | {:.2}x |",
        flaky_ns / noop_ns
    );
    json!({
        "n": n, "failing_fraction": 0.1,
        "flaky_ns": flaky_ns, "noop_retries1_ns": retry_ns, "scenario1_ns": noop_ns,
        "ratio_to_scenario1": flaky_ns / noop_ns,
        "flaky_min_ns": ns_per(t[0].min, n), "scenario1_min_ns": ns_per(t[2].min, n),
    })
}

// ---------------------------------------------------------------------------------------------

/// Checks the figures against the goals of issue #6 and prints the verdicts.
fn goals(report: &serde_json::Map<String, Value>) -> Value {
    let mut rows: Vec<(String, f64, f64, &str)> = Vec::new();
    if let Some(Value::Array(s1)) = report.get("scenario1") {
        let largest = s1.iter().filter_map(|r| r["n"].as_u64()).max().unwrap_or(0);
        for row in s1.iter().filter(|r| r["n"].as_u64() == Some(largest)) {
            let c = row["concurrency"].as_u64().unwrap_or(0) as usize;
            let label = format!(
                "1. map_task! / faster floor, n = {largest}, concurrency {}",
                conc_label(c)
            );
            rows.push((
                label,
                row["ratio_to_faster_floor"].as_f64().unwrap_or(f64::NAN),
                1.2,
                "x",
            ));
        }
    }
    for (key, label) in [
        ("scenario2", "2. map_task! / ideal"),
        ("scenario3", "3. map_task! / ideal"),
    ] {
        if let Some(ratio) = report
            .get(key)
            .and_then(|s| s["variants"]["map_task"]["ratio_to_ideal"].as_f64())
        {
            rows.push((label.into(), ratio, 1.15, "x"));
        }
    }
    if let Some(s4) = report.get("scenario4") {
        for variant in ["map_task", "map_task_c64"] {
            if let Some(b) = s4["variants"][variant]["overhead_per_element_bytes"].as_f64() {
                rows.push((
                    format!("4. {variant}: overhead bytes per element"),
                    b,
                    150.0,
                    " B",
                ));
            }
        }
    }
    if let Some(ratio) = report
        .get("scenario5")
        .and_then(|s| s["ratio_to_scenario1"].as_f64())
    {
        rows.push(("5. failure path / scenario 1".into(), ratio, 2.0, "x"));
    }
    println!("\n## Goals\n");
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

/// `--profile VARIANT N C REPS`: runs one variant of scenario 1 (or `flaky`, scenario 5) `REPS`
/// times and nothing else, for `perf record` or `valgrind --tool=callgrind`.
fn profile(args: &[String]) {
    let variant = args.first().cloned().unwrap_or_else(|| "map_task".into());
    let arg =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (n, c, reps) = (arg(1, 1_000_000), arg(2, 0), arg(3, 10));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    rt.block_on(async move {
        tokio::spawn(async move {
            for _ in 0..reps {
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
            vec![1_000, 10_000, 1_000_000]
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
