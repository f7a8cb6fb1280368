//! Element panics are caught quietly: they never reach the panic hook (neither the default one,
//! which prints a message and maybe a backtrace, nor the user's), while every other panic does.
//!
//! The panic hook belongs to the process, so each scenario runs in a child process of its own:
//! this test binary, started again with one test selected and `QUIET_PANICS_CHILD` set.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use maptask_core::{Criterion, MapSpec, Ratio, TaskError};
use maptask_runtime::{RunOptions, Runtime};

const CHILD: &str = "QUIET_PANICS_CHILD";

/// Runs test `name` of this binary in a child process; returns its stdout and stderr.
fn run_child(name: &str) -> (String, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// 100 panicking elements, half blocking and half async, in maps that tolerate them.
fn panicking_maps() {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rt = Runtime::builder().compute_threads(2).build();
    let spec = MapSpec::new("explosive").criterion(Criterion::Ratio(Ratio::parse("0").unwrap()));
    let blocking = maptask_runtime::work::blocking(|i: usize| -> Result<usize, TaskError> {
        panic!("element boom {i}")
    });
    let outcome = tokio.block_on(rt.run_map(&spec, (0..50).collect(), blocking, RunOptions::new()));
    assert_eq!(outcome.result, Ok(vec![None; 50]));
    assert_eq!(
        outcome.report.errors_of(7)[0].message(),
        "panicked: element boom 7"
    );
    let async_work = maptask_runtime::work::async_fn(|i: usize| async move {
        tokio::task::yield_now().await;
        if i < 100 {
            panic!("element boom {i}");
        }
        Ok::<usize, TaskError>(i)
    });
    let outcome =
        tokio.block_on(rt.run_map(&spec, (50..100).collect(), async_work, RunOptions::new()));
    assert_eq!(outcome.result, Ok(vec![None; 50]));
    assert_eq!(
        outcome.report.errors_of(3)[0].message(),
        "panicked: element boom 53"
    );
}

#[test]
fn child_default_hook() {
    if !in_child() {
        return;
    }
    panicking_maps();
    // A panic outside any element still reaches the default hook.
    let caught = std::panic::catch_unwind(|| panic!("outside boom"));
    assert!(caught.is_err());
    println!("child done");
}

#[test]
fn a_hundred_element_panics_print_nothing_through_the_default_hook() {
    if in_child() {
        return;
    }
    let (stdout, stderr) = run_child("child_default_hook");
    assert!(stdout.contains("child done"), "{stdout}");
    assert!(!stderr.contains("element boom"), "{stderr}");
    // Exactly one message from the default hook: the outside panic's.
    assert_eq!(stderr.matches("panicked at").count(), 1, "{stderr}");
    assert!(stderr.contains("outside boom"), "{stderr}");
}

#[test]
fn child_user_hook() {
    if !in_child() {
        return;
    }
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    std::panic::set_hook(Box::new(|_| {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }));
    panicking_maps();
    assert_eq!(CALLS.load(Ordering::SeqCst), 0);
    // Outside panics, on this thread and on another, reach the user's hook.
    assert!(std::panic::catch_unwind(|| panic!("outside boom")).is_err());
    assert!(std::thread::spawn(|| panic!("thread boom")).join().is_err());
    assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    // A hook set after the runtime was built replaces the filter, until it is reinstalled.
    let later = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&later);
    std::panic::set_hook(Box::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    maptask_runtime::filter_element_panics();
    panicking_maps();
    assert_eq!(later.load(Ordering::SeqCst), 0);
    assert!(std::panic::catch_unwind(|| panic!("outside boom")).is_err());
    assert_eq!(later.load(Ordering::SeqCst), 1);
    println!("child done");
}

#[test]
fn element_panics_skip_the_users_hook_and_other_panics_reach_it() {
    if in_child() {
        return;
    }
    let (stdout, _) = run_child("child_user_hook");
    assert!(stdout.contains("child done"), "{stdout}");
}
