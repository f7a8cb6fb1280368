//! Empty inputs, specification errors, output order, criteria, and `TaskWork`.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use maptask_core::{
    Criterion, Execution, Interface, MapError, MapSpec, Metadata, Ratio, SpecError, Task,
    TaskError, TypeDesc,
};
use maptask_runtime::{ElementStatus, MapStatus, RunOptions, TaskWork};

use crate::common::{all_ok, runtime, scripted, scripted_blocking, Probe, Step};

#[tokio::test]
async fn empty_input_returns_empty_at_once_without_running() {
    let probe = Probe::new(0);
    let spec = MapSpec::new("empty").concurrency(3);
    let outcome = runtime()
        .run_map(
            &spec,
            Vec::<usize>::new(),
            scripted(&probe, vec![]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![]));
    assert_eq!(outcome.report.n, 0);
    assert_eq!(outcome.report.status, MapStatus::Succeeded);
    assert!(outcome.report.elements.is_empty());
    assert_eq!(probe.total_starts.load(Ordering::SeqCst), 0);

    // A ratio over nothing asks for nothing.
    let spec = MapSpec::new("empty").criterion(Criterion::Ratio(Ratio::parse("0.5").unwrap()));
    let outcome = runtime()
        .run_map(
            &spec,
            Vec::<usize>::new(),
            scripted(&probe, vec![]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![]));
}

