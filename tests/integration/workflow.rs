//! `#[workflow]`: wiring, parallelism, failures, metadata, overrides, sub-workflows, tuples,
//! constants and the graph.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use maptask::prelude::*;
use maptask::{NodeFailure, NodeKind, Resources, TypeDesc};

// ---- the seed's example ------------------------------------------------------------------

#[task(retries = 1)]
async fn my_mappable_task(a: i64) -> Option<String> {
    Some(a.to_string())
}

#[workflow]
fn seed_wf(x: Vec<i64>) -> Vec<Option<Option<String>>> {
    map_task!(
        my_mappable_task,
        concurrency = 10,
        min_success_ratio = 0.75,
        retries = 1
    )(a = x)
    .with_overrides(requests(cpu = "10m"))
}

#[tokio::test]
async fn the_seed_example_runs_inside_a_workflow() {
    let out: Vec<Option<Option<String>>> = seed_wf::run(vec![1, 2, 3]).await.unwrap();
    assert_eq!(
        out,
        vec![
            Some(Some("1".to_owned())),
            Some(Some("2".to_owned())),
            Some(Some("3".to_owned()))
        ]
    );
    let graph = seed_wf::graph();
    assert_eq!(graph.nodes.len(), 1);
    assert_eq!(graph.nodes[0].kind, NodeKind::Map);
    assert_eq!(graph.nodes[0].requests.cpu, Some("10m"));
}

// ---- three stages ------------------------------------------------------------------------

#[task]
fn numbers(n: i64) -> Vec<i64> {
    (1..=n).collect()
}

#[task]
fn render(x: i64, prefix: String) -> Result<String, TaskError> {
    if x % 5 == 0 {
        return Err(TaskError::permanent_msg("multiple of five"));
    }
    Ok(format!("{prefix}{x}"))
}

#[task]
fn join(items: Vec<Option<String>>) -> String {
    items
        .into_iter()
        .map(|i| i.unwrap_or_else(|| "-".to_owned()))
        .collect::<Vec<_>>()
        .join(",")
}

#[workflow]
fn three_stages(n: i64, prefix: String) -> String {
    let xs = numbers(n);
    let rendered = map_task!(render, min_success_ratio = 0.5, prefix = prefix)(x = xs);
    join(rendered)
}

#[tokio::test]
async fn a_list_is_produced_mapped_with_a_bound_input_and_reduced() {
    let out = three_stages::run(6, "#".to_owned()).await.unwrap();
    assert_eq!(out, "#1,#2,#3,#4,-,#6");
}

#[tokio::test]
async fn a_failing_map_fails_the_workflow_naming_node_and_map() {
    // 0.5 of 5 elements → 3 must succeed; only x = 5 fails, so n = 5 succeeds…
    assert_eq!(three_stages::run(5, "".into()).await.unwrap(), "1,2,3,4,-");
    // …but with n = 10, 2 of 10 fail: still fine. Force failure with a stricter workflow.
    let err = strict_stages::run(10).await.unwrap_err();
    assert_eq!(err.node(), "rendered");
    assert_eq!(
        err.entity(),
        concat!(module_path!(), "::render.map[prefix]")
    );
    match err.failure() {
        NodeFailure::Map(MapError::TooManyFailures { summary, .. }) => {
            assert_eq!(summary, "[4]: multiple of five");
        }
        other => panic!("unexpected failure {other:?}"),
    }
    assert!(err.to_string().starts_with(&format!(
        "workflow `{}::strict_stages` failed at node `rendered`",
        module_path!()
    )));
}

#[workflow]
fn strict_stages(n: i64) -> String {
    let xs = numbers(n);
    let rendered = map_task!(render, prefix = String::new())(x = xs);
    let wrapped = wrap(rendered);
    join(wrapped)
}

#[task]
fn wrap(items: Vec<String>) -> Vec<Option<String>> {
    items.into_iter().map(Some).collect()
}

// ---- parallelism and cancellation --------------------------------------------------------

