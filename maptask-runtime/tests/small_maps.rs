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
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use proptest::prelude::*;

#[path = "support/tracked.rs"]
mod tracked;
use tracked::{assert_all_dropped, Tracked};

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

/// A map's result and report.
type Ran = (Result<Vec<Option<usize>>, MapError>, MapReport);

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

/// Runs `scripts` until one run happens wholly on this thread, its caller, and returns that
/// run's outcome. The first maps of a kind of work run on the pool and are timed (the record is
/// the process's); once it is known to be quick, a small map runs on its caller, unless the
/// caller is descheduled long enough to hand the rest to the pool. `None` if no run of `tries`
/// was wholly on the caller.
fn run_on_caller<K: 'static>(
    rt: &Runtime,
    spec: &MapSpec,
    scripts: &[Vec<Step>],
    tries: usize,
) -> Option<Ran> {
    let caller = std::thread::current().id();
    (0..tries).find_map(|_| {
        let (result, report, threads) = run::<K>(rt, spec, scripts, false);
        threads
            .iter()
            .all(|t| *t == caller)
            .then_some((result, report))
    })
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

    // Every element succeeds. (Small maps: the caller takes as many elements as a quarter of
    // 100 µs holds at the work's known pace, and a debug build's bookkeeping here takes a
    // microsecond or so per element.)
    let scripts = vec![vec![Step::Ok]; 10];
    let (result, report) = run_on_caller::<Single>(&rt, &MapSpec::new("ok"), &scripts, 50)
        .expect("known to be quick, the map runs on its caller");
    assert_eq!(result, Ok((0..10).map(|i| Some(i * 10)).collect()));
    assert_eq!(report.status, MapStatus::Succeeded);
    assert_eq!(statuses(&report), vec![(ElementStatus::Succeeded, 1); 10]);

    // Element 5 fails for good and stops the strict map: the five before it succeeded, and
    // none after it started (before, they were all reported as cancelled while running).
    let mut scripts = vec![vec![Step::Ok]; 12];
    scripts[5] = vec![Step::Permanent];
    let (result, report) = run_on_caller::<Single>(&rt, &MapSpec::new("stops"), &scripts, 50)
        .expect("known to be quick, the map runs on its caller");
    assert_eq!(
        result.unwrap_err().to_string(),
        "map `stops` failed: 1 of 12 elements failed, at least 12 had to succeed; [5]: fatal 5"
    );
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

/// On its caller, a small map of quick work gives what the general engine gives when it runs
/// one element at a time: the same outputs or error, the same status and attempts for every
/// element, the same errors kept.
#[test]
fn a_small_quick_map_matches_the_general_engine_one_at_a_time() {
    use proptest::test_runner::{Config, TestRunner};
    let rt = runtime();
    let cases = 64;
    // Cases whose map ran on its caller (a case that never did, on a busy machine, is
    // skipped; most must not be).
    let on_caller = AtomicUsize::new(0);
    let strategy = (
        prop::collection::vec(prop::collection::vec(step(), 1..4), 1..12),
        criterion(),
        0u32..3,
    );
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |(scripts, criterion, retries)| {
        let spec = MapSpec::new("small").criterion(criterion).retries(retries);
        let Some((result, report)) = run_on_caller::<Prop>(&rt, &spec, &scripts, 20) else {
            return Ok(());
        };
        on_caller.fetch_add(1, Ordering::Relaxed);
        let (expected, general, _) = run::<Prop>(&rt, &spec.clone().concurrency(1), &scripts, true);
        prop_assert_eq!(result, expected);
        prop_assert_eq!(report.status, general.status);
        prop_assert_eq!(statuses(&report), statuses(&general));
        prop_assert_eq!(&report.errors, &general.errors);
        prop_assert_eq!(report.totals, general.totals);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
    let on_caller = on_caller.into_inner();
    assert!(
        on_caller * 2 >= cases as usize,
        "only {on_caller} of {cases} maps ran on their caller"
    );
}

/// Work over tracked values, a kind per `K`: element `i` follows `steps[i]` (by attempt, the
/// last repeating), notes its thread, and hands back its input (`O` = `Tracked`, written over
/// the input) or the input and a number (`O` = `(Tracked, u64)`, in a buffer of its own).
fn tracked_work<K: 'static, O: From<Tracked> + Send + 'static>(
    steps: Arc<Vec<Vec<Step>>>,
    threads: Arc<std::sync::Mutex<Vec<ThreadId>>>,
) -> impl maptask_runtime::Work<Tracked, Output = O> {
    let attempts = Arc::new(std::sync::Mutex::new(vec![0usize; steps.len()]));
    maptask_runtime::work::blocking(move |input: Tracked| {
        let _kind = std::marker::PhantomData::<K>;
        threads.lock().unwrap().push(std::thread::current().id());
        let attempt = {
            let mut attempts = attempts.lock().unwrap();
            attempts[input.index] += 1;
            attempts[input.index]
        };
        let script = &steps[input.index];
        match script[(attempt - 1).min(script.len() - 1)] {
            Step::Ok => Ok(O::from(input)),
            Step::Err => Err(TaskError::msg("again")),
            Step::Permanent => Err(TaskError::permanent_msg("fatal")),
        }
    })
}

/// An output of a layout other than its input's.
struct Wide(#[allow(dead_code)] Tracked, #[allow(dead_code)] u64);

impl From<Tracked> for Wide {
    fn from(input: Tracked) -> Wide {
        Wide(input, 7)
    }
}

/// Runs `steps` over tracked inputs on its caller (see [`run_on_caller`]), needing every output
/// (`all`) or not; returns whether the map succeeded and its outputs' count, once every value of
/// the family is dropped (checked: none leaked, none dropped twice).
fn tracked_on_caller<K: 'static, O: From<Tracked> + Send + 'static>(
    rt: &Runtime,
    steps: &[Vec<Step>],
    retries: u32,
    all: bool,
) -> (bool, usize) {
    let caller = std::thread::current().id();
    let steps = Arc::new(steps.to_vec());
    for _ in 0..50 {
        let live = Arc::new(AtomicIsize::new(0));
        let inputs: Vec<Tracked> = (0..steps.len()).map(|i| Tracked::new(i, &live)).collect();
        let threads = Arc::default();
        let work = tracked_work::<K, O>(Arc::clone(&steps), Arc::clone(&threads));
        let spec = MapSpec::new("tracked").retries(retries);
        let tokio = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let outcome = if all {
            let (result, _) =
                tokio.block_on(rt.run_map_all(&spec, inputs, work, RunOptions::new()));
            result.map(|outputs| outputs.len())
        } else {
            let outcome = tokio.block_on(rt.run_map(&spec, inputs, work, RunOptions::new()));
            outcome
                .result
                .map(|outputs| outputs.iter().filter(|o| o.is_some()).count())
        };
        // Every output and input is dropped by now: the map ran on this thread.
        let on_caller = threads.lock().unwrap().iter().all(|t| *t == caller);
        if on_caller {
            assert_eq!(
                live.load(Ordering::SeqCst),
                0,
                "values leaked or dropped twice"
            );
            return (outcome.is_ok(), outcome.unwrap_or(0));
        }
        // On the pool, a stopped map's stragglers may still hold values: wait for them.
        assert_all_dropped(&live);
    }
    panic!("the map never ran on its caller");
}

/// Three maps on their caller, each value dropped once: every element succeeds, element 5
/// stops the map, element 3 succeeds at its retry.
fn drops_each_value_once<K: 'static, O: From<Tracked> + Send + 'static>(rt: &Runtime, all: bool) {
    let ok = vec![vec![Step::Ok]; 12];
    let mut stops = ok.clone();
    stops[5] = vec![Step::Permanent];
    let mut retried = ok.clone();
    retried[3] = vec![Step::Err, Step::Ok];
    assert_eq!(tracked_on_caller::<K, O>(rt, &ok, 0, all), (true, 12));
    assert_eq!(tracked_on_caller::<K, O>(rt, &stops, 0, all), (false, 0));
    assert_eq!(tracked_on_caller::<K, O>(rt, &retried, 1, all), (true, 12));
}

#[test]
fn a_small_map_on_its_caller_drops_every_value_once() {
    /// The kinds of work of this test: one per output type.
    struct Over;
    struct Own;
    let rt = runtime();
    for all in [true, false] {
        // Outputs over the inputs, and in a buffer of their own.
        drops_each_value_once::<Over, Tracked>(&rt, all);
        drops_each_value_once::<Own, Wide>(&rt, all);
    }
}
