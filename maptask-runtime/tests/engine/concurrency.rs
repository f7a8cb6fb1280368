//! The sliding window, unbounded maps, slots held through backoff, and the runtime-wide cap.

use std::sync::Arc;
use std::time::Duration;

use maptask_core::{MapSpec, TaskError};
use maptask_runtime::{MapEvent, RunOptions, Runtime, Work};
use tokio::sync::Semaphore;

use crate::common::{runtime, scripted, Probe, Recorder, Step};

/// Work whose element `i` waits until the test opens gate `i`.
fn gated(probe: &Arc<Probe>, gates: &Arc<Vec<Semaphore>>) -> impl Work<usize, Output = usize> {
    let probe = Arc::clone(probe);
    let gates = Arc::clone(gates);
    maptask_runtime::work::async_fn(move |index: usize| {
        let probe = Arc::clone(&probe);
        let gates = Arc::clone(&gates);
        async move {
            let _live = probe.enter(index);
            let permit = gates[index].acquire().await;
            drop(permit);
            Ok::<_, TaskError>(index)
        }
    })
}

fn gates(n: usize) -> Arc<Vec<Semaphore>> {
    Arc::new((0..n).map(|_| Semaphore::new(0)).collect())
}

pub async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..5000 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_free_slot_goes_to_the_lowest_unstarted_index() {
    let n = 7;
    let probe = Probe::new(n);
    let gates = gates(n);
    let spec = MapSpec::new("window").concurrency(3);
    let rt = runtime();
    let map = tokio::spawn({
        let work = gated(&probe, &gates);
        async move {
            rt.run_map(&spec, (0..n).collect(), work, RunOptions::new())
                .await
        }
    });
    let starts = |k: usize| {
        let probe = Arc::clone(&probe);
        move || probe.start_order().len() >= k
    };
    // Attempts dispatched together may begin in any order (tokio's scheduler decides), so the
    // test compares the set of started elements: it is always the lowest indices.
    let started = |probe: &Probe| {
        let mut order = probe.start_order();
        order.sort();
        order
    };
    wait_until("three started", starts(3)).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(started(&probe), vec![0, 1, 2], "a window of 3");

    // Element 1 ends while 0 and 2 still run: its slot goes to 3, not to a new batch.
    gates[1].add_permits(1);
    wait_until("3 started", starts(4)).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(started(&probe), vec![0, 1, 2, 3]);
    assert_eq!(probe.start_order()[3], 3);

    gates[3].add_permits(1);
    wait_until("4 started", starts(5)).await;
    gates[0].add_permits(1);
    wait_until("5 started", starts(6)).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(started(&probe), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(probe.start_order()[3..], [3, 4, 5]);

    for gate in gates.iter() {
        gate.add_permits(1);
    }
    let outcome = map.await.unwrap();
    assert_eq!(outcome.result, Ok((0..n).map(Some).collect()));
    assert_eq!(probe.start_order()[3..], [3, 4, 5, 6]);
    assert_eq!(
        probe.max_active.load(std::sync::atomic::Ordering::SeqCst),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_is_never_exceeded_and_starts_are_in_index_order() {
    let n = 40;
    let probe = Probe::new(n);
    let recorder = Recorder::new();
    // Uneven durations, so elements finish out of order.
    let scripts = (0..n)
        .map(|i| vec![Step::Ok((i * 7 % 11) as u64)])
        .collect();
    let spec = MapSpec::new("cap").concurrency(4);
    let outcome = runtime()
        .run_map(
            &spec,
            (0..n).collect(),
            scripted(&probe, scripts),
            RunOptions::new().observer(recorder.clone()),
        )
        .await;
    assert!(outcome.result.is_ok());
    assert_eq!(
        probe.max_active.load(std::sync::atomic::Ordering::SeqCst),
        4
    );
    let events = recorder.events();
    assert!(events.iter().all(|e| e.counts().running <= 4));
    let started: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            MapEvent::Started { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(started, (0..n).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_concurrency_is_unbounded() {
    let n = 50;
    let probe = Probe::new(n);
    let gates = gates(n);
    let spec = MapSpec::new("unbounded").concurrency(0);
    let rt = runtime();
    let map = tokio::spawn({
        let work = gated(&probe, &gates);
        async move {
            rt.run_map(&spec, (0..n).collect(), work, RunOptions::new())
                .await
        }
    });
    let p = Arc::clone(&probe);
    wait_until("all started", move || p.start_order().len() == n).await;
    for gate in gates.iter() {
        gate.add_permits(1);
    }
    let outcome = map.await.unwrap();
    assert_eq!(outcome.result.map(|v| v.len()), Ok(n));
    assert_eq!(
        probe.max_active.load(std::sync::atomic::Ordering::SeqCst),
        n
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_element_waiting_to_retry_holds_its_slot() {
    let probe = Probe::new(2);
    let recorder = Recorder::new();
    let scripts = vec![vec![Step::Err(0), Step::Ok(0)], vec![Step::Ok(0)]];
    let spec = MapSpec::new("backoff")
        .concurrency(1)
        .retries(1)
        .backoff(Some(Duration::from_millis(80)));
    let outcome = runtime()
        .run_map(
            &spec,
            vec![0, 1],
            scripted(&probe, scripts),
            RunOptions::new().observer(recorder.clone()),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), Some(10)]));
    // Element 1 waited for element 0's retry, backoff included.
    assert_eq!(
        probe.starts.lock().unwrap().clone(),
        vec![(0, 1), (0, 2), (1, 1)]
    );
    let retry_in: Vec<Option<Duration>> = recorder
        .events()
        .iter()
        .filter_map(|e| match e {
            MapEvent::Failed { retry_in, .. } => Some(*retry_in),
            _ => None,
        })
        .collect();
    assert_eq!(retry_in, vec![Some(Duration::from_millis(80))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_wide_cap_bounds_every_map_together() {
    let n = 12;
    let probe = Probe::new(2 * n);
    let scripts: Vec<_> = (0..2 * n).map(|_| vec![Step::Ok(15)]).collect();
    let rt = Runtime::builder().max_in_flight(Some(3)).build();
    assert_eq!(rt.max_in_flight(), Some(3));
    let a = MapSpec::new("a");
    let b = MapSpec::new("b").concurrency(2);
    let (ra, rb) = tokio::join!(
        rt.run_map(
            &a,
            (0..n).collect(),
            scripted(&probe, scripts.clone()),
            RunOptions::new()
        ),
        rt.run_map(
            &b,
            (n..2 * n).collect(),
            scripted(&probe, scripts),
            RunOptions::new()
        ),
    );
    assert_eq!(ra.result.map(|v| v.len()), Ok(n));
    assert_eq!(rb.result.map(|v| v.len()), Ok(n));
    assert_eq!(
        probe.max_active.load(std::sync::atomic::Ordering::SeqCst),
        3
    );
    // Permits all came back: a third map can use the whole cap again.
    let probe = Probe::new(3);
    let gates = gates(3);
    let map = tokio::spawn({
        let work = gated(&probe, &gates);
        let rt = rt.clone();
        async move {
            rt.run_map(&MapSpec::new("c"), vec![0, 1, 2], work, RunOptions::new())
                .await
        }
    });
    let p = Arc::clone(&probe);
    wait_until("three started", move || p.start_order().len() == 3).await;
    for gate in gates.iter() {
        gate.add_permits(1);
    }
    assert!(map.await.unwrap().result.is_ok());
}