#[task]
async fn nap(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[task]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[workflow]
fn two_naps(ms: u64) -> u64 {
    let a = nap(ms);
    let b = nap(ms);
    add(a, b)
}

#[tokio::test]
async fn independent_nodes_run_at_the_same_time() {
    let started = Instant::now();
    assert_eq!(two_naps::run(300).await.unwrap(), 600);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(550),
        "two 300 ms naps took {elapsed:?}"
    );
    assert!(elapsed >= Duration::from_millis(300));
}

static SLOW_FINISHED: AtomicUsize = AtomicUsize::new(0);
static SLOW_DROPPED: AtomicUsize = AtomicUsize::new(0);

struct DropCounter;
impl Drop for DropCounter {
    fn drop(&mut self) {
        SLOW_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

#[task]
async fn slow(x: i64) -> i64 {
    let _guard = DropCounter;
    tokio::time::sleep(Duration::from_secs(10)).await;
    SLOW_FINISHED.fetch_add(1, Ordering::SeqCst);
    x
}

#[task]
async fn boom(x: i64) -> Result<i64, TaskError> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    Err(TaskError::msg(format!("boom {x}")))
}

#[workflow]
fn fails_fast(x: i64) -> (i64, i64) {
    let a = slow(x);
    let b = boom(x);
    (a, b)
}

#[tokio::test]
async fn a_node_failure_names_node_and_task_and_cancels_the_rest() {
    let started = Instant::now();
    let err = fails_fast::run(7).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(err.node(), "b");
    assert_eq!(err.entity(), concat!(module_path!(), "::boom"));
    match err.failure() {
        NodeFailure::Task(failure) => {
            assert_eq!(failure.attempts, 1);
            assert_eq!(failure.errors[0].message(), "boom 7");
        }
        other => panic!("unexpected failure {other:?}"),
    }
    // The slow node was dropped, not finished.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(SLOW_FINISHED.load(Ordering::SeqCst), 0);
    assert_eq!(SLOW_DROPPED.load(Ordering::SeqCst), 1);
}

// ---- metadata and overrides --------------------------------------------------------------

static FLAKY_ATTEMPTS: Mutex<Vec<(&'static str, u32)>> = Mutex::new(Vec::new());

fn attempt(key: &'static str) -> u32 {
    let mut attempts = FLAKY_ATTEMPTS.lock().unwrap();
    match attempts.iter_mut().find(|(k, _)| *k == key) {
        Some((_, n)) => {
            *n += 1;
            *n
        }
        None => {
            attempts.push((key, 1));
            1
        }
    }
}

/// Fails on its first two attempts (per key), then succeeds.
#[task(retries = 2)]
fn flaky_with_retries(key: String) -> Result<u32, TaskError> {
    let key: &'static str = Box::leak(key.into_boxed_str());
    let n = attempt(key);
    if n < 3 {
        Err(TaskError::msg(format!("attempt {n} failed")))
    } else {
        Ok(n)
    }
}

#[task]
fn flaky_without_retries(key: String) -> Result<u32, TaskError> {
    flaky_with_retries(key)
}

#[workflow]
fn uses_task_retries(key: String) -> u32 {
    flaky_with_retries(key)
}

#[workflow]
fn no_retries(key: String) -> u32 {
    flaky_without_retries(key)
}

#[workflow]
fn overridden_retries(key: String) -> u32 {
    flaky_without_retries(key).with_overrides(retries = 2)
}

#[tokio::test]
async fn task_metadata_retries_apply_to_task_nodes() {
    assert_eq!(uses_task_retries::run("meta".into()).await.unwrap(), 3);
}

#[tokio::test]
async fn without_retries_the_first_failure_fails_the_node() {
    let err = no_retries::run("none".into()).await.unwrap_err();
    match err.failure() {
        NodeFailure::Task(f) => {
            assert_eq!(f.attempts, 1);
            assert_eq!(f.errors[0].message(), "attempt 1 failed");
        }
        other => panic!("unexpected failure {other:?}"),
    }
}

#[tokio::test]
async fn with_overrides_sets_retries_of_a_node() {
    assert_eq!(overridden_retries::run("override".into()).await.unwrap(), 3);
}

static RETRIED_CONSTANT_EVALUATIONS: AtomicUsize = AtomicUsize::new(0);

fn counted_suffix() -> String {
    RETRIED_CONSTANT_EVALUATIONS.fetch_add(1, Ordering::SeqCst);
    "!".to_owned()
}

/// Empties its list on every attempt and fails on the first two (per key): a retry handed the
/// list of a failed attempt would see it empty.
#[task(retries = 2)]
fn drains_then_fails(xs: Vec<i64>, key: String, suffix: String) -> Result<String, TaskError> {
    let mut xs = xs;
    let total: i64 = xs.drain(..).sum();
    let key: &'static str = Box::leak(key.into_boxed_str());
    let n = attempt(key);
    if n < 3 {
        return Err(TaskError::msg(format!("attempt {n} failed")));
    }
    Ok(format!("{total}{suffix}"))
}

#[workflow]
fn retried_with_values(n: i64) -> String {
    let xs = numbers(n);
    drains_then_fails(xs, "drained".to_owned(), { counted_suffix() })
}

#[tokio::test]
async fn a_retry_gets_fresh_copies_of_values_and_constants_evaluated_once() {
    assert_eq!(retried_with_values::run(4).await.unwrap(), "10!");
    assert_eq!(RETRIED_CONSTANT_EVALUATIONS.load(Ordering::SeqCst), 1);
}

#[workflow]
fn overridden_timeout(ms: u64) -> u64 {
    nap(ms).with_overrides(timeout = "50ms", name = "short-nap")
}

#[tokio::test]
async fn with_overrides_sets_timeout_and_name() {
    let started = Instant::now();
    let err = overridden_timeout::run(5_000).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.node(), "short-nap");
    match err.failure() {
        NodeFailure::Task(f) => assert_eq!(f.errors[0].kind(), maptask::FailureKind::Timeout),
        other => panic!("unexpected failure {other:?}"),
    }
}

// ---- sub-workflows, tuples, constants, named arguments --------------------------------------

#[task]
fn split(x: i64) -> (i64, i64) {
    (x / 10, x % 10)
}

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[workflow]
fn digits(x: i64) -> (i64, i64) {
    let (tens, ones) = split(x);
    (tens, ones)
}

#[workflow]
fn uses_sub_workflow(x: i64) -> (i64, i64) {
    let (tens, ones) = digits(x);
    let scaled = scale(factor = 100, x = tens);
    (scaled, ones)
}

#[tokio::test]
async fn sub_workflows_and_tuple_outputs() {
    assert_eq!(digits::run(47).await.unwrap(), (4, 7));
    assert_eq!(uses_sub_workflow::run(47).await.unwrap(), (400, 7));
    let graph = uses_sub_workflow::graph();
    let kinds: Vec<(&str, NodeKind)> = graph
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![("tuple1", NodeKind::Workflow), ("scaled", NodeKind::Task)]
    );
}

