//! The live interop test: flytekit 1.16.31 writes `inputs.pb` for values that are not in the
//! fixtures (`tests/interop.py`), this binary runs every index of every case as `map-execute`,
//! the collector assembles each map's output, and flytekit reads every `outputs.pb` and every
//! aggregate back equal to the values it expects, `None` at failed indices.
//!
//! Needs a python with flytekit: `MAPTASK_FLYTEKIT_PYTHON` (exported by
//! `.ci/setup.d/20-flytekit.sh`), else the venv that script makes. Fails under `MAPTASK_CI=1`
//! when there is none; otherwise skips, loudly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use maptask_flyte::collect;
use maptask_flyte::proto::core::{container_error, execution_error};
use serde_json::Value;

use crate::common::*;

/// A python that imports flytekit 1.16.31, or why there is none.
fn flytekit_python() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("MAPTASK_FLYTEKIT_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => {
            let ci_dir = std::env::var_os("MAPTASK_CI_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ci"),
                PathBuf::from,
            );
            vec![ci_dir.join("flytekit-venv/bin/python")]
        }
    };
    for python in &candidates {
        let ok = Command::new(python)
            .args([
                "-c",
                "import flytekit, sys; sys.exit(flytekit.__version__ != '1.16.31')",
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(python.clone());
        }
    }
    Err(format!(
        "no python with flytekit 1.16.31 at {candidates:?}; run `source .ci/setup.d/20-flytekit.sh`"
    ))
}

#[test]
fn flytekit_reads_back_what_the_rust_entrypoint_wrote() {
    let python = match flytekit_python() {
        Ok(p) => p,
        Err(why) if ci() => panic!("MAPTASK_CI=1 and {why}"),
        Err(why) => {
            eprintln!("\n*** SKIPPED the live flytekit interop test: {why} ***\n");
            return;
        }
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop.py");
    let scratch = Scratch::new("interop");
    let py = |mode: &str| {
        let output = Command::new(&python)
            .arg(&script)
            .arg(mode)
            .arg(scratch.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "interop.py {mode} failed:\n{text}");
        text
    };
    py("write");
    let cases: Vec<Value> =
        serde_json::from_slice(&std::fs::read(scratch.join("cases.json")).unwrap()).unwrap();
    assert_eq!(cases.len(), 6);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let failed: Vec<usize> = serde_json::from_value(case["failed"].clone()).unwrap();
        let out = scratch.s(&format!("{name}/out"));
        let args = map_args(
            &scratch.s(&format!("{name}/inputs.pb")),
            &out,
            case["vars"].as_str().unwrap(),
            case["task"].as_str().unwrap(),
        );
        run_every_index(&args, n, scratch.path());
        for &i in &failed {
            let error = error_document(
                &std::fs::read(scratch.join(&format!("{name}/out/{i}/error.pb"))).unwrap(),
            )
            .error
            .unwrap();
            assert_eq!(error.origin, execution_error::ErrorKind::User as i32);
            assert_eq!(error.code, "USER:RuntimeError");
            // `inverse` fails permanently; `shift` with a plain, retryable error.
            let kind = if name == "shift" {
                container_error::Kind::Recoverable
            } else {
                container_error::Kind::NonRecoverable
            };
            assert_eq!(error.kind, kind as i32, "{name}[{i}]");
        }
        let min = case["min_successes"].as_u64().unwrap() as usize;
        let collected = collect::collect(&out, n, &["o0"], min).unwrap();
        assert_eq!(collected.succeeded, n - failed.len(), "{name}");
    }
    let report = py("read");
    assert!(
        report.contains("flytekit read back 1029 files; 0 mismatches"),
        "{report}"
    );
}

/// Runs `map-execute` for every index, four processes at a time.
fn run_every_index(args: &[String], n: usize, cwd: &Path) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    break;
                }
                let output = run(args, &k8s_env(i), cwd);
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "index {i}: {}",
                    stderr(&output)
                );
            });
        }
    });
}
