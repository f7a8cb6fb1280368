//! Small maps of work known to be quick run whole on their caller, as one chunk: the same
//! outputs, errors and report as the general engine running the elements one at a time.
//!
//! A binary of its own: whether work is quick is learnt per kind of work for the whole
//! process, and a kind that is slow a few times (a thread descheduled mid-element, which many
//! tests running at once on two cores make likely) runs on the pool for good. Each test here
//! has its own kind of work (see [`scripted`]), and few tests run beside them.

use std::sync::Arc;
use std::thread::ThreadId;

use maptask_core::{Criterion, MapError, MapSpec, TaskError};
use maptask_runtime::{ElementStatus, MapReport, MapStatus, RunOptions, Runtime};
use proptest::prelude::*;

/// What an attempt of one element does, by attempt (the last one repeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Ok,
    Err,
    Permanent,
}

/// One element: its steps, and the thread each of its attempts ran on.
type Element = (Arc<Vec<Step>>, Arc<std::sync::Mutex<Vec<ThreadId>>>);

/// A kind of work per test (`K`: its type is what the runtime learns is quick): an element
/// follows its script, attempt by attempt, and notes its thread.
fn scripted<K: 'static>() -> impl maptask_runtime::Work<(usize, Element), Output = usize> {
    maptask_runtime::work::blocking(|(index, (steps, threads)): (usize, Element)| {
        let _kind = std::marker::PhantomData::<K>;
        let attempt = {
            let mut threads = threads.lock().unwrap();
            threads.push(std::thread::current().id());
            threads.len()
        };
        match steps[(attempt - 1).min(steps.len() - 1)] {
            Step::Ok => Ok(index * 10),
            Step::Err => Err(TaskError::msg(format!("boom {index} at {attempt}"))),
            Step::Permanent => Err(TaskError::permanent_msg(format!("fatal {index}"))),
        }
    })
}

fn elements(scripts: &[Vec<Step>]) -> Vec<(usize, Element)> {
    scripts
        .iter()
        .enumerate()
        .map(|(i, steps)| (i, (Arc::new(steps.clone()), Arc::default())))
        .collect()
}

/// The threads each element's attempts ran on.
fn threads_of(elements: &[(usize, Element)]) -> Vec<ThreadId> {
    elements
        .iter()
        .flat_map(|(_, (_, threads))| threads.lock().unwrap().clone())
        .collect()
}

/// Runs `scripts` as a map on `rt`; `general` adds an observer, which sends the map to the
/// general engine.
fn run<K: 'static>(
    rt: &Runtime,
    spec: &MapSpec,
    scripts: &[Vec<Step>],
    general: bool,
) -> (
    Result<Vec<Option<usize>>, MapError>,
    MapReport,
    Vec<ThreadId>,
) {
    let inputs = elements(scripts);
    let options = if general {
        RunOptions::new().observer(Arc::new(|_: &maptask_runtime::MapEvent| {}))
    } else {
        RunOptions::new()
    };
    // The caller is this thread.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = tokio.block_on(rt.run_map(spec, inputs.clone(), scripted::<K>(), options));
    (outcome.result, outcome.report, threads_of(&inputs))
}

/// Makes the work known to be quick: the first maps of a kind of work run on the pool and are
/// timed (the record is the process's), until one is quick enough; then small maps of it run
/// on their caller.
fn warm<K: 'static>(rt: &Runtime) {
    let caller = std::thread::current().id();
    for _ in 0..50 {
        let (result, _, threads) =
            run::<K>(rt, &MapSpec::new("warm"), &vec![vec![Step::Ok]; 4], false);
        assert_eq!(result, Ok(vec![Some(0), Some(10), Some(20), Some(30)]));
        if threads.iter().all(|t| *t == caller) {
            return;
        }
    }
    panic!("the work never ran on its caller");
}

/// What each element's report says, without its duration.
fn statuses(report: &MapReport) -> Vec<(ElementStatus, u32)> {
    report
        .elements
        .iter()
        .map(|e| (e.status, e.attempts))
        .collect()
}

fn runtime() -> Runtime {
    Runtime::builder().compute_threads(2).build()
}

#[test]
fn a_small_quick_map_runs_on_its_caller_and_reports_each_element() {
    let rt = runtime();
    /// This test's kind of work.
    struct Single;
    warm::<Single>(&rt);
    let caller = std::thread::current().id();

    // Every element succeeds: the report is one run. (Small maps: the caller takes as many
    // elements as a quarter of 100 µs holds at the work's known pace, and a debug build's
    // bookkeeping here takes a few microseconds per element.)
    let scripts = vec![vec![Step::Ok]; 10];
    let (result, report, threads) = run::<Single>(&rt, &MapSpec::new("ok"), &scripts, false);
    assert_eq!(result, Ok((0..10).map(|i| Some(i * 10)).collect()));
    assert_eq!(threads, vec![caller; 10]);
    assert_eq!(report.status, MapStatus::Succeeded);
    assert_eq!(report.totals.succeeded, 10);
    assert_eq!(report.elements.runs().count(), 1);

    // Element 5 fails for good and stops the strict map: the five before it succeeded, and
    // none after it started (before, they were all reported as cancelled while running).
    let mut scripts = vec![vec![Step::Ok]; 12];
    scripts[5] = vec![Step::Permanent];
    let (result, report, threads) = run::<Single>(&rt, &MapSpec::new("stops"), &scripts, false);
    assert_eq!(
        result.unwrap_err().to_string(),
        "map `stops` failed: 1 of 12 elements failed, at least 12 had to succeed; [5]: fatal 5"
    );
    assert_eq!(threads, vec![caller; 6]);
    let mut expected = vec![(ElementStatus::Succeeded, 1); 5];
    expected.push((ElementStatus::Failed, 1));
    expected.extend(vec![(ElementStatus::NotStarted, 0); 6]);
    assert_eq!(statuses(&report), expected);
    assert_eq!(
        (
            report.totals.succeeded,
            report.totals.failed,
            report.totals.pending,
            report.totals.cancelled
        ),
        (5, 1, 6, 0)
    );
}

/// The property's kind of work.
struct Prop;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![4 => Just(Step::Ok), 2 => Just(Step::Err), 1 => Just(Step::Permanent)]
}

fn criterion() -> impl Strategy<Value = Criterion> {
    prop_oneof![
        Just(Criterion::All),
        (0usize..14).prop_map(Criterion::MinSuccesses),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// On its caller, a small map of quick work gives what the general engine gives when it
    /// runs one element at a time: the same outputs or error, and the same status and attempts
    /// for every element, the same errors kept.
    #[test]
    fn a_small_quick_map_matches_the_general_engine_one_at_a_time(
        scripts in prop::collection::vec(prop::collection::vec(step(), 1..4), 1..12),
        criterion in criterion(),
        retries in 0u32..3,
    ) {
        let rt = runtime();
        warm::<Prop>(&rt);
        let caller = std::thread::current().id();
        let spec = MapSpec::new("small").criterion(criterion).retries(retries);
        let (result, report, threads) = run::<Prop>(&rt, &spec, &scripts, false);
        prop_assert!(threads.iter().all(|t| *t == caller), "not all on the caller");
        let (expected, general, _) = run::<Prop>(&rt, &spec.clone().concurrency(1), &scripts, true);
        prop_assert_eq!(result, expected);
        prop_assert_eq!(report.status, general.status);
        prop_assert_eq!(statuses(&report), statuses(&general));
        prop_assert_eq!(&report.errors, &general.errors);
        prop_assert_eq!(report.totals, general.totals);
    }
}
