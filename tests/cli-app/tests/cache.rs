//! `cache stats`, `cache clear [--task]` and cache hits, on the engine and on the process
//! backend, run as a user would run them (issue 12), against `maptask-cache-demo`.
//!
//! Every element of the demo's cached tasks that really runs appends `<task> <x>` to a log
//! file, so each test knows exactly which elements ran.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

/// One test's directories: the cache, the elements' log, the process backend's run dirs.
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("cli-app-cache")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        Scratch { root }
    }

    fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }

    fn log(&self) -> PathBuf {
        self.root.join("ran.log")
    }

    fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// The demo with this test's cache directory in `MAPTASK_CACHE_DIR`.
    fn demo(&self) -> Command {
        let mut command = Command::cargo_bin("maptask-cache-demo").unwrap();
        command
            .env_remove("RUST_LOG")
            .env_remove("MAPTASK_CACHE")
            .env("MAPTASK_CACHE_DIR", self.cache_dir());
        command
    }

    /// Runs `cachedemo.chain` over `xs` and returns its JSON output.
    fn run(&self, xs: &str, extra: &[&str]) -> String {
        let log = serde_json::to_string(self.log().to_str().unwrap()).unwrap();
        let output = self
            .demo()
            .args(["run", "cachedemo.chain", "--json", "--input"])
            .arg(format!("xs={xs}"))
            .arg("--input")
            .arg(format!("log={log}"))
            .args(extra)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{xs} {extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// The lines appended to the log since the last call, sorted (elements run concurrently).
    fn ran_since(&self, seen: &mut usize) -> Vec<String> {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut new: Vec<String> = lines[*seen..].iter().map(|l| (*l).to_owned()).collect();
        *seen = lines.len();
        new.sort();
        new
    }

    /// `cache stats --json`: entries per task.
    fn entries(&self) -> BTreeMap<String, u64> {
        let output = self
            .demo()
            .args(["cache", "stats", "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let stats: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(
            stats["path"],
            self.cache_dir().join("cache.redb").to_str().unwrap()
        );
        stats["tasks"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(task, t)| (task.clone(), t["entries"].as_u64().unwrap()))
            .collect()
    }

    /// The per-attempt logs the process backend left under the run directories.
    fn attempt_logs(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir).map_or(0, |d| {
                d.flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() {
                            count(&path)
                        } else {
                            usize::from(path.extension().is_some_and(|x| x == "log"))
                        }
                    })
                    .sum()
            })
        }
        count(&self.runs())
    }
}

fn strings(lines: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    lines.sort();
    lines
}

fn tasks(entries: &[(&str, u64)]) -> BTreeMap<String, u64> {
    entries.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
}

#[test]
fn stats_count_entries_per_task_and_clear_task_reruns_exactly_that_task() {
    let s = Scratch::new("stats-clear");
    let mut seen = 0;
    assert_eq!(s.run("[1, 2, 3]", &[]), "[2,5,10]");
    assert_eq!(
        s.ran_since(&mut seen),
        strings(&[
            "plus_one 1",
            "plus_one 4",
            "plus_one 9",
            "square 1",
            "square 2",
            "square 3"
        ])
    );
    assert_eq!(
        s.entries(),
        tasks(&[("cachedemo.plus_one", 3), ("cachedemo.square", 3)])
    );

    // Everything hits: nothing runs.
    assert_eq!(s.run("[1, 2, 3]", &[]), "[2,5,10]");
    assert_eq!(s.ran_since(&mut seen), Vec::<String>::new());

    s.demo()
        .args(["cache", "clear", "--task", "cachedemo.plus_one"])
        .assert()
        .success()
        .stdout(format!(
            "removed 3 entries of task `cachedemo.plus_one` from {}\n",
            s.cache_dir().join("cache.redb").display()
        ));
    assert_eq!(s.entries(), tasks(&[("cachedemo.square", 3)]));

    // Only the cleared task runs again.
    assert_eq!(s.run("[1, 2, 3]", &[]), "[2,5,10]");
    assert_eq!(
        s.ran_since(&mut seen),
        strings(&["plus_one 1", "plus_one 4", "plus_one 9"])
    );
    assert_eq!(
        s.entries(),
        tasks(&[("cachedemo.plus_one", 3), ("cachedemo.square", 3)])
    );

    s.demo()
        .args(["cache", "clear"])
        .assert()
        .success()
        .stdout(format!(
            "removed 6 entries from {}\n",
            s.cache_dir().join("cache.redb").display()
        ));
    assert_eq!(s.entries(), tasks(&[]));
}

