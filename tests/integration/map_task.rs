//! `map_task!`: typed mapped tasks run by the engine (issue 4; DESIGN.md §3).
//!
//! Every test goes through the macro. Counters are statics owned by one test each, because the
//! tests of this binary run in parallel.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maptask::prelude::*;
use maptask::runtime::{CancellationToken, ElementStatus, MapEvent, MapStatus, RunOptions};
use maptask::{
    Bound, Criterion, ElementFailure, FailureKind, Ratio, SpecError, Strict, Tolerance, Tolerant,
    TypeDesc,
};

// ---------------------------------------------------------------------------------------------
// Helpers.

fn i64_desc() -> TypeDesc {
    TypeDesc::Integer {
        bits: 64,
        signed: true,
    }
}

fn list(of: TypeDesc) -> TypeDesc {
    TypeDesc::List { of: Box::new(of) }
}

fn optional(of: TypeDesc) -> TypeDesc {
    TypeDesc::Optional { of: Box::new(of) }
}

fn failure(index: usize, attempts: u32, message: &str) -> ElementFailure {
    ElementFailure {
        index,
        attempts,
        errors: vec![TaskError::msg(message); attempts as usize],
    }
}

/// Generous upper bound for anything that must happen "promptly".
const PROMPT: Duration = Duration::from_secs(3);

/// An observer that records every event.
fn recorder() -> (Arc<Mutex<Vec<MapEvent>>>, RunOptions) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let options = RunOptions::new().observer(Arc::new(move |event: &MapEvent| {
        sink.lock().unwrap().push(event.clone());
    }));
    (events, options)
}

// ---------------------------------------------------------------------------------------------
// Tasks shared by several tests (none of them count anything).

/// Renders one number.
#[task(retries = 1)]
async fn my_mappable_task(a: i64) -> Option<String> {
    Some(a.to_string())
}

/// Multiplies.
#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[task]
fn affine(x: i64, slope: i64, offset: i64) -> i64 {
    x * slope + offset
}

#[task]
fn dot(xs: Vec<i64>, weights: Vec<i64>) -> i64 {
    xs.iter().zip(&weights).map(|(x, w)| x * w).sum()
}

#[task]
async fn tag(x: i64, prefix: String) -> String {
    format!("{prefix}{x}")
}

#[task]
fn reject_odd(x: i64) -> Result<i64, TaskError> {
    if x % 2 == 0 {
        Ok(x * 10)
    } else {
        Err(TaskError::msg(format!("{x} is odd")))
    }
}

#[task]
fn below(x: i64, limit: i64) -> Result<i64, TaskError> {
    if x < limit {
        Err(TaskError::permanent_msg(format!("below {limit}")))
    } else {
        Ok(x)
    }
}

#[task]
fn permanent_odd(x: i64) -> Result<i64, TaskError> {
    if x % 2 == 0 {
        Ok(x)
    } else {
        Err(TaskError::permanent_msg("odd for good"))
    }
}

/// Three parameters, for argument order and every subset of bindings.
#[task]
fn trio(a: i64, b: String, c: Vec<f64>) -> String {
    format!("{a}/{b}/{}", c.iter().sum::<f64>())
}

fn combine_body(a: i64, b: String, c: Vec<i64>) -> String {
    format!("a={a} b={b} c={}", c.iter().sum::<i64>())
}

#[task]
fn combine(a: i64, b: String, c: Vec<i64>) -> String {
    combine_body(a, b, c)
}

#[task]
fn combine_permuted(c: Vec<i64>, a: i64, b: String) -> String {
    combine_body(a, b, c)
}

#[task]
fn zyx(z: i64, y: i64, x: i64) -> i64 {
    100 * z + 10 * y + x
}

// ---------------------------------------------------------------------------------------------
// The seed.

#[tokio::test]
async fn the_seed_example_runs_with_its_type_written_out() {
    let map: maptask::MapTask<my_mappable_task, (i64,), (), maptask::Tolerant> = map_task!(
        my_mappable_task,
        concurrency = 10,
        min_success_ratio = 0.75,
        retries = 1
    );
    let out: Vec<Option<Option<String>>> = map.call(vec![1, 2, 3]).await.unwrap();
    assert_eq!(
        out,
        vec![
            Some(Some("1".to_owned())),
            Some(Some("2".to_owned())),
            Some(Some("3".to_owned())),
        ]
    );

    assert_eq!(
        map.name(),
        concat!(module_path!(), "::my_mappable_task.map")
    );
    assert_eq!(map.mapped_names(), &["a"]);
    assert!(map.bound_names().is_empty());
    let spec = map.spec().unwrap();
    assert_eq!(spec.name, map.name());
    assert_eq!(spec.concurrency, 10);
    assert_eq!(
        spec.criterion,
        Criterion::Ratio(Ratio::parse("0.75").unwrap())
    );
    assert_eq!(spec.criterion.min_successes(3), Ok(3));
    assert_eq!(spec.retries, 1);
    assert_eq!(spec.timeout, None);

    let interface = map.interface();
    assert_eq!(interface.input_names(), vec!["a"]);
    assert_eq!(interface.inputs[0].ty, list(i64_desc()));
    assert_eq!(interface.output, list(optional(optional(TypeDesc::String))));
}

// ---------------------------------------------------------------------------------------------
// §3.1: mapped inputs zipped, bound values shared.

#[tokio::test]
async fn several_mapped_parameters_are_zipped() {
    let all_mapped = map_task!(affine);
    assert_eq!(all_mapped.mapped_names(), &["x", "slope", "offset"]);
    let out: Vec<i64> = all_mapped
        .call(vec![1, 2, 3], vec![10, 20, 30], vec![5, 6, 7])
        .await
        .unwrap();
    assert_eq!(out, vec![15, 46, 97]);

    let two_mapped = map_task!(affine, offset = 100);
    assert_eq!(two_mapped.mapped_names(), &["x", "slope"]);
    assert_eq!(
        two_mapped.call(vec![1, 2], vec![3, 4]).await.unwrap(),
        vec![103, 108]
    );

    let first_and_last = map_task!(affine, slope = -1);
    assert_eq!(
        first_and_last.call(vec![1, 2], vec![10, 20]).await.unwrap(),
        vec![9, 18]
    );
}

