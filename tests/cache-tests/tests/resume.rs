//! The resume test: a cached map over 1,000 elements in a child process, killed with SIGKILL in
//! the middle, then run again to the end.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use maptask::cache::{CacheKey, Input, Store};
use maptask::Task;
use maptask_cache_tests::append_and_work;

const CHILD: &str = env!("CARGO_BIN_EXE_cache-crash-child");
const N: i64 = 1000;
const WORK_MS: &str = "4";

fn log_lines(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.parse().expect("a log line is an index"))
        .collect()
}

fn run_to_end(store: &str, log: &Path) -> String {
    let out = Command::new(CHILD)
        .args([store, log.to_str().unwrap(), &N.to_string(), WORK_MS])
        .output()
        .expect("the child runs");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_killed_map_resumes_with_exactly_the_unfinished_elements() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("cache.redb");
    let store_arg = store_path.to_str().unwrap();
    let first_log = dir.path().join("first.log");
    let second_log = dir.path().join("second.log");

    // Run 1: kill -9 once a third of the elements have started.
    let mut child = Command::new(CHILD)
        .args([
            store_arg,
            first_log.to_str().unwrap(),
            &N.to_string(),
            WORK_MS,
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("the child starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while log_lines(&first_log).len() < (N as usize) / 3 {
        assert!(Instant::now() < deadline, "the child made no progress");
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("SIGKILL"); // `Child::kill` sends SIGKILL on Unix.
    child.wait().unwrap();
    let first = log_lines(&first_log);

    // What the store holds after the crash: the elements that completed.
    let completed: BTreeSet<i64> = {
        let store = Store::open(&store_path).unwrap();
        (0..N)
            .filter(|i| {
                let key = CacheKey::for_element(
                    <append_and_work as Task>::NAME,
                    "1",
                    &[Input::new("i", i).unwrap()],
                    &[],
                );
                store.get(&key).unwrap().is_some()
            })
            .collect()
    };
    let started: BTreeSet<i64> = first.iter().copied().collect();
    assert!(completed.len() > 100, "{} completed", completed.len());
    assert!(completed.len() < N as usize, "the kill came too late");
    assert!(
        completed.is_subset(&started),
        "only elements that ran were stored"
    );
    // Lost: started but not stored: the 8 running, plus those that finished while the writer's
    // last commit was under way (an fsync: a few milliseconds at 2 elements per millisecond;
    // the bound leaves room for a loaded machine).
    let lost = started.len() - completed.len();
    eprintln!(
        "killed after {} starts: {} completed, {lost} lost",
        first.len(),
        completed.len()
    );
    assert!(lost <= 8 + 150, "{lost} elements were lost");

    // Run 2: to the end, on the same store.
    let resumed = run_to_end(store_arg, &second_log);
    let second = log_lines(&second_log);
    let rerun: BTreeSet<i64> = second.iter().copied().collect();
    assert_eq!(
        second.len(),
        rerun.len(),
        "no element ran twice in the rerun"
    );
    let unfinished: BTreeSet<i64> = (0..N).filter(|i| !completed.contains(i)).collect();
    assert_eq!(
        rerun, unfinished,
        "the rerun ran exactly the unfinished elements"
    );
    let mut total: HashMap<i64, usize> = HashMap::new();
    for i in first.iter().chain(&second) {
        *total.entry(*i).or_default() += 1;
    }
    for i in &completed {
        assert_eq!(total[i], 1, "completed element {i} ran once in total");
    }

    // The output equals an uncached run's.
    let plain = run_to_end("off", &dir.path().join("plain.log"));
    assert_eq!(resumed, plain);
    assert_eq!(plain.lines().count(), N as usize);

    // And a third run is all hits.
    let third_log = dir.path().join("third.log");
    assert_eq!(run_to_end(store_arg, &third_log), plain);
    assert!(log_lines(&third_log).is_empty());
}
