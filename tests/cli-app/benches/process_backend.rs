//! The process backend against `xargs -P 8` floors (issue 10).
//!
//! n = 1,000 no-op elements (`demo.noops`, concurrency 8), run end to end by the demo program:
//! `maptask-demo run demo.noops --inputs … --backend process` (parse, write `inputs.pb`, 1,000
//! children of `map-execute` under the engine's window, collect, print). The floors spawn the
//! same binary with the same `map-execute` arguments over the same `inputs.pb`:
//!
//! * `xargs -P 8 -I{} env … FLYTE_K8S_ARRAY_INDEX={} maptask-demo map-execute …`: each child
//!   gets its own index, at the cost of one more `execve` (`env`) per element;
//! * the strongest floor drops `env`: xargs's own environment names index 0, so every child
//!   runs element 0 (the same work: decode the same `inputs.pb`, run one no-op element, write
//!   one `outputs.pb`; the line goes into the unused `--raw-output-data-prefix` so that xargs
//!   starts one child per line).
//!
//! A fourth variant times `xargs … env X={} true` alone. The variants alternate within each
//! round; medians and spread (min..max) over the rounds after a warm-up.
//!
//! ```sh
//! cargo bench -p cli-app --bench process_backend            # 5 rounds, n = 1000
//! cargo bench -p cli-app --bench process_backend -- 3 2000  # rounds, n
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONCURRENCY: usize = 8;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let demo = PathBuf::from(env!("CARGO_BIN_EXE_maptask-demo"));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("process-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let inputs_json = work.join("inputs.json");
    let xs: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    std::fs::write(&inputs_json, format!("{{\"xs\": [{}]}}", xs.join(","))).unwrap();

    // One kept run gives the floors the very `inputs.pb` the backend writes.
    let kept = work.join("kept");
    run_backend(&demo, &inputs_json, &kept, true, n);
    let run_dir = std::fs::read_dir(&kept)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let inputs_pb = run_dir.join("inputs.pb");

    println!("process backend vs xargs -P {CONCURRENCY}, n = {n}, {rounds} rounds (+1 warm-up)");
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for round in 0..=rounds {
        let b = run_backend(
            &demo,
            &inputs_json,
            &work.join(format!("runs-{round}")),
            false,
            n,
        );
        let f = run_xargs(
            &demo,
            &inputs_pb,
            &work.join(format!("env-{round}")),
            n,
            true,
        );
        let d = run_xargs(
            &demo,
            &inputs_pb,
            &work.join(format!("direct-{round}")),
            n,
            false,
        );
        let e = run_env_only(n);
        println!(
            "  round {round}{}: backend {:>8.1} ms   xargs+env {:>8.1} ms   xargs {:>8.1} ms   env+true {:>8.1} ms",
            if round == 0 { " (warm-up)" } else { "" },
            ms(b),
            ms(f),
            ms(d),
            ms(e)
        );
        if round > 0 {
            for (all, sample) in samples.iter_mut().zip([b, f, d, e]) {
                all.push(sample);
            }
        }
    }
    let [b, f, d, e] = samples.map(|s| stats(&s));
    let per = |m: f64| m * 1000.0 / n as f64;
    println!("median (min..max):");
    for (name, s) in [
        ("process backend", b),
        ("xargs + env floor", f),
        ("xargs, no env floor", d),
        ("env + true alone", e),
    ] {
        println!(
            "  {name:<20} {:>8.1} ms ({:.1}..{:.1}), {:.0} µs/element",
            s.0,
            s.1,
            s.2,
            per(s.0)
        );
    }
    println!("  backend / xargs+env: {:.3}×", b.0 / f.0);
    println!(
        "  backend / xargs without env (the strongest floor): {:.3}× (goal ≤ 1.3×)",
        b.0 / d.0
    );
    let _ = std::fs::remove_dir_all(&work);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, min and max, in ms.
fn stats(samples: &[Duration]) -> (f64, f64, f64) {
    let mut v: Vec<f64> = samples.iter().map(|&d| ms(d)).collect();
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

fn run_backend(demo: &Path, inputs: &Path, runs: &Path, keep: bool, n: usize) -> Duration {
    let mut command = Command::new(demo);
    command
        .args([
            "run",
            "demo.noops",
            "--backend",
            "process",
            "--json",
            "--inputs",
        ])
        .arg(inputs)
        .arg("--run-dir")
        .arg(runs)
        .stderr(Stdio::inherit());
    if keep {
        command.arg("--keep-run-dir");
    }
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(output.status.success(), "the backend run failed");
    let values: Vec<i64> = String::from_utf8_lossy(&output.stdout)
        .trim()
        .trim_matches(['[', ']'])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(values, (0..n as i64).collect::<Vec<_>>());
    elapsed
}

/// `xargs -P 8` over the indices: with `env`, each child gets its own index; without, every
/// child runs element 0 from xargs's environment.
fn run_xargs(demo: &Path, inputs_pb: &Path, out: &Path, n: usize, with_env: bool) -> Duration {
    let seq: String = (0..n).map(|i| format!("{i}\n")).collect();
    let mut command = Command::new("xargs");
    command.args(["-P", &CONCURRENCY.to_string(), "-I{}"]);
    if with_env {
        command
            .arg("env")
            .arg("BATCH_JOB_ARRAY_INDEX_VAR_NAME=FLYTE_K8S_ARRAY_INDEX")
            .arg("FLYTE_K8S_ARRAY_INDEX={}")
            .arg("MAPTASK_SINGLE_ATTEMPT=1");
    } else {
        command
            .env("BATCH_JOB_ARRAY_INDEX_VAR_NAME", "FLYTE_K8S_ARRAY_INDEX")
            .env("FLYTE_K8S_ARRAY_INDEX", "0")
            .env("MAPTASK_SINGLE_ATTEMPT", "1");
    }
    command
        .arg(demo)
        .arg("map-execute")
        .arg("--inputs")
        .arg(inputs_pb)
        .arg("--output-prefix")
        .arg(out)
        .arg("--raw-output-data-prefix")
        .arg(format!("{}/raw{{}}", out.display()))
        .args([
            "--resolver",
            "maptask",
            "--",
            "vars",
            "",
            "task-name",
            "demo.noop",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), seq.as_bytes()).unwrap();
    drop(child.stdin.take());
    let status = child.wait().unwrap();
    let elapsed = started.elapsed();
    assert!(status.success(), "xargs failed");
    let last = if with_env { n - 1 } else { 0 };
    assert!(out.join(last.to_string()).join("outputs.pb").is_file());
    elapsed
}

fn run_env_only(n: usize) -> Duration {
    let seq: String = (0..n).map(|i| format!("{i}\n")).collect();
    let started = Instant::now();
    let mut child = Command::new("xargs")
        .args([
            "-P",
            &CONCURRENCY.to_string(),
            "-I{}",
            "env",
            "X={}",
            "true",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), seq.as_bytes()).unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    started.elapsed()
}