#[task]
fn fail_on(x: i64, bad: i64) -> Result<i64, TaskError> {
    if x == bad {
        Err(TaskError::permanent_msg(format!("{x} is bad")))
    } else {
        Ok(x)
    }
}

#[workflow]
fn inner(x: i64) -> i64 {
    fail_on(x, 3)
}

#[workflow]
fn outer(x: i64) -> i64 {
    let y = inner(x);
    scale(y, 2)
}

#[tokio::test]
async fn a_failing_sub_workflow_names_both_nodes() {
    assert_eq!(outer::run(4).await.unwrap(), 8);
    let err = outer::run(3).await.unwrap_err();
    assert_eq!(err.node(), "y");
    assert_eq!(err.entity(), concat!(module_path!(), "::inner"));
    match err.failure() {
        NodeFailure::Workflow(inner_err) => {
            assert_eq!(inner_err.node(), "n0");
            assert_eq!(inner_err.entity(), concat!(module_path!(), "::fail_on"));
        }
        other => panic!("unexpected failure {other:?}"),
    }
}

static CONSTANT_EVALUATIONS: AtomicUsize = AtomicUsize::new(0);

fn counted(values: Vec<i64>) -> Vec<i64> {
    CONSTANT_EVALUATIONS.fetch_add(1, Ordering::SeqCst);
    values
}

