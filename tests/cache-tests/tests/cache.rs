//! What the cache keys on, what it stores, and how a cached map reports itself.

use std::sync::{Arc, Mutex};

use maptask::cache::{codec, CacheKey, Input, Store};
use maptask::prelude::*;
use maptask::runtime::{ElementStatus, MapEvent, RunOptions};
use maptask_cache_tests::*;

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.redb")).unwrap();
    (dir, store)
}

fn xs(n: i64) -> Vec<i64> {
    (0..n).collect()
}

#[tokio::test]
async fn map_configuration_is_not_part_of_the_key() {
    let (_dir, store) = store();
    let tag = "config";
    let first = map_task!(scale, factor = 10, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(20))
        .await
        .unwrap();
    assert_eq!(runs(tag), 20);
    let expected: Vec<Option<i64>> = first.iter().copied().map(Some).collect();

    let again = map_task!(scale, concurrency = 3, factor = 10, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(20))
        .await
        .unwrap();
    assert_eq!(again, first);
    let tolerant = map_task!(
        scale,
        min_success_ratio = 0.5,
        factor = 10,
        tag = tag.to_owned()
    )
    .with_cache(store.clone())
    .call(xs(20))
    .await
    .unwrap();
    assert_eq!(tolerant, expected);
    let retried = map_task!(
        scale,
        retries = 3,
        timeout = "5s",
        factor = 10,
        tag = tag.to_owned()
    )
    .with_cache(store.clone())
    .call(xs(20))
    .await
    .unwrap();
    assert_eq!(retried, first);
    let renamed = map_task!(
        scale,
        name = "another.map",
        factor = 10,
        tag = tag.to_owned()
    )
    .with_cache(store.clone())
    .call(xs(20))
    .await
    .unwrap();
    assert_eq!(renamed, first);
    assert_eq!(runs(tag), 20, "every later run was served from the cache");
}

#[tokio::test]
async fn a_changed_bound_value_or_element_misses() {
    let (_dir, store) = store();
    let tag = "values";
    let run = |factor: i64, input: Vec<i64>| {
        let store = store.clone();
        async move {
            map_task!(scale, factor = factor, tag = tag.to_owned())
                .with_cache(store)
                .call(input)
                .await
        }
    };
    assert_eq!(run(10, xs(10)).await.unwrap()[3], 30);
    assert_eq!(runs(tag), 10);
    assert_eq!(run(11, xs(10)).await.unwrap()[3], 33);
    assert_eq!(runs(tag), 20, "a new bound value misses everywhere");
    let mut changed = xs(10);
    changed[4] = 100;
    assert_eq!(run(10, changed).await.unwrap()[4], 1000);
    assert_eq!(runs(tag), 21, "one changed element misses alone");
}

#[tokio::test]
async fn a_changed_cache_version_misses() {
    let (_dir, store) = store();
    let tag = "version";
    let v1 = map_task!(versioned_v1, tag = tag.to_owned()).with_cache(store.clone());
    let v2 = map_task!(versioned_v2, tag = tag.to_owned()).with_cache(store.clone());
    assert_eq!(<versioned_v1 as Task>::NAME, <versioned_v2 as Task>::NAME);
    v1.call(xs(5)).await.unwrap();
    v1.call(xs(5)).await.unwrap();
    assert_eq!(runs(tag), 5);
    v2.call(xs(5)).await.unwrap();
    assert_eq!(runs(tag), 10);
}

#[tokio::test]
async fn two_tasks_with_equal_inputs_never_share_entries() {
    let (_dir, store) = store();
    let tag = "tasks";
    map_task!(scale, factor = 2, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(5))
        .await
        .unwrap();
    map_task!(scale_again, factor = 2, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(5))
        .await
        .unwrap();
    assert_eq!(runs(tag), 10);
    let stats = store.stats().unwrap();
    assert_eq!(stats.tasks.len(), 2);
    assert!(stats.tasks.values().all(|t| t.entries == 5));
}