#[tokio::test]
async fn min_successes_above_n_fails_before_anything_runs() {
    let probe = Probe::new(3);
    let spec = MapSpec::new("greedy").criterion(Criterion::MinSuccesses(4));
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0, 1, 2],
            scripted(&probe, all_ok(3)),
            RunOptions::new(),
        )
        .await;
    assert_eq!(
        outcome.result,
        Err(MapError::Spec {
            map: "greedy".into(),
            source: SpecError::MinSuccessesAboveLength {
                min_successes: 4,
                n: 3
            }
        })
    );
    assert_eq!(
        outcome.result.unwrap_err().to_string(),
        "map `greedy`: min_successes = 4 exceeds the number of elements, 3"
    );
    assert_eq!(probe.total_starts.load(Ordering::SeqCst), 0);
    assert_eq!(outcome.report.status, MapStatus::Failed);
    assert_eq!(outcome.report.elements.len(), 3);
    assert!(outcome
        .report
        .elements
        .iter()
        .all(|e| e.status == ElementStatus::NotStarted && e.attempts == 0));

    // Even over an empty input: one success cannot come from no element.
    let spec = MapSpec::new("greedy").criterion(Criterion::MinSuccesses(1));
    let outcome = runtime()
        .run_map(
            &spec,
            Vec::<usize>::new(),
            scripted(&probe, vec![]),
            RunOptions::new(),
        )
        .await;
    assert!(matches!(outcome.result, Err(MapError::Spec { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_keep_input_order_whatever_the_finish_order() {
    let n = 8;
    let probe = Probe::new(n);
    // Element i finishes after (n - i) * 15 ms: the last finishes first.
    let scripts = (0..n)
        .map(|i| vec![Step::Ok(((n - i) * 15) as u64)])
        .collect();
    let spec = MapSpec::new("order");
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    let expected: Vec<Option<usize>> = (0..n).map(|i| Some(i * 10)).collect();
    assert_eq!(outcome.result, Ok(expected));
    assert_eq!(outcome.report.totals.succeeded, n);
    assert!(outcome
        .report
        .elements
        .iter()
        .all(|e| e.status == ElementStatus::Succeeded && e.attempts == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tolerated_failures_leave_none_at_their_index() {
    let probe = Probe::new(4);
    let scripts = vec![
        vec![Step::Ok(0)],
        vec![Step::Permanent],
        vec![Step::Ok(0)],
        vec![Step::Ok(0)],
    ];
    // ceil(0.75 × 4) = 3.
    let spec = MapSpec::new("ratio").criterion(Criterion::Ratio(Ratio::parse("0.75").unwrap()));
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0, 1, 2, 3],
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), None, Some(20), Some(30)]));
    assert_eq!(outcome.report.min_successes, 3);
    assert_eq!(outcome.report.totals.failed, 1);
    assert_eq!(outcome.report.elements[1].status, ElementStatus::Failed);
    assert_eq!(
        outcome.report.errors_of(1),
        &[TaskError::permanent_msg("fatal")]
    );
    assert_eq!(outcome.report.failures().len(), 1);
    assert!(outcome.report.errors_of(0).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaching_the_threshold_cancels_nothing() {
    let n = 4;
    let probe = Probe::new(n);
    let scripts = vec![
        vec![Step::Ok(0)],
        vec![Step::Ok(150)],
        vec![Step::Ok(150)],
        vec![Step::Ok(150)],
    ];
    let spec = MapSpec::new("patient").criterion(Criterion::MinSuccesses(1));
    let started = Instant::now();
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new(),
        )
        .await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        outcome.result,
        Ok(vec![Some(0), Some(10), Some(20), Some(30)])
    );
    assert_eq!(outcome.report.totals.cancelled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_ratio_tolerates_every_failure() {
    let n = 3;
    let probe = Probe::new(n);
    let spec = MapSpec::new("zero").criterion(Criterion::Ratio(Ratio::parse("0").unwrap()));
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted_blocking(&probe, vec![vec![Step::Permanent]; n]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![None, None, None]));
    assert_eq!(outcome.report.totals.failed, 3);
}

/// A hand-written task: `double(x: i64) -> i64`, blocking.
struct Double;

impl Task for Double {
    type Inputs = (i64,);
    type Output = i64;
    const NAME: &'static str = "tests::double";
    const PARAMS: &'static [&'static str] = &["x"];
    const DOC: &'static str = "Doubles.";
    const METADATA: Metadata = Metadata::DEFAULT;
    const EXECUTION: Execution = Execution::Blocking;

    fn interface() -> Interface {
        Interface {
            inputs: vec![],
            output: TypeDesc::Integer {
                bits: 64,
                signed: true,
            },
            output_rust_type: "i64",
        }
    }

    #[allow(clippy::manual_async_fn)]
    fn call(
        inputs: (i64,),
    ) -> impl std::future::Future<Output = Result<i64, TaskError>> + Send + 'static {
        async move { Double::call_blocking(inputs) }
    }

    fn call_blocking((x,): (i64,)) -> Result<i64, TaskError> {
        if x < 0 {
            return Err(TaskError::permanent_msg("negative"));
        }
        Ok(x * 2)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_work_runs_a_task() {
    let spec = MapSpec::new(Double::NAME).concurrency(2);
    let inputs: Vec<(i64,)> = (0..100).map(|x| (x,)).collect();
    let outcome = runtime()
        .run_map(&spec, inputs, TaskWork::<Double>::new(), RunOptions::new())
        .await;
    let expected: Vec<i64> = (0..100).map(|x| x * 2).collect();
    assert_eq!(outcome.into_all(), Ok(expected));

    let outcome = runtime()
        .run_map(
            &spec,
            vec![(1,), (-1,)],
            TaskWork::<Double>::default(),
            RunOptions::new(),
        )
        .await;
    let Err(MapError::TooManyFailures { summary, .. }) = outcome.result else {
        panic!("expected a failure");
    };
    assert_eq!(summary, "[1]: negative");
}

#[test]
fn map_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = runtime();
    let spec = MapSpec::new("send");
    let probe = Probe::new(1);
    let future = rt.run_map(
        &spec,
        vec![0usize],
        scripted(&probe, all_ok(1)),
        RunOptions::new(),
    );
    assert_send(&future);
    let task = rt.run_task(
        "t",
        0,
        None,
        0usize,
        scripted(&probe, all_ok(1)),
        RunOptions::new(),
    );
    assert_send(&task);
}