#[test]
fn stats_prints_a_table_and_cache_dir_overrides_the_environment() {
    let s = Scratch::new("table");
    assert_eq!(s.run("[5]", &[]), "[26]");
    let other = s.root.join("elsewhere");
    // `--cache-dir` wins over `MAPTASK_CACHE_DIR`: this store is empty.
    s.demo()
        .args(["cache", "stats", "--cache-dir"])
        .arg(&other)
        .assert()
        .success()
        .stdout(predicate::str::ends_with("no entries\n"))
        .stdout(predicate::str::contains(
            other.join("cache.redb").to_str().unwrap(),
        ));
    let output = s.demo().args(["cache", "stats"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["TASK", "ENTRIES", "BYTES"]);
    assert_eq!(lines[1][..2], ["cachedemo.plus_one", "1"]);
    assert_eq!(lines[2][..2], ["cachedemo.square", "1"]);
    assert_eq!(lines[3][..2], ["total", "2"]);
    assert_eq!(lines.len(), 4, "{text}");
}

#[test]
fn clearing_an_unknown_task_is_a_usage_error_that_names_it() {
    let s = Scratch::new("unknown");
    s.demo()
        .args(["cache", "clear", "--task", "cachedemo.nope"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            "error: no task or workflow named `cachedemo.nope` in this binary; known: \
             `cachedemo.plus_one`, `cachedemo.slow`, `cachedemo.square`\n",
        );
}

#[test]
fn the_process_backend_starts_no_child_for_a_hit() {
    let s = Scratch::new("process");
    let runs = s.runs();
    let process = [
        "--backend",
        "process",
        "--keep-run-dir",
        "--run-dir",
        runs.to_str().unwrap(),
    ];
    let mut seen = 0;
    assert_eq!(s.run("[1, 2, 3]", &process), "[2,5,10]");
    assert_eq!(s.ran_since(&mut seen).len(), 6);
    assert_eq!(s.attempt_logs(), 6, "one child per element of each map");
    assert_eq!(
        s.entries(),
        tasks(&[("cachedemo.plus_one", 3), ("cachedemo.square", 3)])
    );

    // Every element hits: no child starts, and the outputs are the same.
    assert_eq!(s.run("[1, 2, 3]", &process), "[2,5,10]");
    assert_eq!(s.ran_since(&mut seen), Vec::<String>::new());
    assert_eq!(s.attempt_logs(), 6, "no child started");

    // A partial cache: 1, 2, 3 hit in `square`; only the new elements start children. In
    // `plus_one`, 1, 4, 9 hit and 16, 25 run.
    assert_eq!(s.run("[1, 2, 3, 4, 5]", &process), "[2,5,10,17,26]");
    assert_eq!(
        s.ran_since(&mut seen),
        strings(&["plus_one 16", "plus_one 25", "square 4", "square 5"])
    );
    assert_eq!(s.attempt_logs(), 10);

    // Cleared elements run again as children, and only they.
    s.demo()
        .args(["cache", "clear", "--task", "cachedemo.square"])
        .assert()
        .success();
    assert_eq!(s.run("[1, 2, 3, 4, 5]", &process), "[2,5,10,17,26]");
    assert_eq!(
        s.ran_since(&mut seen),
        strings(&["square 1", "square 2", "square 3", "square 4", "square 5"])
    );
    assert_eq!(s.attempt_logs(), 15);

    // The engine finds what the process backend stored.
    assert_eq!(s.run("[1, 2, 3, 4, 5]", &[]), "[2,5,10,17,26]");
    assert_eq!(s.ran_since(&mut seen), Vec::<String>::new());
}

#[test]
fn the_process_backend_stores_each_success_before_the_map_ends() {
    // The parent is killed with SIGKILL in the middle of a map on the process backend: what
    // its children had finished is in the store, and the rerun runs exactly the rest.
    let s = Scratch::new("process-kill");
    let log = serde_json::to_string(s.log().to_str().unwrap()).unwrap();
    let n = 20;
    let xs = format!(
        "[{}]",
        (0..n).map(|x| x.to_string()).collect::<Vec<_>>().join(",")
    );
    let run = |s: &Scratch| {
        let mut command =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("maptask-cache-demo"));
        command
            .env_remove("RUST_LOG")
            .env_remove("MAPTASK_CACHE")
            .env("MAPTASK_CACHE_DIR", s.cache_dir())
            .args([
                "run",
                "cachedemo.slow_all",
                "--json",
                "--backend",
                "process",
            ])
            .arg("--run-dir")
            .arg(s.runs())
            .arg("--input")
            .arg(format!("xs={xs}"))
            .arg("--input")
            .arg(format!("log={log}"))
            .args(["--input", "ms=150"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    };
    let lines = |s: &Scratch| {
        std::fs::read_to_string(s.log())
            .unwrap_or_default()
            .lines()
            .count()
    };
    let mut parent = run(&s).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // Two at a time: at 8 started, at least 6 have finished.
    while lines(&s) < 8 {
        assert!(
            std::time::Instant::now() < deadline,
            "the map did not start"
        );
        assert!(parent.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    parent.kill().unwrap();
    parent.wait().unwrap();
    // The children that were running finish on their own (their parent is gone); wait until
    // the log stops growing.
    let mut last = lines(&s);
    loop {
        std::thread::sleep(std::time::Duration::from_millis(500));
        let now = lines(&s);
        if now == last {
            break;
        }
        last = now;
    }
    let before = last;
    // At 8 started, 6 had finished: two every 150 ms. The store commits on its writer thread,
    // and a kill -9 loses what the commit under way and the queue behind it held (see
    // `maptask_cache::Store`): at most the last pair, which had just finished (on a busy
    // machine a commit's fsync takes longer than the 10 ms between two looks at the log).
    // Everything that finished a child's duration earlier is kept.
    let stored = s.entries().get("cachedemo.slow").copied().unwrap_or(0);
    assert!(
        (4..n).contains(&stored),
        "the finished children's outputs are stored before the map ends: {stored} of {n}"
    );

    let output = run(&s).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: Vec<i64> = (0..n as i64).map(|x| x * 10).collect();
    let outputs: Vec<i64> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outputs, expected);
    assert_eq!(
        lines(&s) - before,
        (n - stored) as usize,
        "the rerun ran exactly the elements not stored"
    );
    assert_eq!(s.entries().get("cachedemo.slow"), Some(&n));
}

#[test]
fn run_cache_dir_and_no_cache_choose_the_runs_store() {
    let s = Scratch::new("run-flags");
    let other = s.root.join("other-cache");
    let mut seen = 0;
    // `--cache-dir` wins over `MAPTASK_CACHE_DIR`.
    assert_eq!(
        s.run("[1, 2]", &["--cache-dir", other.to_str().unwrap()]),
        "[2,5]"
    );
    assert_eq!(s.ran_since(&mut seen).len(), 4);
    assert_eq!(s.entries(), tasks(&[]), "nothing in MAPTASK_CACHE_DIR");
    s.demo()
        .args(["cache", "stats", "--json", "--cache-dir"])
        .arg(&other)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"entries\": 4"));
    assert_eq!(
        s.run("[1, 2]", &["--cache-dir", other.to_str().unwrap()]),
        "[2,5]"
    );
    assert_eq!(s.ran_since(&mut seen), Vec::<String>::new(), "all hit");

    // `--no-cache`: everything runs, nothing is stored.
    assert_eq!(s.run("[1, 2]", &["--no-cache"]), "[2,5]");
    assert_eq!(s.ran_since(&mut seen).len(), 4);
    assert_eq!(s.entries(), tasks(&[]));
    assert_eq!(
        s.run("[1, 2]", &["--no-cache", "--backend", "process"]),
        "[2,5]"
    );
    assert_eq!(s.ran_since(&mut seen).len(), 4);
    assert_eq!(s.entries(), tasks(&[]));
}