#[tokio::test]
async fn bound_values_are_shared_including_a_bound_vec() {
    let weighted = map_task!(dot, weights = vec![1, 10, 100]);
    assert_eq!(weighted.mapped_names(), &["xs"]);
    assert_eq!(weighted.bound_names(), &["weights"]);
    let out = weighted
        .call(vec![vec![1, 2, 3], vec![4, 5, 6], vec![], vec![7]])
        .await
        .unwrap();
    assert_eq!(out, vec![321, 654, 0, 7]);
    // A mapped `Vec<i64>` parameter becomes `Vec<Vec<i64>>`; the bound one stays `Vec<i64>`.
    let inputs = weighted.interface().inputs;
    assert_eq!(inputs[0].name, "xs");
    assert_eq!(inputs[0].ty, list(list(i64_desc())));
    assert_eq!(inputs[1].name, "weights");
    assert_eq!(inputs[1].ty, list(i64_desc()));

    let prefix = String::from("n-");
    let tagged = map_task!(tag, prefix = prefix.clone());
    assert_eq!(
        tagged.call(vec![1, 2, 3]).await.unwrap(),
        vec!["n-1", "n-2", "n-3"]
    );
    assert_eq!(prefix, "n-");

    let factor = 7;
    assert_eq!(
        map_task!(scale, factor = factor * 2)
            .call(vec![1, 2])
            .await
            .unwrap(),
        vec![14, 28]
    );
}

#[tokio::test]
async fn argument_order_does_not_change_results() {
    let a = vec![1, 2, 3];
    let b: Vec<String> = vec!["x".into(), "y".into(), "z".into()];
    let c = vec![vec![1, 2], vec![], vec![5]];

    // Nothing bound: each map takes its inputs in its own declaration order.
    let f = map_task!(combine)
        .call(a.clone(), b.clone(), c.clone())
        .await
        .unwrap();
    let g = map_task!(combine_permuted)
        .call(c.clone(), a.clone(), b.clone())
        .await
        .unwrap();
    assert_eq!(f, vec!["a=1 b=x c=3", "a=2 b=y c=0", "a=3 b=z c=5"]);
    assert_eq!(f, g);

    // `b` bound.
    let f = map_task!(combine, b = "k".to_owned())
        .call(a.clone(), c.clone())
        .await
        .unwrap();
    let g = map_task!(combine_permuted, b = "k".to_owned())
        .call(c.clone(), a.clone())
        .await
        .unwrap();
    assert_eq!(f, vec!["a=1 b=k c=3", "a=2 b=k c=0", "a=3 b=k c=5"]);
    assert_eq!(f, g);

    // `a` and `c` bound, written in different orders in the two macros.
    let fm = map_task!(combine, a = 9, c = vec![1, 1]);
    let gm = map_task!(combine_permuted, c = vec![1, 1], a = 9);
    let f = fm.call(b.clone()).await.unwrap();
    let g = gm.call(b.clone()).await.unwrap();
    assert_eq!(f, vec!["a=9 b=x c=2", "a=9 b=y c=2", "a=9 b=z c=2"]);
    assert_eq!(f, g);
    assert_eq!(fm.name(), concat!(module_path!(), "::combine.map[a,c]"));
    assert_eq!(
        gm.name(),
        concat!(module_path!(), "::combine_permuted.map[a,c]")
    );
    assert_eq!(fm.bound_names(), &["a", "c"]);
    assert_eq!(gm.bound_names(), &["c", "a"]);

    // `a` and `b` bound, `c` mapped.
    let f = map_task!(combine, b = "q".to_owned(), a = 0)
        .call(c.clone())
        .await
        .unwrap();
    let g = map_task!(combine_permuted, a = 0, b = "q".to_owned())
        .call(c.clone())
        .await
        .unwrap();
    assert_eq!(f, g);
    assert_eq!(f, vec!["a=0 b=q c=3", "a=0 b=q c=0", "a=0 b=q c=5"]);
}

// ---------------------------------------------------------------------------------------------
// §3.2: output shape; None at a tolerated failure.

#[tokio::test]
async fn a_tolerated_failure_is_none_at_its_index() {
    let map = map_task!(reject_odd, min_success_ratio = 0.5);
    let (result, report) = map.call_with_report(vec![2, 3, 4, 5]).await;
    let out: Vec<Option<i64>> = result.unwrap();
    assert_eq!(out, vec![Some(20), None, Some(40), None]);

    assert_eq!(report.status, MapStatus::Succeeded);
    assert_eq!(report.n, 4);
    assert_eq!(report.min_successes, 2);
    assert_eq!(report.totals.succeeded, 2);
    assert_eq!(report.totals.failed, 2);
    let statuses: Vec<ElementStatus> = report.elements.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![
            ElementStatus::Succeeded,
            ElementStatus::Failed,
            ElementStatus::Succeeded,
            ElementStatus::Failed
        ]
    );
    assert_eq!(report.errors_of(1), &[TaskError::msg("3 is odd")]);
    assert_eq!(report.errors_of(3), &[TaskError::msg("5 is odd")]);
    assert!(report.errors_of(0).is_empty());
}

#[tokio::test]
async fn ratio_one_and_no_criterion_are_strict_ratio_zero_tolerates_everything() {
    let _: maptask::MapTask<reject_odd, (i64,), (), Strict> = map_task!(reject_odd);
    let _: maptask::MapTask<reject_odd, (i64,), (), Strict> =
        map_task!(reject_odd, min_success_ratio = 1);
    let strict: maptask::MapTask<reject_odd, (i64,), (), Strict> =
        map_task!(reject_odd, min_success_ratio = 1.0);
    let out: Vec<i64> = strict.call(vec![2, 4]).await.unwrap();
    assert_eq!(out, vec![20, 40]);
    assert_eq!(strict.interface().output, list(i64_desc()));

    let anything: maptask::MapTask<reject_odd, (i64,), (), Tolerant> =
        map_task!(reject_odd, min_success_ratio = 0);
    assert_eq!(anything.interface().output, list(optional(i64_desc())));
    assert_eq!(anything.call(vec![1, 3]).await.unwrap(), vec![None, None]);
}

#[task]
async fn slow_or_fast(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[tokio::test]
async fn success_does_not_cancel_elements_once_the_threshold_is_reached() {
    let out = map_task!(slow_or_fast, min_successes = 1)
        .call(vec![0, 100, 50])
        .await
        .unwrap();
    assert_eq!(out, vec![Some(0), Some(100), Some(50)]);
}

#[task]
async fn finish_in_reverse(i: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(5 * (10 - i))).await;
    i
}

