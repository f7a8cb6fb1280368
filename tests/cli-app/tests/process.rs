//! `--backend process`: the demo program's maps run as child processes of itself through
//! `map-execute`, with the same outputs as the in-process engine (issue 10).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

fn demo() -> Command {
    let mut command = Command::cargo_bin("maptask-demo").unwrap();
    command.env_remove("RUST_LOG");
    command
}

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cli-app-process")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    all.sort();
    all
}

fn run_json(args: &[&str], extra: &[&str]) -> String {
    let output = demo()
        .args(args)
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?} {extra:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_process_backend_gives_the_same_outputs_as_the_engine() {
    let runs = scratch("same");
    let runs_arg = runs.to_str().unwrap();
    let cases: [&[&str]; 3] = [
        &["run", "demo.render_all", "--input", "xs=[1, 13, 3, 4]"],
        &[
            "run",
            "demo.scale_sum",
            "--input",
            "xs=[1, 2, 3]",
            "--input",
            "factor=10",
        ],
        &["run", "demo.noops", "--input", "xs=[]"],
    ];
    for args in cases {
        let local = run_json(args, &["--backend", "local"]);
        let process = run_json(args, &["--backend", "process", "--run-dir", runs_arg]);
        assert_eq!(local, process, "{args:?}");
    }
    assert_eq!(
        run_json(cases[0], &["--backend", "process", "--run-dir", runs_arg]),
        "[\"#1\",null,\"#3\",\"#4\"]\n"
    );
    // A successful map leaves no run directory behind.
    assert_eq!(entries(&runs), Vec::<PathBuf>::new());
}

#[test]
fn each_attempt_is_a_child_that_runs_once_and_writes_its_own_log() {
    let runs = scratch("attempts");
    let markers = scratch("attempts-markers");
    let markers_arg = format!("dir={:?}", markers.to_str().unwrap());
    let out = run_json(
        &[
            "run",
            "demo.flaky_all",
            "--input",
            "xs=[5, 6]",
            "--input",
            &markers_arg,
        ],
        &[
            "--backend",
            "process",
            "--keep-run-dir",
            "--run-dir",
            runs.to_str().unwrap(),
        ],
    );
    assert_eq!(out, "[5,6]\n");
    let dirs = entries(&runs);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let run = &dirs[0];
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(run).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700);
    // Two attempts per element, each its own process (the first failed, recoverably), and the
    // collector's aggregate next to the elements' outputs.
    let logs: Vec<String> = entries(&run.join("logs").join("demo.flaky.map_dir_"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(logs, ["0.1.log", "0.2.log", "1.1.log", "1.2.log"]);
    assert!(
        std::fs::read_to_string(run.join("logs/demo.flaky.map_dir_/0.1.log"))
            .unwrap()
            .contains("the first attempt fails")
    );
    assert!(run.join("inputs.pb").is_file());
    assert!(run.join("out/outputs.pb").is_file());
    assert!(run.join("out/0/outputs.pb").is_file());
}

#[test]
fn a_failed_map_exits_1_and_keeps_its_run_directory_for_the_logs() {
    let runs = scratch("failed");
    demo()
        .args(["run", "demo.render_all", "--input", "xs=[13, 13, 3]", "--backend", "process"])
        .args(["--run-dir", runs.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "map `demo.render.map` failed: 2 of 3 elements failed, at least 2 had to succeed; [0]: USER:RuntimeError: task `demo.render` failed at index 0 after 1 attempt",
        ))
        .stderr(predicate::str::contains("13 is unlucky"))
        .stderr(predicate::str::contains("/logs/demo.render.map/1.1.log"));
    let dirs = entries(&runs);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert!(dirs[0].join("logs/demo.render.map/0.1.log").is_file());
    assert!(
        !dirs[0].join("out/outputs.pb").exists(),
        "nothing is assembled"
    );
}

#[test]
fn a_timed_out_child_is_killed_and_the_tolerant_map_goes_on() {
    let runs = scratch("timeout");
    let started = Instant::now();
    let out = run_json(
        &["run", "demo.sleepy_all", "--input", "ms=[10, 10000]"],
        &["--backend", "process", "--run-dir", runs.to_str().unwrap()],
    );
    assert_eq!(out, "[10,null]\n");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_map_whose_outputs_cannot_come_back_is_refused_before_anything_runs() {
    let runs = scratch("refused");
    demo()
        .args([
            "run",
            "demo.reports",
            "--input",
            "xs=[1]",
            "--backend",
            "process",
        ])
        .args(["--run-dir", runs.to_str().unwrap()])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: `demo.reports` cannot run from the command line: `--backend process`: map \
             node `n0` cannot run in child processes: the process backend needs task \
             `demo.report`'s inputs (i64) to be `serde::Serialize` and its output `Report` to \
             be `serde::de::DeserializeOwned`\n",
        );
    assert_eq!(entries(&runs), Vec::<PathBuf>::new());
    // The engine runs it.
    assert_eq!(
        run_json(&["run", "demo.reports", "--input", "xs=[1]"], &[]),
        "[{\"x\":1}]\n"
    );
}

/// Ctrl-C during a process-backend run: the run is cancelled, every child stopped, exit 130.
#[test]
fn ctrl_c_stops_every_child_and_exits_130() {
    let runs = scratch("ctrl-c");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_maptask-demo"))
        .args([
            "run",
            "demo.sleepy_all",
            "--input",
            "ms=[60000, 60000, 60000]",
        ])
        .args(["--backend", "process", "--run-dir", runs.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    // Wait for its two children (concurrency 2).
    let deadline = Instant::now() + Duration::from_secs(20);
    while children_of(pid).len() < 2 {
        assert!(Instant::now() < deadline, "the children never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let grandchildren = children_of(pid);
    // SAFETY: `kill` has no memory-safety preconditions; the pid is our own child's.
    assert_eq!(unsafe { libc_kill(pid, 2) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr
            .contains("error: interrupted; the run was cancelled and every child process stopped"),
        "{stderr}"
    );
    // The program waited for its children before exiting: none is alive now.
    let alive: Vec<i32> = grandchildren.into_iter().filter(|&g| is_alive(g)).collect();
    assert!(alive.is_empty(), "children outlived the run: {alive:?}");
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, signal: i32) -> i32;
}

/// Whether `pid` exists and is not a zombie.
fn is_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rfind(')').map(|i| stat[i + 2..].starts_with('Z')))
        .is_some_and(|zombie| !zombie)
}

/// The pids of `pid`'s children, from `/proc`.
fn children_of(pid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let mut fields = rest.split(' ');
        let state = fields.next();
        let ppid: Option<i32> = fields.next().and_then(|p| p.parse().ok());
        if ppid == Some(pid) && state != Some("Z") {
            found.push(child);
        }
    }
    found
}