#[task]
fn sum(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[workflow]
fn with_constants(factor: i64) -> (i64, i64) {
    let base = { counted(vec![1, 2, 3]) };
    let scaled = map_task!(scale, factor = factor)(x = base);
    let total = sum(scaled);
    let again = sum(base);
    let biggest = scale({ std::cmp::max(2, 3) }, factor);
    (total, again)
}

#[tokio::test]
async fn constants_are_evaluated_once_and_feed_several_nodes() {
    let before = CONSTANT_EVALUATIONS.load(Ordering::SeqCst);
    assert_eq!(with_constants::run(10).await.unwrap(), (60, 6));
    assert_eq!(CONSTANT_EVALUATIONS.load(Ordering::SeqCst) - before, 1);
}

#[tokio::test]
async fn a_workflow_runs_on_a_configured_runtime() {
    let runtime = Runtime::builder().max_in_flight(Some(1)).build();
    let started = Instant::now();
    assert_eq!(two_naps::run_on(&runtime, 100).await.unwrap(), 200);
    // Node calls go through the runtime, so its cap of one element in flight serializes them.
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_workflow_can_be_mapped_like_a_task() {
    let out = map_task!(digits, concurrency = 2)
        .call(vec![12, 34])
        .await
        .unwrap();
    assert_eq!(out, vec![(1, 2), (3, 4)]);
}

// ---- the graph -----------------------------------------------------------------------------

#[task(requests(cpu = "1", mem = "1Gi"))]
fn load(path: String) -> Vec<i64> {
    vec![path.len() as i64]
}

#[workflow]
fn small(path: String, factor: i64) -> i64 {
    let xs = load(path);
    let ys = map_task!(scale, concurrency = 2, factor = factor)(x = xs)
        .with_overrides(requests(cpu = "10m"), limits(mem = "2Gi"));
    sum(ys)
}

#[test]
fn the_graph_lists_nodes_edges_and_interface() {
    let graph = small::graph();
    assert_eq!(graph.name, concat!(module_path!(), "::small"));
    assert_eq!(
        graph.inputs,
        vec![
            ("path".to_owned(), TypeDesc::String),
            (
                "factor".to_owned(),
                TypeDesc::Integer {
                    bits: 64,
                    signed: true
                }
            )
        ]
    );
    assert_eq!(
        graph.output,
        TypeDesc::Integer {
            bits: 64,
            signed: true
        }
    );
    let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["xs", "ys", "n2"]);
    assert_eq!(graph.nodes[1].entity, concat!(module_path!(), "::scale"));
    assert_eq!(
        graph.nodes[0].requests,
        Resources {
            cpu: Some("1"),
            mem: Some("1Gi"),
            gpu: None
        }
    );
    assert_eq!(graph.nodes[1].requests.cpu, Some("10m"));
    assert_eq!(graph.nodes[1].limits.mem, Some("2Gi"));
    let edges: Vec<(&str, &str)> = graph
        .edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        edges,
        [
            ("inputs", "xs"),
            ("xs", "ys"),
            ("inputs", "ys"),
            ("ys", "n2"),
            ("n2", "outputs")
        ]
    );
    assert_eq!(graph.upstream("ys"), ["xs", "inputs"]);
}

#[test]
fn the_graph_renders_as_mermaid_and_dot() {
    let graph = small::graph();
    let m = module_path!();
    assert_eq!(
        graph.to_mermaid(),
        format!(
            "flowchart TD\n    inputs([\"inputs\"])\n    xs[\"xs<br/>task {m}::load\"]\n    ys[\"ys<br/>map {m}::scale\"]\n    n2[\"n2<br/>task {m}::sum\"]\n    outputs([\"outputs\"])\n    inputs --> xs\n    xs --> ys\n    inputs --> ys\n    ys --> n2\n    n2 --> outputs\n"
        )
    );
    assert_eq!(
        graph.to_dot(),
        format!(
            "digraph \"{m}::small\" {{\n    rankdir=TB;\n    \"inputs\" [shape=oval];\n    \"xs\" [shape=box, label=\"xs\\ntask {m}::load\"];\n    \"ys\" [shape=box, label=\"ys\\nmap {m}::scale\"];\n    \"n2\" [shape=box, label=\"n2\\ntask {m}::sum\"];\n    \"outputs\" [shape=oval];\n    \"inputs\" -> \"xs\";\n    \"xs\" -> \"ys\";\n    \"inputs\" -> \"ys\";\n    \"ys\" -> \"n2\";\n    \"n2\" -> \"outputs\";\n}}\n"
        )
    );
}