#[tokio::test]
async fn cache_ignore_leaves_an_input_out_of_the_key() {
    let (_dir, store) = store();
    let tag = "ignore";
    let quiet = map_task!(label, verbose = false, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(4))
        .await
        .unwrap();
    let loud = map_task!(label, verbose = true, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(4))
        .await
        .unwrap();
    assert_eq!(quiet, loud);
    assert_eq!(runs(tag), 4);
    assert_eq!(
        <label as Task>::cache_codec().unwrap().ignore,
        &["verbose"][..]
    );
    // `verbose` may also be mapped: still not in the key.
    map_task!(label, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(xs(4), vec![true, false, true, false])
        .await
        .unwrap();
    assert_eq!(runs(tag), 4);
}

#[tokio::test]
async fn failed_elements_are_not_cached_and_run_again() {
    let (_dir, store) = store();
    let tag = "failures";
    // Tests run in parallel: each adds and removes only its own failing values.
    FAILING.lock().unwrap().extend([1001, 1003]);
    let input: Vec<i64> = (1000..1005).collect();
    let map =
        map_task!(flaky, min_success_ratio = 0.5, tag = tag.to_owned()).with_cache(store.clone());
    let first = map.call(input.clone()).await.unwrap();
    assert_eq!(first, vec![Some(3000), None, Some(3006), None, Some(3012)]);
    assert_eq!(runs(tag), 5);
    FAILING
        .lock()
        .unwrap()
        .retain(|x| ![1001, 1003].contains(x));
    let (second, report) = map.call_with_report(input).await;
    assert_eq!(
        second.unwrap(),
        vec![Some(3000), Some(3003), Some(3006), Some(3009), Some(3012)]
    );
    assert_eq!(runs(tag), 7, "only the two failed elements ran again");
    let statuses: Vec<ElementStatus> = report.elements.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            ElementStatus::Cached,
            ElementStatus::Succeeded,
            ElementStatus::Cached,
            ElementStatus::Succeeded,
            ElementStatus::Cached
        ]
    );
}

