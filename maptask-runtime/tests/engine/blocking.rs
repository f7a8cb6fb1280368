//! Blocking work: the compute pool, its size, timeouts that cannot interrupt, and panics.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maptask_core::{Criterion, FailureKind, MapSpec, Ratio, TaskError};
use maptask_runtime::{RunOptions, Runtime};

use crate::common::{all_ok, runtime, scripted_blocking, Probe, Step};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_work_runs_on_the_compute_pool_and_never_oversubscribes_it() {
    let threads = Arc::new(Mutex::new(BTreeSet::new()));
    let probe = Probe::new(8);
    let work = {
        let threads = Arc::clone(&threads);
        let probe = Arc::clone(&probe);
        maptask_runtime::work::blocking(move |i: usize| {
            let _live = probe.enter(i);
            let name = std::thread::current().name().unwrap_or("").to_owned();
            threads.lock().unwrap().insert(name);
            std::thread::sleep(Duration::from_millis(30));
            Ok::<_, TaskError>(i)
        })
    };
    let outcome = runtime()
        .run_map(
            &MapSpec::new("b"),
            (0..8).collect(),
            work,
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok((0..8).map(Some).collect()));
    let threads = threads.lock().unwrap().clone();
    assert!(
        threads.iter().all(|t| t.starts_with("maptask-compute-")),
        "{threads:?}"
    );
    assert!(threads.len() <= 2);
    // Unbounded concurrency, yet never more than the pool's two threads at once.
    assert_eq!(probe.max_active.load(Ordering::SeqCst), 2);
}