// ---- overrides on sub-workflow nodes --------------------------------------------------------

#[workflow]
fn slow_sub(ms: u64) -> u64 {
    nap(ms)
}

#[workflow]
fn bounded_sub(ms: u64) -> u64 {
    slow_sub(ms).with_overrides(timeout = "50ms")
}

#[workflow]
fn flaky_sub(key: String) -> u32 {
    flaky_without_retries(key)
}

#[workflow]
fn retried_sub(key: String) -> u32 {
    flaky_sub(key).with_overrides(retries = 2)
}

#[tokio::test]
async fn a_sub_workflow_node_honours_timeout_and_retries_overrides() {
    let started = Instant::now();
    let err = bounded_sub::run(5_000).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.node(), "n0");
    match err.failure() {
        NodeFailure::Task(f) => {
            assert_eq!(f.attempts, 1);
            assert_eq!(f.errors[0].kind(), maptask::FailureKind::Timeout);
        }
        other => panic!("unexpected failure {other:?}"),
    }
    assert_eq!(bounded_sub::run(1).await.unwrap(), 1);
    // Each run of the sub-workflow calls the flaky task once; the third run succeeds.
    assert_eq!(retried_sub::run("sub".into()).await.unwrap(), 3);
}

// ---- a workflow is a function (issue 13) ---------------------------------------------------

/// Doubles each input; the inputs are named like the generated code's own locals.
#[workflow]
fn named_like_locals(ctx: Vec<i64>, runtime: i64, inputs: String) -> (Vec<i64>, String) {
    let ys = map_task!(scale_by, factor = runtime)(x = ctx);
    let label = echo(inputs);
    (ys, label)
}

#[task]
fn scale_by(x: i64, factor: i64) -> i64 {
    x * factor
}

#[task]
fn echo(text: String) -> String {
    text
}

#[tokio::test]
async fn a_workflow_is_called_like_a_function() {
    let called = named_like_locals(vec![1, 2], 2, "x".into()).await.unwrap();
    assert_eq!(called, (vec![2, 4], "x".to_owned()));
    let run = named_like_locals::run(vec![1, 2], 2, "x".into())
        .await
        .unwrap();
    assert_eq!(called, run);
    let on = named_like_locals::run_on(maptask::Runtime::global(), vec![3], 3, "y".into())
        .await
        .unwrap();
    assert_eq!(on, (vec![9], "y".to_owned()));
    assert_eq!(named_like_locals::graph().nodes.len(), 2);
    assert_eq!(
        <named_like_locals as Task>::PARAMS,
        &["ctx", "runtime", "inputs"]
    );
    assert!(<named_like_locals as Task>::DOC.starts_with("Doubles each input"));
}

#[tokio::test]
async fn a_workflow_called_as_a_function_fails_like_run() {
    let called = seed_wf_fails(vec![1]).await.unwrap_err();
    let run = seed_wf_fails::run(vec![1]).await.unwrap_err();
    assert_eq!(called.to_string(), run.to_string());
}

#[task]
fn always_fails(x: i64) -> Result<i64, TaskError> {
    Err(TaskError::permanent_msg(format!("{x} fails")))
}

#[workflow]
fn seed_wf_fails(xs: Vec<i64>) -> Vec<i64> {
    map_task!(always_fails)(x = xs)
}

#[task]
fn greet_wf(greeting: String, name: String) -> String {
    format!("{greeting}, {name}")
}

#[workflow]
fn greetings(greetings: Vec<String>, name: String) -> Vec<String> {
    map_task!(greet_wf, bind(name = name), options(name = "say-hello"))(greeting = greetings)
}

#[tokio::test]
async fn a_workflow_map_binds_a_parameter_named_like_an_option() {
    assert_eq!(
        greetings(vec!["hi".into()], "Bo".into()).await.unwrap(),
        vec!["hi, Bo".to_owned()]
    );
}