#[tokio::test]
async fn a_failing_rerun_reports_whole_map_indices() {
    let (_dir, store) = store();
    let tag = "failing-rerun";
    let input: Vec<i64> = (2000..2006).collect();
    // Cache elements 0, 2, 4 only.
    FAILING.lock().unwrap().extend([2001, 2003, 2005]);
    let tolerant =
        map_task!(flaky, min_success_ratio = 0.0, tag = tag.to_owned()).with_cache(store.clone());
    tolerant.call(input.clone()).await.unwrap();
    let strict = map_task!(flaky, tag = tag.to_owned()).with_cache(store.clone());
    let (result, report) = strict.call_with_report(input).await;
    let error = result.unwrap_err();
    match &error {
        MapError::TooManyFailures {
            n,
            min_successes,
            failures,
            summary,
            ..
        } => {
            assert_eq!((*n, *min_successes), (6, 6));
            let indices: Vec<usize> = failures.iter().map(|f| f.index).collect();
            // Element 1 fails first; with every element required the map fails early, so some
            // of 3 and 5 may not have run. Whatever ran, indices are the whole map's.
            assert!(indices.contains(&1), "{indices:?}");
            assert!(indices.iter().all(|i| [1, 3, 5].contains(i)), "{indices:?}");
            assert!(summary.contains("[1]"), "{summary}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert_eq!(report.n, 6);
    assert_eq!(report.totals.cached, 3);
    for i in [0, 2, 4] {
        assert_eq!(report.elements[i].status, ElementStatus::Cached);
    }
    FAILING
        .lock()
        .unwrap()
        .retain(|x| ![2001, 2003, 2005].contains(x));
}

#[tokio::test]
async fn events_and_report_mark_cached_elements() {
    let (_dir, store) = store();
    let tag = "events";
    let map =
        map_task!(async_square, concurrency = 2, tag = tag.to_owned()).with_cache(store.clone());
    map.call(vec![1, 2, 3]).await.unwrap();
    let events: Arc<Mutex<Vec<MapEvent>>> = Arc::default();
    let sink = Arc::clone(&events);
    let observed = map.with_options(RunOptions::new().observer(Arc::new(move |e: &MapEvent| {
        sink.lock().unwrap().push(e.clone())
    })));
    let (result, report) = observed.call_with_report(vec![1, 2, 3, 4, 5]).await;
    assert_eq!(result.unwrap(), vec![1, 4, 9, 16, 25]);
    assert_eq!(runs(tag), 5, "3 then 2 new elements ran");
    assert_eq!(report.totals.cached, 3);
    assert_eq!(report.totals.succeeded, 5);
    assert_eq!(report.totals.total, 5);
    assert_eq!(report.elements[0].status, ElementStatus::Cached);
    assert_eq!(report.elements[0].attempts, 0);
    assert_eq!(report.elements[4].status, ElementStatus::Succeeded);
    assert_eq!(report.elements[4].attempts, 1);

    let events = events.lock().unwrap();
    assert!(matches!(
        events.first(),
        Some(MapEvent::MapStarted { n: 5, .. })
    ));
    let cached: Vec<usize> = events
        .iter()
        .filter(|e| matches!(e, MapEvent::Cached { .. }))
        .filter_map(MapEvent::index)
        .collect();
    assert_eq!(cached, [0, 1, 2]);
    let started: Vec<usize> = events
        .iter()
        .filter(|e| matches!(e, MapEvent::Started { .. }))
        .filter_map(MapEvent::index)
        .collect();
    assert_eq!(started, [3, 4], "the engine's indices are the whole map's");
    let starts = events
        .iter()
        .filter(|e| matches!(e, MapEvent::MapStarted { .. }))
        .count();
    assert_eq!(starts, 1);
    let Some(MapEvent::MapFinished { counts, .. }) = events.last() else {
        panic!("the stream ends with MapFinished: {events:?}");
    };
    assert_eq!((counts.total, counts.succeeded, counts.cached), (5, 5, 3));
    for event in events.iter() {
        let c = event.counts();
        assert_eq!(
            c.pending + c.running + c.succeeded + c.failed + c.cancelled,
            5
        );
    }
}

#[tokio::test]
async fn an_all_hit_map_still_ends_its_event_stream() {
    let (_dir, store) = store();
    let tag = "all-hit";
    let map = map_task!(scale, factor = 1, tag = tag.to_owned()).with_cache(store.clone());
    map.call(xs(3)).await.unwrap();
    let events: Arc<Mutex<Vec<MapEvent>>> = Arc::default();
    let sink = Arc::clone(&events);
    let map = map.with_options(RunOptions::new().observer(Arc::new(move |e: &MapEvent| {
        sink.lock().unwrap().push(e.clone())
    })));
    assert_eq!(map.call(xs(3)).await.unwrap(), vec![0, 1, 2]);
    let kinds: Vec<String> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| {
            format!("{e:?}")
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        ["MapStarted", "Cached", "Cached", "Cached", "MapFinished"]
    );
}

#[tokio::test]
async fn the_public_key_api_matches_what_maps_store() {
    let (_dir, store) = store();
    let tag = "public-key";
    map_task!(scale, factor = 7, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(vec![6])
        .await
        .unwrap();
    let key = CacheKey::for_element(
        <scale as Task>::NAME,
        "1",
        &[
            Input::new("x", &6i64).unwrap(),
            Input::new("factor", &7i64).unwrap(),
            Input::new("tag", tag).unwrap(),
        ],
        &[],
    );
    let entry = store
        .get(&key)
        .unwrap()
        .expect("the map stored element 0 under this key");
    let description = <scale as Task>::interface().output.to_string();
    assert_eq!(
        codec::decode_entry::<i64>(&entry, &description).unwrap(),
        42
    );
}

#[tokio::test]
async fn an_old_format_or_changed_type_entry_is_a_miss() {
    let (_dir, store) = store();
    let tag = "old-entries";
    let key = |x: i64| {
        CacheKey::for_element(
            <scale as Task>::NAME,
            "1",
            &[
                Input::new("x", &x).unwrap(),
                Input::new("factor", &2i64).unwrap(),
                Input::new("tag", tag).unwrap(),
            ],
            &[],
        )
    };
    let description = <scale as Task>::interface().output.to_string();
    // Element 0: an entry of an older format. Element 1: of another output type. Element 2: a
    // payload that is not MessagePack of an i64. Element 3: a good entry with a wrong value,
    // which the cache must trust (it is keyed on the inputs).
    let mut old = codec::encode_entry(&0i64, &description).unwrap();
    old[4] = 0;
    let k = key(0);
    store.put(k.task, k.digest, old).unwrap();
    let k = key(1);
    store
        .put(
            k.task,
            k.digest,
            codec::encode_entry(&"text", "string").unwrap(),
        )
        .unwrap();
    let k = key(2);
    let mut bad = codec::header(&description);
    bad.extend_from_slice(&[0xC1, 0xC1]);
    store.put(k.task, k.digest, bad).unwrap();
    let k = key(3);
    store
        .put(
            k.task,
            k.digest,
            codec::encode_entry(&-1i64, &description).unwrap(),
        )
        .unwrap();
    store.flush().unwrap();

    let map = map_task!(scale, factor = 2, tag = tag.to_owned()).with_cache(store.clone());
    assert_eq!(map.call(xs(4)).await.unwrap(), vec![0, 2, 4, -1]);
    assert_eq!(runs(tag), 3, "the three unusable entries are misses");
    // They were replaced by good entries.
    assert_eq!(map.call(xs(4)).await.unwrap(), vec![0, 2, 4, -1]);
    assert_eq!(runs(tag), 3);
}

#[tokio::test]
async fn without_cache_runs_everything_and_stores_nothing() {
    let (_dir, store) = store();
    let tag = "without";
    let map = map_task!(scale, factor = 3, tag = tag.to_owned()).with_cache(store.clone());
    map.clone().without_cache().call(xs(4)).await.unwrap();
    assert_eq!(store.stats().unwrap().entries(), 0);
    map.call(xs(4)).await.unwrap();
    map.clone().without_cache().call(xs(4)).await.unwrap();
    assert_eq!(runs(tag), 12);
}

/// A workflow whose task node and map node are both cached, on the default store.
#[workflow]
fn doubled_sum(x: i64, factor: i64, tag: String) -> Vec<i64> {
    map_task!(scale, factor = factor, tag = tag)(x = vec_of(x))
}

/// Builds a small list.
#[task(cache = "1")]
fn vec_of(x: i64) -> Vec<i64> {
    maptask_cache_tests_count("workflow-node");
    (x..x + 3).collect()
}

fn maptask_cache_tests_count(tag: &str) {
    // `scale` counts its own runs; this one is local to the workflow test.
    static NODE_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let _ = tag;
    NODE_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    WORKFLOW_NODE_RUNS.store(
        NODE_RUNS.load(std::sync::atomic::Ordering::SeqCst),
        std::sync::atomic::Ordering::SeqCst,
    );
}

static WORKFLOW_NODE_RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[tokio::test]
async fn workflow_task_and_map_nodes_use_the_default_store() {
    let dir = tempfile::tempdir().unwrap();
    maptask::cache::set_default_store(Some(Store::open(dir.path().join("cache.redb")).unwrap()));
    let tag = "workflow";
    let first = doubled_sum::run(10, 2, tag.to_owned()).await.unwrap();
    assert_eq!(first, vec![20, 22, 24]);
    assert_eq!(runs(tag), 3);
    assert_eq!(
        WORKFLOW_NODE_RUNS.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    let second = doubled_sum::run(10, 2, tag.to_owned()).await.unwrap();
    assert_eq!(second, first);
    assert_eq!(runs(tag), 3, "the map node hit");
    assert_eq!(
        WORKFLOW_NODE_RUNS.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the task node hit"
    );
}

#[tokio::test]
async fn backends_key_look_up_and_store_one_typed_call() {
    let (_dir, store) = store();
    let tag = "backend";
    let inputs = (5i64, 3i64, tag.to_owned());
    let key = maptask::cache::task_key::<scale>(&inputs)
        .unwrap()
        .expect("scale is cached");
    assert_eq!(maptask::cache::get_output::<scale>(&store, &key), None);
    // A map stores element (5, 3, tag) under the same key.
    map_task!(scale, factor = 3, tag = tag.to_owned())
        .with_cache(store.clone())
        .call(vec![5])
        .await
        .unwrap();
    assert_eq!(maptask::cache::get_output::<scale>(&store, &key), Some(15));
    let other = maptask::cache::task_key::<scale>(&(6i64, 3i64, tag.to_owned()))
        .unwrap()
        .unwrap();
    maptask::cache::put_output::<scale>(&store, &other, &18).unwrap();
    assert_eq!(
        map_task!(scale, factor = 3, tag = tag.to_owned())
            .with_cache(store.clone())
            .call(vec![5, 6])
            .await
            .unwrap(),
        vec![15, 18]
    );
    assert_eq!(runs(tag), 1);
    assert!(maptask::cache::task_key::<identity>(&(1i64,))
        .unwrap()
        .is_some());
}

/// A workflow whose task node and map node are both cached, with counts of its own.
#[workflow]
fn ranged_scale(x: i64, factor: i64, tag: String) -> Vec<i64> {
    map_task!(scale, factor = factor, tag = tag)(x = range_of(x, tag))
}

fn entries_of<T: maptask::Task>(store: &Store) -> u64 {
    store
        .stats()
        .unwrap()
        .tasks
        .get(T::NAME)
        .map_or(0, |t| t.entries)
}

#[tokio::test]
async fn a_runtime_cache_store_overrides_the_default_and_a_map_overrides_the_runtime() {
    use maptask::cache::RuntimeCacheExt;
    let (_dir_a, store_a) = store();
    let (_dir_b, store_b) = store();
    let tag = "runtime-store";
    let on_a = maptask::Runtime::builder()
        .cache_store(store_a.clone())
        .build();

    // Every cached map and task node of the runtime uses its store.
    let first = ranged_scale::run_on(&on_a, 40, 5, tag.to_owned())
        .await
        .unwrap();
    assert_eq!(first, vec![200, 205, 210]);
    assert_eq!((runs(tag), runs("runtime-store/node")), (3, 1));
    assert_eq!(entries_of::<scale>(&store_a), 3);
    assert_eq!(entries_of::<range_of>(&store_a), 1);
    let again = ranged_scale::run_on(&on_a, 40, 5, tag.to_owned())
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(
        (runs(tag), runs("runtime-store/node")),
        (3, 1),
        "the runtime's store served both nodes"
    );

    // A runtime without a cache runs everything and stores nothing.
    let uncached = maptask::Runtime::builder().without_cache().build();
    let map = map_task!(scale, factor = 5, tag = tag.to_owned());
    assert_eq!(
        map.clone()
            .with_runtime(uncached.clone())
            .call(vec![40, 41])
            .await
            .unwrap(),
        vec![200, 205]
    );
    assert_eq!(runs(tag), 5);

    // A map's own store wins over its runtime's.
    map.clone()
        .with_runtime(on_a.clone())
        .with_cache(store_b.clone())
        .call(vec![40, 43])
        .await
        .unwrap();
    assert_eq!(runs(tag), 7, "store_b was empty: both ran");
    assert_eq!(entries_of::<scale>(&store_b), 2);
    assert_eq!(entries_of::<scale>(&store_a), 3, "store_a untouched");
    // And a map run on the runtime with the default choice hits store_a.
    map.with_runtime(on_a).call(vec![40, 41, 42]).await.unwrap();
    assert_eq!(runs(tag), 7);
}

/// A backend that runs `scale` on this process's engine, as the process backend runs each
/// element in a child: it records the elements it is given, and hands each output to
/// [`RemoteMap::on_output`] as it completes, checking that the store does not have it yet.
struct RecordingBackend {
    given: Mutex<Vec<Vec<i64>>>,
    store: Store,
}

/// One `scale` element on the engine: `x * factor`, boxed as the backend's outputs are.
struct ScaleWork {
    hook: Option<maptask::runtime::OutputHook>,
}

impl maptask::runtime::Work<(usize, (i64, i64, String))> for ScaleWork {
    type Output = Box<dyn std::any::Any + Send>;

    fn execution(&self) -> maptask::Execution {
        maptask::Execution::Blocking
    }

    fn call(
        &self,
        input: (usize, (i64, i64, String)),
    ) -> impl std::future::Future<Output = Result<Self::Output, TaskError>> + Send + 'static {
        std::future::ready(self.call_blocking(input))
    }

    fn call_blocking(
        &self,
        (index, (x, factor, tag)): (usize, (i64, i64, String)),
    ) -> Result<Self::Output, TaskError> {
        // Counted like the real task, so the test sees exactly what ran.
        let output = scale(x, factor, tag);
        if let Some(hook) = &self.hook {
            hook(index, &output);
        }
        Ok(Box::new(output))
    }
}

impl maptask::runtime::MapBackend for RecordingBackend {
    fn name(&self) -> &str {
        "recording"
    }

    fn run_map(
        &self,
        runtime: &maptask::Runtime,
        map: maptask::runtime::RemoteMap,
        options: RunOptions,
    ) -> futures::future::BoxFuture<
        'static,
        maptask::runtime::MapOutcome<Box<dyn std::any::Any + Send>>,
    > {
        assert_eq!(map.task, <scale as maptask::Task>::NAME);
        let elements: Vec<(usize, (i64, i64, String))> = map
            .elements
            .into_iter()
            .map(|e| *e.downcast::<(i64, i64, String)>().expect("scale's inputs"))
            .enumerate()
            .collect();
        self.given
            .lock()
            .unwrap()
            .push(elements.iter().map(|(_, (x, _, _))| *x).collect());
        let before = entries_of::<scale>(&self.store);
        let store = self.store.clone();
        let work = ScaleWork {
            hook: map.on_output.clone(),
        };
        let runtime = runtime.clone();
        Box::pin(async move {
            let outcome = runtime.run_map(&map.spec, elements, work, options).await;
            // The hook queued every success before the map ended: flushed, they are stored.
            store.flush().unwrap();
            assert_eq!(
                entries_of::<scale>(&store),
                before + outcome.report.totals.succeeded as u64
            );
            outcome
        })
    }
}

#[tokio::test]
async fn a_backend_gets_only_the_misses_and_events_and_report_mark_the_hits() {
    let (_dir, store) = store();
    let tag = "backend-map";
    let backend = Arc::new(RecordingBackend {
        given: Mutex::default(),
        store: store.clone(),
    });
    let runtime = maptask::Runtime::builder().backend(backend.clone()).build();
    let map = map_task!(scale, concurrency = 2, factor = 7, tag = tag.to_owned())
        .with_runtime(runtime)
        .with_cache(store.clone());
    assert_eq!(map.call(vec![1, 2, 3]).await.unwrap(), vec![7, 14, 21]);
    assert_eq!(runs(tag), 3);

    let events: Arc<Mutex<Vec<MapEvent>>> = Arc::default();
    let sink = Arc::clone(&events);
    let observed = map.with_options(RunOptions::new().observer(Arc::new(move |e: &MapEvent| {
        sink.lock().unwrap().push(e.clone())
    })));
    let (result, report) = observed.call_with_report(vec![4, 2, 5, 1, 3]).await;
    assert_eq!(result.unwrap(), vec![28, 14, 35, 7, 21]);
    assert_eq!(runs(tag), 5, "only 4 and 5 ran");
    assert_eq!(*backend.given.lock().unwrap(), [vec![1, 2, 3], vec![4, 5]]);
    let statuses: Vec<ElementStatus> = report.elements.iter().map(|e| e.status).collect();
    use ElementStatus::{Cached, Succeeded};
    assert_eq!(statuses, [Succeeded, Cached, Succeeded, Cached, Cached]);
    assert_eq!(
        (
            report.totals.total,
            report.totals.succeeded,
            report.totals.cached
        ),
        (5, 5, 3)
    );
    let events = events.lock().unwrap().clone();
    let of = |kind: fn(&MapEvent) -> bool| -> Vec<usize> {
        events
            .iter()
            .filter(|e| kind(e))
            .filter_map(MapEvent::index)
            .collect()
    };
    assert_eq!(of(|e| matches!(e, MapEvent::Cached { .. })), [1, 3, 4]);
    let mut started = of(|e| matches!(e, MapEvent::Started { .. }));
    started.sort_unstable();
    assert_eq!(started, [0, 2], "the backend's indices are the whole map's");
    let Some(MapEvent::MapFinished { counts, .. }) = events.last() else {
        panic!("the stream ends with MapFinished: {events:?}");
    };
    assert_eq!((counts.total, counts.succeeded, counts.cached), (5, 5, 3));

    // Every element hits: the backend is not called at all.
    assert_eq!(
        map_task!(scale, factor = 7, tag = tag.to_owned())
            .with_runtime(maptask::Runtime::builder().backend(backend.clone()).build())
            .with_cache(store.clone())
            .call(vec![5, 4, 3])
            .await
            .unwrap(),
        vec![35, 28, 21]
    );
    assert_eq!(backend.given.lock().unwrap().len(), 2);
    assert_eq!(runs(tag), 5);
}