#[test]
fn the_default_pool_matches_the_machine() {
    let expected = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(Runtime::builder().build().compute_threads(), expected);
    assert_eq!(Runtime::global().compute_threads(), expected);
    assert_eq!(
        Runtime::builder()
            .compute_threads(3)
            .build()
            .compute_threads(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_timeout_is_declared_on_time_and_the_late_result_discarded() {
    let probe = Probe::new(1);
    let spec = MapSpec::new("slow")
        .timeout(Some(Duration::from_millis(100)))
        .criterion(Criterion::Ratio(Ratio::parse("0").unwrap()));
    let started = Instant::now();
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0],
            scripted_blocking(&probe, vec![vec![Step::Hang]]),
            RunOptions::new(),
        )
        .await;
    // The attempt sleeps 1.5 s and cannot be interrupted; the map does not wait for it.
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert_eq!(outcome.result, Ok(vec![None]));
    let errors = outcome.report.errors_of(0);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), FailureKind::Timeout);

    // With a retry, the second attempt runs on the other thread and wins; the first attempt's
    // late `Ok` is ignored.
    let probe = Probe::new(1);
    let spec = MapSpec::new("slow")
        .timeout(Some(Duration::from_millis(100)))
        .retries(1);
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0],
            scripted_blocking(&probe, vec![vec![Step::Hang, Step::Ok(0)]]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0)]));
    assert_eq!(outcome.report.elements[0].attempts, 2);
    assert_eq!(
        outcome.report.errors_of(0),
        &[TaskError::timeout(Duration::from_millis(100))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_panic_fails_one_element_and_the_pool_survives() {
    let rt = runtime();
    let probe = Probe::new(3);
    let scripts = vec![vec![Step::Ok(0)], vec![Step::Panic], vec![Step::Ok(0)]];
    let spec = MapSpec::new("p").criterion(Criterion::MinSuccesses(2));
    let outcome = rt
        .run_map(
            &spec,
            vec![0, 1, 2],
            scripted_blocking(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), None, Some(20)]));
    assert_eq!(
        outcome.report.errors_of(1)[0].message(),
        "panicked: exploded"
    );
    // Both threads still serve.
    let probe = Probe::new(50);
    let outcome = rt
        .run_map(
            &MapSpec::new("after"),
            (0..50).collect(),
            scripted_blocking(&probe, all_ok(50)),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result.map(|v| v.len()), Ok(50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_small_elements_and_maps_sharing_the_pool() {
    let rt = runtime();
    let n = 100_000;
    let work = || maptask_runtime::work::blocking(|x: i64| Ok::<_, TaskError>(x + 1));
    for concurrency in [0, 1, 7] {
        let spec = MapSpec::new("inc").concurrency(concurrency);
        let n = if concurrency == 1 { 5_000 } else { n };
        let outcome = rt
            .run_map(&spec, (0..n as i64).collect(), work(), RunOptions::new())
            .await;
        let expected: Vec<i64> = (1..=n as i64).collect();
        assert_eq!(
            outcome.into_all(),
            Ok(expected),
            "concurrency {concurrency}"
        );
    }
    let a = MapSpec::new("a");
    let b = MapSpec::new("b").concurrency(3);
    let (ra, rb) = tokio::join!(
        rt.run_map(&a, (0..20_000).collect(), work(), RunOptions::new()),
        rt.run_map(&b, (0..20_000).collect(), work(), RunOptions::new()),
    );
    assert_eq!(ra.result.map(|v| v.len()), Ok(20_000));
    assert_eq!(rb.result.map(|v| v.len()), Ok(20_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_wide_cap_bounds_blocking_maps_too() {
    let rt = Runtime::builder()
        .compute_threads(4)
        .max_in_flight(Some(3))
        .build();
    let n = 10;
    let probe = Probe::new(2 * n);
    let scripts = vec![vec![Step::Ok(10)]; 2 * n];
    let (spec_a, spec_b) = (MapSpec::new("a"), MapSpec::new("b"));
    let (a, b) = tokio::join!(
        rt.run_map(
            &spec_a,
            (0..n).collect(),
            scripted_blocking(&probe, scripts.clone()),
            RunOptions::new(),
        ),
        rt.run_map(
            &spec_b,
            (n..2 * n).collect(),
            scripted_blocking(&probe, scripts),
            RunOptions::new(),
        ),
    );
    assert_eq!(a.result.map(|v| v.len()), Ok(n));
    assert_eq!(b.result.map(|v| v.len()), Ok(n));
    // Four compute threads, but at most three elements in flight across both maps.
    assert!(probe.max_active.load(Ordering::SeqCst) <= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_durations_are_exact_when_slow_and_batch_means_add_up_when_quick() {
    // Elements 0 and 1 are slow: each pool thread takes its first element on its own and times
    // it exactly. The quick rest run in batches, each element given its batch's mean.
    let n = 20_000;
    let work = maptask_runtime::work::blocking(|i: usize| {
        if i < 2 {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok::<_, TaskError>(i)
    });
    let outcome = runtime()
        .run_map(
            &MapSpec::new("d"),
            (0..n).collect(),
            work,
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result.map(|v| v.len()), Ok(n));
    let elements = &outcome.report.elements;
    assert!(elements[0].duration >= Duration::from_millis(20));
    assert!(elements[1].duration >= Duration::from_millis(20));
    // Batch means share out disjoint stretches of each thread's time: their sum never exceeds
    // what two threads can spend in the map's wall time.
    let total: Duration = elements.iter().map(|e| e.duration).sum();
    assert!(
        total <= outcome.report.elapsed * 2,
        "{total:?} > 2 × {:?}",
        outcome.report.elapsed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_blocking_retries_never_stall_whatever_the_window() {
    // Every 10th element (or every element) fails its first attempt: the retries of quick
    // elements may wait for the driver's next wake-up, which must come even when they hold the
    // whole window or when nothing else is left to run.
    let n = 5_000;
    for (concurrency, every) in [
        (0, 10),
        (0, 1),
        (1, 10),
        (3, 1),
        (64, 10),
        (64, 1),
        (5_000, 10),
    ] {
        let work =
            maptask_runtime::work::blocking(move |(i, first): (usize, Arc<Mutex<Vec<bool>>>)| {
                let mut seen = first.lock().unwrap();
                if i % every == 0 && !seen[i] {
                    seen[i] = true;
                    return Err(TaskError::msg("once"));
                }
                Ok(i)
            });
        let seen = Arc::new(Mutex::new(vec![false; n]));
        let spec = MapSpec::new("r").concurrency(concurrency).retries(1);
        let outcome = tokio::time::timeout(
            Duration::from_secs(20),
            runtime().run_map(
                &spec,
                (0..n).map(|i| (i, Arc::clone(&seen))).collect(),
                work,
                RunOptions::new(),
            ),
        )
        .await
        .expect("the map stalled");
        assert_eq!(
            outcome.result,
            Ok((0..n).map(Some).collect()),
            "concurrency {concurrency}"
        );
        let failing = n / every;
        assert_eq!(outcome.report.total_attempts(), (n + failing) as u64);
        assert_eq!(outcome.report.errors.len(), failing);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_maps_run_in_chunks_and_keep_a_compact_report() {
    let rt = runtime();
    let n = 200_000;
    let work = maptask_runtime::work::blocking(|x: i64| Ok::<_, TaskError>(x * 2));
    let outcome = rt
        .run_map(
            &MapSpec::new("quick"),
            (0..n as i64).collect(),
            work,
            RunOptions::new(),
        )
        .await;
    let report = outcome.report.clone();
    assert_eq!(
        outcome.into_all(),
        Ok((0..n as i64).map(|x| x * 2).collect::<Vec<_>>())
    );
    assert_eq!(report.elements.len(), n);
    assert_eq!(report.totals.succeeded, n);
    assert!(report
        .elements
        .iter()
        .all(|e| e.status == maptask_runtime::ElementStatus::Succeeded && e.attempts == 1));
    // One entry per chunk, not per element.
    let runs = report.elements.runs().count();
    assert!(runs < n / 100, "{runs} runs");

    // Every tenth element fails once: retried at once, on its thread, and reported.
    let work = maptask_runtime::work::blocking(|(x, seen): (i64, Arc<Vec<AtomicBool>>)| {
        if x % 10 == 0 && !seen[x as usize].swap(true, Ordering::SeqCst) {
            return Err(TaskError::msg("once"));
        }
        Ok(x)
    });
    let seen: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());
    let outcome = rt
        .run_map(
            &MapSpec::new("flaky").retries(1),
            (0..n as i64).map(|x| (x, Arc::clone(&seen))).collect(),
            work,
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.report.total_attempts(), (n + n / 10) as u64);
    assert_eq!(outcome.report.errors.len(), n / 10);
    assert_eq!(outcome.report.elements[10].attempts, 2);
    assert_eq!(outcome.report.elements[11].attempts, 1);
    // Every retried element, each in index order, whichever thread ran it.
    let indices: Vec<usize> = outcome.report.errors.iter().map(|e| e.index).collect();
    assert_eq!(indices, (0..n).step_by(10).collect::<Vec<_>>());
    assert!(outcome.report.errors.iter().all(|e| e.errors.len() == 1));
    assert!(outcome
        .report
        .elements
        .iter()
        .enumerate()
        .all(|(i, e)| e.attempts == if i % 10 == 0 { 2 } else { 1 }));
    assert_eq!(outcome.into_all(), Ok((0..n as i64).collect::<Vec<_>>()));

    // Final failures (every 7th) among retried ones (every 10th) in a map that tolerates
    // them: each element's errors in attempt order, elements in index order.
    let work = maptask_runtime::work::blocking(|(x, seen): (i64, Arc<Vec<AtomicBool>>)| {
        if x % 7 == 0 {
            return Err(TaskError::msg(format!("always {x}")));
        }
        if x % 10 == 0 && !seen[x as usize].swap(true, Ordering::SeqCst) {
            return Err(TaskError::msg("once"));
        }
        Ok(x)
    });
    let seen: Arc<Vec<AtomicBool>> = Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());
    let outcome = rt
        .run_map(
            &MapSpec::new("tolerant")
                .retries(1)
                .criterion(Criterion::Ratio(Ratio::parse("0.5").unwrap())),
            (0..n as i64).map(|x| (x, Arc::clone(&seen))).collect(),
            work,
            RunOptions::new(),
        )
        .await;
    let failing: Vec<usize> = (0..n).filter(|i| i % 7 == 0 || i % 10 == 0).collect();
    let indices: Vec<usize> = outcome.report.errors.iter().map(|e| e.index).collect();
    assert_eq!(indices, failing);
    for e in &outcome.report.errors {
        if e.index % 7 == 0 {
            let always = format!("always {}", e.index);
            let messages: Vec<&str> = e.errors.iter().map(|err| err.message()).collect();
            assert_eq!(messages, [always.as_str(), always.as_str()]);
            assert_eq!(
                outcome.report.elements[e.index].status,
                maptask_runtime::ElementStatus::Failed
            );
        } else {
            assert_eq!(e.errors.len(), 1);
            assert_eq!(
                outcome.report.elements[e.index].status,
                maptask_runtime::ElementStatus::Succeeded
            );
        }
    }
    assert_eq!(outcome.report.totals.failed, n.div_ceil(7));
    let outputs = outcome.result.unwrap();
    assert!(outputs
        .iter()
        .enumerate()
        .all(|(i, o)| *o == (i % 7 != 0).then_some(i as i64)));
}