#[tokio::test]
async fn results_keep_input_order() {
    let out = map_task!(finish_in_reverse)
        .call((0..10).collect())
        .await
        .unwrap();
    assert_eq!(out, (0..10).collect::<Vec<u64>>());
}

// ---------------------------------------------------------------------------------------------
// §3.7: failing early.

static SLEEPERS_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Counts the sleeping elements whose future was dropped (cancelled).
struct DropCounter;

impl Drop for DropCounter {
    fn drop(&mut self) {
        SLEEPERS_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

#[task]
async fn boom_or_sleep(x: i64) -> Result<i64, TaskError> {
    if x < 0 {
        Err(TaskError::msg("boom"))
    } else {
        let _guard = DropCounter;
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok(x)
    }
}

#[tokio::test]
async fn the_early_failing_error_lists_every_failure_and_cancels_promptly() {
    let map = map_task!(boom_or_sleep, min_successes = 3);
    let started = Instant::now();
    let (result, report) = map.call_with_report(vec![-1, -1, 5, -1, 6]).await;
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());

    let error = result.unwrap_err();
    assert_eq!(
        error,
        MapError::TooManyFailures {
            map: concat!(module_path!(), "::boom_or_sleep.map").to_owned(),
            n: 5,
            min_successes: 3,
            failures: vec![
                failure(0, 1, "boom"),
                failure(1, 1, "boom"),
                failure(3, 1, "boom")
            ],
            summary: "[0-1][3]: boom".to_owned(),
        }
    );
    assert_eq!(
        error.to_string(),
        concat!(
            "map `",
            module_path!(),
            "::boom_or_sleep.map` failed: 3 of 5 elements failed, at least 3 had to succeed; [0-1][3]: boom"
        )
    );
    assert_eq!(report.status, MapStatus::Failed);
    assert_eq!(report.elements[2].status, ElementStatus::Cancelled);
    assert_eq!(report.elements[4].status, ElementStatus::Cancelled);

    // The two sleeping elements were really stopped, not left running for 10 s.
    let deadline = Instant::now() + PROMPT;
    while SLEEPERS_DROPPED.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(SLEEPERS_DROPPED.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn failing_early_stops_starting_elements() {
    let (result, report) = map_task!(reject_odd, concurrency = 1)
        .call_with_report(vec![1, 2, 4])
        .await;
    assert_eq!(
        result.unwrap_err(),
        MapError::TooManyFailures {
            map: concat!(module_path!(), "::reject_odd.map").to_owned(),
            n: 3,
            min_successes: 3,
            failures: vec![failure(0, 1, "1 is odd")],
            summary: "[0]: 1 is odd".to_owned(),
        }
    );
    assert_eq!(report.elements[0].status, ElementStatus::Failed);
    assert_eq!(report.elements[1].status, ElementStatus::NotStarted);
    assert_eq!(report.elements[2].status, ElementStatus::NotStarted);
    assert_eq!(report.total_attempts(), 1);

    // With retries, the failure holds every attempt's error.
    let error = map_task!(reject_odd, retries = 2, concurrency = 1)
        .call(vec![1, 2])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MapError::TooManyFailures {
            map: concat!(module_path!(), "::reject_odd.map").to_owned(),
            n: 2,
            min_successes: 2,
            failures: vec![failure(0, 3, "1 is odd")],
            summary: "[0]: 1 is odd".to_owned(),
        }
    );
}

// ---------------------------------------------------------------------------------------------
// §3.4: lengths.

static LENGTH_RUNS: AtomicUsize = AtomicUsize::new(0);

#[task]
fn length_checked(a: i64, b: String, c: bool) -> i64 {
    LENGTH_RUNS.fetch_add(1, Ordering::SeqCst);
    let _ = (b, c);
    a
}

#[tokio::test]
async fn a_length_mismatch_names_each_input_and_runs_nothing() {
    let map = map_task!(length_checked);
    let error = map
        .call(vec![1, 2, 3], vec!["x".to_owned()], vec![])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MapError::LengthMismatch {
            map: concat!(module_path!(), "::length_checked.map").to_owned(),
            lengths: vec![
                ("a".to_owned(), 3),
                ("b".to_owned(), 1),
                ("c".to_owned(), 0)
            ],
        }
    );
    assert_eq!(
        error.to_string(),
        concat!(
            "map `",
            module_path!(),
            "::length_checked.map`: mapped inputs have different lengths: `a` has 3, `b` has 1, `c` has 0"
        )
    );

    let partly_bound = map_task!(length_checked, min_success_ratio = 0.5, b = "k".to_owned());
    let error = partly_bound.call(vec![1, 2], vec![true]).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        concat!(
            "map `",
            module_path!(),
            "::length_checked.map[b]`: mapped inputs have different lengths: `a` has 2, `c` has 1"
        )
    );
    assert_eq!(LENGTH_RUNS.load(Ordering::SeqCst), 0);
}

static EMPTY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[task]
async fn never_runs(a: i64, b: i64) -> i64 {
    EMPTY_RUNS.fetch_add(1, Ordering::SeqCst);
    a + b
}

#[tokio::test]
async fn empty_inputs_return_empty_and_never_run_the_task() {
    let strict: Vec<i64> = map_task!(never_runs).call(vec![], vec![]).await.unwrap();
    assert!(strict.is_empty());
    let tolerant: Vec<Option<i64>> = map_task!(never_runs, min_success_ratio = 0.5, b = 1)
        .call(vec![])
        .await
        .unwrap();
    assert!(tolerant.is_empty());
    let (result, report) = map_task!(never_runs, concurrency = 2, b = 1)
        .call_with_report(vec![])
        .await;
    assert_eq!(result.unwrap(), Vec::<i64>::new());
    assert_eq!(report.n, 0);
    assert_eq!(report.total_attempts(), 0);

    // More required successes than elements is an error even with no element (§3.5).
    let error = map_task!(never_runs, min_successes = 1, b = 1)
        .call(vec![])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MapError::Spec {
            map: concat!(module_path!(), "::never_runs.map[b]").to_owned(),
            source: SpecError::MinSuccessesAboveLength {
                min_successes: 1,
                n: 0
            },
        }
    );
    assert_eq!(EMPTY_RUNS.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------------------------------------
// §3.5: criteria.

static MIN_RUNS: AtomicUsize = AtomicUsize::new(0);

#[task]
fn counted_odd(x: i64) -> Result<i64, TaskError> {
    MIN_RUNS.fetch_add(1, Ordering::SeqCst);
    if x % 2 == 0 {
        Ok(x)
    } else {
        Err(TaskError::msg("odd"))
    }
}

#[tokio::test]
async fn min_successes_decides_success() {
    let out: Vec<Option<i64>> = map_task!(reject_odd, min_successes = 2)
        .call(vec![2, 3, 4])
        .await
        .unwrap();
    assert_eq!(out, vec![Some(20), None, Some(40)]);

    let needed = 3usize;
    let error = map_task!(reject_odd, min_successes = needed)
        .call(vec![2, 3, 4])
        .await
        .unwrap_err();
    match error {
        MapError::TooManyFailures {
            n,
            min_successes,
            failures,
            summary,
            ..
        } => {
            assert_eq!((n, min_successes), (3, 3));
            assert_eq!(failures, vec![failure(1, 1, "3 is odd")]);
            assert_eq!(summary, "[1]: 3 is odd");
        }
        other => panic!("expected TooManyFailures, got {other:?}"),
    }

    let none_needed = map_task!(reject_odd, min_successes = 0)
        .call(vec![1, 3])
        .await
        .unwrap();
    assert_eq!(none_needed, vec![None, None]);

    // More than n fails before anything runs.
    let error = map_task!(counted_odd, min_successes = 4)
        .call(vec![2, 4, 6])
        .await
        .unwrap_err();
    assert_eq!(
        error,
        MapError::Spec {
            map: concat!(module_path!(), "::counted_odd.map").to_owned(),
            source: SpecError::MinSuccessesAboveLength {
                min_successes: 4,
                n: 3
            },
        }
    );
    assert_eq!(MIN_RUNS.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn ratios_are_exact_decimals() {
    // ceil(0.55 × 100) = 55: 45 failures are tolerated, 46 are not.
    let xs: Vec<i64> = (0..100).collect();
    let out = map_task!(below, min_success_ratio = 0.55, limit = 45)
        .call(xs.clone())
        .await
        .unwrap();
    assert_eq!(out.iter().filter(|o| o.is_some()).count(), 55);
    assert_eq!(out[44], None);
    assert_eq!(out[45], Some(45));

    let error = map_task!(below, min_success_ratio = 0.55, limit = 46)
        .call(xs.clone())
        .await
        .unwrap_err();
    match error {
        MapError::TooManyFailures {
            min_successes,
            failures,
            summary,
            ..
        } => {
            assert_eq!(min_successes, 55);
            assert_eq!(failures.len(), 46);
            assert_eq!(summary, "[0-45]: below 46");
        }
        other => panic!("expected TooManyFailures, got {other:?}"),
    }

    // The same through a run-time f64.
    let ratio: f64 = 0.55;
    let out = map_task!(below, min_success_ratio = ratio, limit = 45)
        .call(xs.clone())
        .await
        .unwrap();
    assert_eq!(out.iter().filter(|o| o.is_some()).count(), 55);
    assert!(map_task!(below, min_success_ratio = ratio, limit = 46)
        .call(xs)
        .await
        .is_err());

    // 0.75 × 4 → 3.
    let map = map_task!(reject_odd, min_success_ratio = 0.75);
    assert_eq!(
        map.call(vec![2, 4, 6, 7]).await.unwrap(),
        vec![Some(20), Some(40), Some(60), None]
    );
    assert!(map.call(vec![2, 4, 5, 7]).await.is_err());
}

static RATIO_RUNS: AtomicUsize = AtomicUsize::new(0);

#[task]
fn ratio_counted(x: i64) -> Result<i64, TaskError> {
    RATIO_RUNS.fetch_add(1, Ordering::SeqCst);
    if x % 2 == 0 {
        Ok(x)
    } else {
        Err(TaskError::msg("odd"))
    }
}

#[tokio::test]
async fn a_run_time_ratio_is_checked_when_the_map_runs() {
    let ratio: f64 = 0.5;
    let map: maptask::MapTask<reject_odd, (i64,), (), Tolerant> =
        map_task!(reject_odd, min_success_ratio = ratio);
    assert_eq!(
        map.spec().unwrap().criterion,
        Criterion::Ratio(Ratio::parse("0.5").unwrap())
    );
    assert_eq!(map.call(vec![2, 3]).await.unwrap(), vec![Some(20), None]);

    // A run-time 1.0 still gives Option outputs, and tolerates nothing.
    let one = 1.0_f64;
    let strict_at_run_time = map_task!(reject_odd, min_success_ratio = one);
    assert_eq!(
        strict_at_run_time.call(vec![2]).await.unwrap(),
        vec![Some(20)]
    );
    assert!(strict_at_run_time.call(vec![2, 3]).await.is_err());

    let before = RATIO_RUNS.load(Ordering::SeqCst);
    for (bad, given) in [(1.5_f64, "1.5"), (-0.25, "-0.25"), (f64::NAN, "NaN")] {
        let map = map_task!(ratio_counted, min_success_ratio = bad);
        let expected = SpecError::InvalidRatio {
            given: given.to_owned(),
        };
        assert_eq!(map.spec().unwrap_err(), expected);
        let error = map.call(vec![2, 4]).await.unwrap_err();
        assert_eq!(
            error,
            MapError::Spec {
                map: concat!(module_path!(), "::ratio_counted.map").to_owned(),
                source: expected,
            }
        );
        assert_eq!(
            error.to_string(),
            format!(
                "map `{}::ratio_counted.map`: min_success_ratio must be a number in [0, 1], got `{given}`",
                module_path!()
            )
        );
    }
    assert_eq!(
        RATIO_RUNS.load(Ordering::SeqCst),
        before,
        "an invalid ratio ran elements"
    );
}

// ---------------------------------------------------------------------------------------------
// §3.9: retries per element, overriding the task's own.

static FLAKY_ATTEMPTS: Mutex<BTreeMap<(String, u32), u32>> = Mutex::new(BTreeMap::new());

/// Fails the first `fails[i]` attempts of element `i`, counted per `run` and element.
fn flaky_body(run: String, i: u32, fails: Vec<u32>) -> Result<u32, TaskError> {
    let attempt = {
        let mut attempts = FLAKY_ATTEMPTS.lock().unwrap();
        let count = attempts.entry((run, i)).or_insert(0);
        *count += 1;
        *count
    };
    if attempt <= fails[i as usize] {
        Err(TaskError::msg("flaky"))
    } else {
        Ok(i * 100)
    }
}

fn attempts_of(run: &str, n: u32) -> Vec<u32> {
    let attempts = FLAKY_ATTEMPTS.lock().unwrap();
    (0..n)
        .map(|i| attempts.get(&(run.to_owned(), i)).copied().unwrap_or(0))
        .collect()
}

#[task(retries = 0)]
fn flaky(run: String, i: u32, fails: Vec<u32>) -> Result<u32, TaskError> {
    flaky_body(run, i, fails)
}

#[task(retries = 2)]
fn flaky_own(run: String, i: u32, fails: Vec<u32>) -> Result<u32, TaskError> {
    flaky_body(run, i, fails)
}

#[tokio::test]
async fn map_retries_override_the_tasks_own() {
    let fails = vec![2, 0, 1, 2];

    // The task allows no retry; the map allows 2 per element: every element succeeds, and
    // each one made exactly its own attempts.
    let map = map_task!(
        flaky,
        retries = 2,
        run = "override".to_owned(),
        fails = fails.clone()
    );
    assert_eq!(map.spec().unwrap().retries, 2);
    let (result, report) = map.call_with_report(vec![0, 1, 2, 3]).await;
    assert_eq!(result.unwrap(), vec![0, 100, 200, 300]);
    assert_eq!(attempts_of("override", 4), vec![3, 1, 2, 3]);
    let attempts: Vec<u32> = report.elements.iter().map(|e| e.attempts).collect();
    assert_eq!(attempts, vec![3, 1, 2, 3]);
    assert_eq!(report.errors_of(0).len(), 2);
    assert!(report.errors_of(1).is_empty());
    assert_eq!(report.errors_of(2), &[TaskError::msg("flaky")]);

    // With the task's own retries (0) the same map fails, and no element ran twice.
    let map = map_task!(flaky, run = "own".to_owned(), fails = fails.clone());
    assert_eq!(map.spec().unwrap().retries, 0);
    let error = map.call(vec![0, 1, 2, 3]).await.unwrap_err();
    match error {
        MapError::TooManyFailures { failures, .. } => {
            assert!(!failures.is_empty());
            for f in &failures {
                assert_eq!(f.attempts, 1, "element {} retried", f.index);
                assert_ne!(f.index, 1, "element 1 never fails");
            }
        }
        other => panic!("expected TooManyFailures, got {other:?}"),
    }
    assert!(attempts_of("own", 4).iter().all(|&a| a <= 1));

    // A task with retries = 2 keeps them when the map gives none…
    let map = map_task!(
        flaky_own,
        run = "task-retries".to_owned(),
        fails = fails.clone()
    );
    assert_eq!(map.spec().unwrap().retries, 2);
    assert_eq!(
        map.call(vec![0, 1, 2, 3]).await.unwrap(),
        vec![0, 100, 200, 300]
    );
    assert_eq!(attempts_of("task-retries", 4), vec![3, 1, 2, 3]);

    // …and loses them when the map says 0.
    let map = map_task!(
        flaky_own,
        retries = 0,
        min_successes = 0,
        run = "no-retries".to_owned(),
        fails = fails.clone()
    );
    let out = map.call(vec![0, 1, 2, 3]).await.unwrap();
    assert_eq!(out, vec![None, Some(100), None, None]);
    assert_eq!(attempts_of("no-retries", 4), vec![1, 1, 1, 1]);

    // `with_retries` overrides too.
    let map = map_task!(flaky, run = "with-retries".to_owned(), fails = fails).with_retries(2);
    assert_eq!(
        map.call(vec![0, 1, 2, 3]).await.unwrap(),
        vec![0, 100, 200, 300]
    );
    assert_eq!(attempts_of("with-retries", 4), vec![3, 1, 2, 3]);
}

#[tokio::test]
async fn a_permanent_error_is_not_retried() {
    let (result, report) = map_task!(permanent_odd, retries = 3, min_successes = 1)
        .call_with_report(vec![1, 2])
        .await;
    assert_eq!(result.unwrap(), vec![None, Some(2)]);
    assert_eq!(report.elements[0].attempts, 1);
    assert_eq!(
        report.errors_of(0),
        &[TaskError::permanent_msg("odd for good")]
    );
}

// ---------------------------------------------------------------------------------------------
// `()` tasks, panics and the report.

#[task]
fn touch(x: i64) {
    if x == 2 {
        panic!("cannot touch 2");
    }
}

#[task]
fn check_positive(x: i64) -> Result<(), TaskError> {
    if x > 0 {
        Ok(())
    } else {
        Err(TaskError::msg(format!("{x} is not positive")))
    }
}

#[task]
async fn touch_async(x: i64) {
    if x == 0 {
        panic!("zero");
    }
}

#[tokio::test]
async fn a_panicking_async_element_fails_alone() {
    let (result, report) = map_task!(touch_async, min_successes = 2, retries = 2)
        .call_with_report(vec![1, 0, 2])
        .await;
    assert_eq!(result.unwrap(), vec![Some(()), None, Some(())]);
    assert_eq!(report.elements[1].attempts, 1);
    assert_eq!(report.errors_of(1)[0].kind(), FailureKind::Panic);
    assert_eq!(report.errors_of(1)[0].message(), "panicked: zero");
}

#[tokio::test]
async fn a_unit_task_maps_to_units_and_its_report_says_which_failed() {
    let map = map_task!(touch, min_success_ratio = 0.5, retries = 3);
    assert_eq!(map.interface().output, list(optional(TypeDesc::Unit)));
    let (result, report) = map.call_with_report(vec![1, 2, 3]).await;
    let out: Vec<Option<()>> = result.unwrap();
    assert_eq!(out, vec![Some(()), None, Some(())]);

    assert_eq!(report.status, MapStatus::Succeeded);
    assert_eq!(report.elements[1].status, ElementStatus::Failed);
    // A panic is a permanent failure: no retry, and the run goes on.
    assert_eq!(report.elements[1].attempts, 1);
    let errors = report.errors_of(1);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].kind(), FailureKind::Panic);
    assert_eq!(errors[0].message(), "panicked: cannot touch 2");
    assert!(errors[0].is_permanent());
    let failed: Vec<usize> = report.failures().iter().map(|f| f.index).collect();
    assert_eq!(failed, vec![1]);

    // A `Result<(), E>` task maps to `()` too.
    let strict: Vec<()> = map_task!(check_positive).call(vec![1, 2]).await.unwrap();
    assert_eq!(strict, vec![(), ()]);
    let (result, report) = map_task!(check_positive, min_successes = 1)
        .call_with_report(vec![1, 0, -1])
        .await;
    assert_eq!(result.unwrap(), vec![Some(()), None, None]);
    let failed: Vec<(usize, String)> = report
        .failures()
        .iter()
        .map(|f| (f.index, f.last_error().unwrap().message().to_owned()))
        .collect();
    assert_eq!(
        failed,
        vec![
            (1, "0 is not positive".to_owned()),
            (2, "-1 is not positive".to_owned())
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// A nameable value: stored, returned, reused.

struct Pipeline {
    scale: maptask::MapTask<scale, (i64,), (maptask::Bound<i64>,), maptask::Strict>,
}

#[tokio::test]
async fn a_map_stored_in_a_struct_field_is_called_twice() {
    let pipeline = Pipeline {
        scale: map_task!(scale, concurrency = 2, factor = 10),
    };
    assert_eq!(
        pipeline.scale.call(vec![1, 2, 3]).await.unwrap(),
        vec![10, 20, 30]
    );
    assert_eq!(pipeline.scale.call(vec![-4]).await.unwrap(), vec![-40]);
    let copy = pipeline.scale.clone();
    assert_eq!(copy.call(vec![5]).await.unwrap(), vec![50]);
    assert_eq!(
        pipeline.scale.name(),
        concat!(module_path!(), "::scale.map[factor]")
    );
}

fn scaler(factor: i64) -> maptask::MapTask<scale, (i64,), (Bound<i64>,), Strict> {
    map_task!(scale, concurrency = 4, factor = factor)
}

fn tolerant_halver() -> maptask::MapTask<reject_odd, (i64,), (), Tolerant> {
    map_task!(reject_odd, min_successes = 1)
}

#[tokio::test]
async fn a_map_returned_from_a_function() {
    let maps: Vec<_> = (1..=3).map(scaler).collect();
    let mut outs = Vec::new();
    for map in &maps {
        outs.push(map.call(vec![1, 2]).await.unwrap());
    }
    assert_eq!(outs, vec![vec![1, 2], vec![2, 4], vec![3, 6]]);
    assert_eq!(
        tolerant_halver().call(vec![1, 2]).await.unwrap(),
        vec![None, Some(20)]
    );
}

// ---------------------------------------------------------------------------------------------
// A task from another crate.

#[tokio::test]
async fn a_task_from_another_crate_is_mapped_here() {
    let doubles = map_task!(external_tasks::double, concurrency = 2);
    assert_eq!(doubles.call(vec![1, 2, 3]).await.unwrap(), vec![2, 4, 6]);
    assert_eq!(doubles.name(), "external_tasks::double.map");
    assert_eq!(doubles.spec().unwrap().retries, 3, "the task's own retries");

    let repeats = map_task!(external_tasks::repeat, times = 2);
    assert_eq!(
        repeats
            .call(vec!["ab".to_owned(), "c".to_owned()])
            .await
            .unwrap(),
        vec!["abab", "cc"]
    );
    assert_eq!(repeats.name(), "text.repeat.map[times]");
    assert_eq!(repeats.mapped_names(), &["word"]);

    let by_path = map_task!(external_tasks::text::repeat, word = "z".to_owned());
    assert_eq!(by_path.call(vec![0, 3]).await.unwrap(), vec!["", "zzz"]);

    let divide = map_task!(
        external_tasks::checked_div,
        retries = 5,
        min_success_ratio = 0.5,
        a = 12
    );
    assert_eq!(divide.spec().unwrap().timeout, Some(Duration::from_secs(1)));
    let (result, report) = divide.call_with_report(vec![3, 0, 4]).await;
    assert_eq!(result.unwrap(), vec![Some(4), None, Some(3)]);
    assert_eq!(
        report.elements[1].attempts, 1,
        "a permanent error is not retried"
    );
    assert_eq!(report.errors_of(1)[0].message(), "division by zero");
}

// ---------------------------------------------------------------------------------------------
// §3.6: concurrency.

static CAP_NOW: AtomicUsize = AtomicUsize::new(0);
static CAP_MAX: AtomicUsize = AtomicUsize::new(0);

#[task]
async fn capped(i: usize) -> usize {
    let now = CAP_NOW.fetch_add(1, Ordering::SeqCst) + 1;
    CAP_MAX.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(15)).await;
    CAP_NOW.fetch_sub(1, Ordering::SeqCst);
    i
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_is_respected() {
    let (events, options) = recorder();
    let map = map_task!(capped, concurrency = 3).with_options(options);
    assert_eq!(map.spec().unwrap().concurrency, 3);
    let out = map.call((0..24).collect()).await.unwrap();
    assert_eq!(out, (0..24).collect::<Vec<_>>());
    assert_eq!(
        CAP_MAX.load(Ordering::SeqCst),
        3,
        "at most 3 at once, and the window fills"
    );

    let events = events.lock().unwrap();
    let max_running = events.iter().map(|e| e.counts().running).max().unwrap();
    assert!(max_running <= 3, "{max_running} running at once");
    let starts: Vec<usize> = events
        .iter()
        .filter(|e| matches!(e, MapEvent::Started { .. }))
        .filter_map(MapEvent::index)
        .collect();
    assert_eq!(
        starts,
        (0..24).collect::<Vec<_>>(),
        "elements start in index order"
    );
}

#[task]
async fn wait_ms(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[tokio::test]
async fn the_window_slides_rather_than_batching() {
    let (events, options) = recorder();
    let out = map_task!(wait_ms, concurrency = 2)
        .with_options(options)
        .call(vec![500, 5, 5, 5])
        .await
        .unwrap();
    assert_eq!(out, vec![500, 5, 5, 5]);
    let events = events.lock().unwrap();
    let position = |wanted: fn(&MapEvent) -> bool| events.iter().position(wanted).unwrap();
    let element_0_done = position(|e| matches!(e, MapEvent::Succeeded { index: 0, .. }));
    let element_3_started = position(|e| matches!(e, MapEvent::Started { index: 3, .. }));
    assert!(
        element_3_started < element_0_done,
        "element 3 waited for element 0: batches, not a sliding window"
    );
}

static SYNC_NOW: AtomicUsize = AtomicUsize::new(0);
static SYNC_MAX: AtomicUsize = AtomicUsize::new(0);

#[task]
fn capped_sync(i: usize) -> usize {
    let now = SYNC_NOW.fetch_add(1, Ordering::SeqCst) + 1;
    SYNC_MAX.fetch_max(now, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(2));
    SYNC_NOW.fetch_sub(1, Ordering::SeqCst);
    i
}

#[tokio::test]
async fn the_concurrency_cap_holds_for_blocking_tasks() {
    let out = map_task!(capped_sync, concurrency = 1)
        .call((0..10).collect())
        .await
        .unwrap();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    assert_eq!(SYNC_MAX.load(Ordering::SeqCst), 1);
}

static FREE_NOW: AtomicUsize = AtomicUsize::new(0);
static FREE_MAX: AtomicUsize = AtomicUsize::new(0);

#[task]
async fn unbounded(i: usize) -> usize {
    let now = FREE_NOW.fetch_add(1, Ordering::SeqCst) + 1;
    FREE_MAX.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(30)).await;
    FREE_NOW.fetch_sub(1, Ordering::SeqCst);
    i
}

#[tokio::test]
async fn concurrency_zero_means_unbounded() {
    let map = map_task!(unbounded, concurrency = 0);
    let out = map.call((0..12).collect()).await.unwrap();
    assert_eq!(out, (0..12).collect::<Vec<_>>());
    assert_eq!(FREE_MAX.load(Ordering::SeqCst), 12);
}

static RT_NOW: AtomicUsize = AtomicUsize::new(0);
static RT_MAX: AtomicUsize = AtomicUsize::new(0);

#[task]
async fn runtime_capped(i: usize) -> usize {
    let now = RT_NOW.fetch_add(1, Ordering::SeqCst) + 1;
    RT_MAX.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(10)).await;
    RT_NOW.fetch_sub(1, Ordering::SeqCst);
    i
}

#[tokio::test]
async fn an_unbounded_map_obeys_the_runtime_wide_limit() {
    let runtime = Runtime::builder().max_in_flight(Some(2)).build();
    let map = map_task!(runtime_capped).with_runtime(runtime);
    assert_eq!(map.spec().unwrap().concurrency, 0);
    let out = map.call((0..10).collect()).await.unwrap();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    assert_eq!(RT_MAX.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------------
// Timeouts and cancellation.

#[task(timeout = "10s")]
async fn sleepy(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(10)).await;
    x
}

#[tokio::test]
async fn a_map_timeout_overrides_the_tasks_and_fails_fast() {
    assert_eq!(
        map_task!(sleepy).spec().unwrap().timeout,
        Some(Duration::from_secs(10))
    );
    let map = map_task!(sleepy, timeout = "50ms");
    assert_eq!(map.spec().unwrap().timeout, Some(Duration::from_millis(50)));
    let started = Instant::now();
    let error = map.call(vec![1, 2]).await.unwrap_err();
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    match error {
        MapError::TooManyFailures {
            failures, summary, ..
        } => {
            assert!(!failures.is_empty());
            let first = failures[0].last_error().unwrap();
            assert_eq!(first.kind(), FailureKind::Timeout);
            assert_eq!(first.message(), "timed out after 50ms");
            assert!(summary.contains("timed out after 50ms"), "{summary}");
        }
        other => panic!("expected TooManyFailures, got {other:?}"),
    }
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let started = Instant::now();
    let (result, report) = map_task!(sleepy, timeout = "20ms", retries = 2, min_successes = 0)
        .call_with_report(vec![1])
        .await;
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(result.unwrap(), vec![None]);
    assert_eq!(report.elements[0].attempts, 3);
    assert_eq!(
        report.errors_of(0),
        vec![TaskError::timeout(Duration::from_millis(20)); 3]
    );

    let map = map_task!(sleepy).with_timeout(Some(Duration::from_millis(20)));
    let started = Instant::now();
    assert!(map.call(vec![1]).await.is_err());
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
}

#[task]
fn sleepy_sync(x: i64) -> i64 {
    std::thread::sleep(Duration::from_millis(1500));
    x
}

#[tokio::test]
async fn a_blocking_task_times_out_without_waiting_for_it() {
    let started = Instant::now();
    let error = map_task!(sleepy_sync, timeout = "50ms")
        .call(vec![1])
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "the map waited for the blocking body: {:?}",
        started.elapsed()
    );
    match error {
        MapError::TooManyFailures { failures, .. } => {
            assert_eq!(
                failures[0].last_error().unwrap().kind(),
                FailureKind::Timeout
            );
        }
        other => panic!("expected TooManyFailures, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cancelled_map_stops_promptly() {
    let token = CancellationToken::new();
    let map = map_task!(sleepy).with_options(RunOptions::new().cancel(token.clone()));
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        token.cancel();
    });
    let started = Instant::now();
    let error = map.call(vec![1, 2, 3]).await.unwrap_err();
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(
        error,
        MapError::Cancelled {
            map: concat!(module_path!(), "::sleepy.map").to_owned()
        }
    );
    canceller.await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// §3.1 and §3.11: interface and name for every subset of bound parameters.

fn check_trio<M, B, K: Tolerance>(
    map: &maptask::MapTask<trio, M, B, K>,
    mapped: &[&str],
    bound: &[&str],
    suffix: &str,
) {
    assert_eq!(map.mapped_names(), mapped, "mapped names");
    assert_eq!(map.bound_names(), bound, "bound names");
    assert_eq!(
        map.name(),
        format!("{}::trio{suffix}", module_path!()),
        "name"
    );
    let base = [
        ("a", i64_desc()),
        ("b", TypeDesc::String),
        ("c", list(TypeDesc::Float { bits: 64 })),
    ];
    let interface = map.interface();
    let got: Vec<(&str, TypeDesc)> = interface
        .inputs
        .iter()
        .map(|p| (p.name, p.ty.clone()))
        .collect();
    let expected: Vec<(&str, TypeDesc)> = base
        .into_iter()
        .map(|(name, ty)| {
            if mapped.contains(&name) {
                (name, list(ty))
            } else {
                (name, ty)
            }
        })
        .collect();
    assert_eq!(got, expected, "inputs of {}", map.name());
    let element = if K::TOLERANT {
        optional(TypeDesc::String)
    } else {
        TypeDesc::String
    };
    assert_eq!(interface.output, list(element), "output of {}", map.name());
}

#[tokio::test]
async fn interface_and_name_for_each_subset_of_bound_parameters() {
    let expected = trio(1, "x".to_owned(), vec![0.5, 1.0]);
    assert_eq!(expected, "1/x/1.5");
    let (a, b, c) = (1i64, "x".to_owned(), vec![0.5, 1.0]);

    // Nothing bound.
    let m = map_task!(trio);
    check_trio(&m, &["a", "b", "c"], &[], ".map");
    let out = m
        .call(vec![a], vec![b.clone()], vec![c.clone()])
        .await
        .unwrap();
    assert_eq!(out, vec![expected.clone()]);

    // One bound.
    let m = map_task!(trio, a = a);
    check_trio(&m, &["b", "c"], &["a"], ".map[a]");
    assert_eq!(
        m.call(vec![b.clone()], vec![c.clone()]).await.unwrap(),
        vec![expected.clone()]
    );

    let m = map_task!(trio, b = b.clone());
    check_trio(&m, &["a", "c"], &["b"], ".map[b]");
    assert_eq!(
        m.call(vec![a], vec![c.clone()]).await.unwrap(),
        vec![expected.clone()]
    );

    let m = map_task!(trio, c = c.clone());
    check_trio(&m, &["a", "b"], &["c"], ".map[c]");
    assert_eq!(
        m.call(vec![a], vec![b.clone()]).await.unwrap(),
        vec![expected.clone()]
    );

    // Two bound, written out of order: the name sorts them, the bound names keep declaration order.
    let m = map_task!(trio, b = b.clone(), a = a);
    check_trio(&m, &["c"], &["a", "b"], ".map[a,b]");
    assert_eq!(
        m.call(vec![c.clone()]).await.unwrap(),
        vec![expected.clone()]
    );

    let m = map_task!(trio, c = c.clone(), a = a);
    check_trio(&m, &["b"], &["a", "c"], ".map[a,c]");
    assert_eq!(
        m.call(vec![b.clone()]).await.unwrap(),
        vec![expected.clone()]
    );

    let m = map_task!(trio, c = c.clone(), b = b.clone());
    check_trio(&m, &["a"], &["b", "c"], ".map[b,c]");
    assert_eq!(m.call(vec![a]).await.unwrap(), vec![expected.clone()]);

    // Tolerant maps differ only in their output.
    let m = map_task!(trio, min_successes = 1, a = a);
    check_trio(&m, &["b", "c"], &["a"], ".map[a]");
    assert_eq!(
        m.call(vec![b.clone()], vec![c.clone()]).await.unwrap(),
        vec![Some(expected.clone())]
    );
}

#[test]
fn the_name_sorts_bound_names_not_declaration_order() {
    let m = map_task!(zyx, z = 1, x = 3);
    assert_eq!(m.bound_names(), &["z", "x"]);
    assert_eq!(m.mapped_names(), &["y"]);
    assert_eq!(m.name(), concat!(module_path!(), "::zyx.map[x,z]"));
    // Concurrency and criteria are not part of the name.
    let other = map_task!(
        zyx,
        concurrency = 7,
        min_successes = 1,
        retries = 2,
        x = 0,
        z = 9
    );
    assert_eq!(other.name(), m.name());
    // `name = "…"` overrides it.
    let named = map_task!(zyx, name = "digits", z = 1, x = 3);
    assert_eq!(named.name(), "digits");
    assert_eq!(named.spec().unwrap().name, "digits");
}

#[test]
fn spec_falls_back_to_the_tasks_metadata_and_builders_override_it() {
    let map = map_task!(my_mappable_task);
    let spec = map.spec().unwrap();
    assert_eq!(spec.concurrency, 0);
    assert_eq!(spec.criterion, Criterion::All);
    assert_eq!(spec.retries, 1);
    assert_eq!(spec.timeout, None);

    let spec = map
        .with_concurrency(5)
        .with_retries(4)
        .with_timeout(Some(Duration::from_secs(2)))
        .spec()
        .unwrap();
    assert_eq!(spec.concurrency, 5);
    assert_eq!(spec.retries, 4);
    assert_eq!(spec.timeout, Some(Duration::from_secs(2)));

    let spec = map_task!(scale, min_successes = 2, factor = 1)
        .spec()
        .unwrap();
    assert_eq!(spec.criterion, Criterion::MinSuccesses(2));
}

// ---- parameters named like map options (issue 13) -----------------------------------------

#[task]
fn greet(greeting: String, name: String, timeout: u32) -> String {
    format!("{greeting}, {name} ({timeout})")
}

#[tokio::test]
async fn a_parameter_named_like_an_option_is_bound_with_bind() {
    let map = map_task!(
        greet,
        bind(name = "Bob".to_owned(), timeout = 3),
        options(name = "greetings", timeout = "5s"),
        retries = 1
    );
    assert_eq!(map.name(), "greetings");
    assert_eq!(
        map.call(vec!["hi".to_owned(), "yo".to_owned()])
            .await
            .unwrap(),
        vec!["hi, Bob (3)".to_owned(), "yo, Bob (3)".to_owned()]
    );
    // A bare option that is no parameter needs no group.
    let by_default = map_task!(greet, bind(name = "Al".to_owned()), concurrency = 1);
    assert_eq!(
        by_default
            .call(vec!["hi".to_owned()], vec![7])
            .await
            .unwrap(),
        vec!["hi, Al (7)".to_owned()]
    );
}

static LAZY_CALLS: AtomicUsize = AtomicUsize::new(0);

#[task]
fn count_lazy(x: i64) -> i64 {
    LAZY_CALLS.fetch_add(1, Ordering::SeqCst);
    x
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_call_dropped_before_its_first_poll_runs_nothing() {
    // A map's future is lazy, strict or tolerant: nothing runs before it is polled.
    let strict = map_task!(count_lazy);
    let tolerant = map_task!(count_lazy, min_success_ratio = 0.5);
    drop(strict.call(vec![1, 2, 3]));
    drop(tolerant.call_with_report(vec![1, 2, 3]));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(LAZY_CALLS.load(Ordering::SeqCst), 0);
    assert_eq!(strict.call(vec![1, 2]).await, Ok(vec![1, 2]));
    assert_eq!(tolerant.call(vec![3]).await, Ok(vec![Some(3)]));
    assert_eq!(LAZY_CALLS.load(Ordering::SeqCst), 3);
}
