//! The event stream: exact order and counts; wall times; tracing spans.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maptask_core::{MapSpec, TaskError};
use maptask_runtime::{Counts, MapEvent, MapStatus, RunOptions};

use crate::common::{runtime, scripted, scripted_blocking, Probe, Recorder, Step};

fn counts(pending: usize, running: usize, succeeded: usize, failed: usize) -> Counts {
    Counts {
        total: 2,
        pending,
        running,
        succeeded,
        failed,
        cancelled: 0,
        cached: 0,
    }
}

/// An event without its times: kind, index, attempt, counts.
fn shape(event: &MapEvent) -> (&'static str, Option<usize>, Option<u32>, Counts) {
    let kind = match event {
        MapEvent::MapStarted { .. } => "map started",
        MapEvent::Started { .. } => "started",
        MapEvent::Succeeded { .. } => "succeeded",
        MapEvent::Failed {
            will_retry: true, ..
        } => "failed, will retry",
        MapEvent::Failed { .. } => "failed",
        MapEvent::TimedOut { .. } => "timed out",
        MapEvent::Cancelled { .. } => "cancelled",
        MapEvent::MapFinished { .. } => "map finished",
        _ => "other",
    };
    (kind, event.index(), event.attempt(), event.counts())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_come_in_order_with_exact_counts() {
    events_in_order(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_events_come_in_order_with_exact_counts() {
    events_in_order(true).await;
}

async fn events_in_order(blocking: bool) {
    let probe = Probe::new(2);
    let recorder = Recorder::new();
    let scripts = vec![vec![Step::Err(0), Step::Ok(30)], vec![Step::Ok(0)]];
    let spec = MapSpec::new("ev").concurrency(1).retries(1);
    let options = RunOptions::new().observer(recorder.clone());
    let outcome = if blocking {
        runtime()
            .run_map(
                &spec,
                vec![0, 1],
                scripted_blocking(&probe, scripts),
                options,
            )
            .await
    } else {
        runtime()
            .run_map(&spec, vec![0, 1], scripted(&probe, scripts), options)
            .await
    };
    assert!(outcome.result.is_ok());
    let events = recorder.events();
    let shapes: Vec<_> = events.iter().map(shape).collect();
    assert_eq!(
        shapes,
        vec![
            ("map started", None, None, counts(2, 0, 0, 0)),
            ("started", Some(0), Some(1), counts(1, 1, 0, 0)),
            ("failed, will retry", Some(0), Some(1), counts(1, 1, 0, 0)),
            ("started", Some(0), Some(2), counts(1, 1, 0, 0)),
            ("succeeded", Some(0), Some(2), counts(1, 0, 1, 0)),
            ("started", Some(1), Some(1), counts(0, 1, 1, 0)),
            ("succeeded", Some(1), Some(1), counts(0, 0, 2, 0)),
            ("map finished", None, None, counts(0, 0, 2, 0)),
        ]
    );
    assert!(events.iter().all(|e| e.map() == "ev"));
    match &events[2] {
        MapEvent::Failed {
            error, retry_in, ..
        } => {
            assert_eq!(error, &TaskError::msg("boom 0"));
            assert_eq!(*retry_in, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Per-element wall time: element 0's second attempt slept 30 ms.
    match &events[4] {
        MapEvent::Succeeded {
            elapsed, duration, ..
        } => {
            assert!(*elapsed >= Duration::from_millis(30));
            assert!(duration >= elapsed);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(outcome.report.elements[0].duration >= Duration::from_millis(30));
    assert!(matches!(
        events.last(),
        Some(MapEvent::MapFinished {
            status: MapStatus::Succeeded,
            ..
        })
    ));
    assert!(events.iter().filter(|e| e.ends_element()).count() == 2);
}

#[tokio::test]
async fn a_panicking_observer_does_not_take_down_the_map() {
    let probe = Probe::new(3);
    let observer = |_: &MapEvent| panic!("observer bug");
    let outcome = runtime()
        .run_map(
            &MapSpec::new("m"),
            vec![0, 1, 2],
            scripted(&probe, crate::common::all_ok(3)),
            RunOptions::new().observer(Arc::new(observer)),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), Some(10), Some(20)]));
}

/// A subscriber that records each span's name and fields.
#[derive(Default, Clone)]
struct Spans {
    next: Arc<AtomicU64>,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={:?} ", field.name(), value));
    }
}

impl tracing::Subscriber for Spans {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut fields = Fields(String::new());
        span.record(&mut fields);
        self.seen.lock().unwrap().push((
            span.metadata().name().to_owned(),
            fields.0.trim().to_owned(),
        ));
        tracing::span::Id::from_u64(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn spans_carry_the_map_name_and_the_element_index() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let probe = Probe::new(2);
    let outcome = runtime()
        .run_map(
            &MapSpec::new("traced"),
            vec![0, 1],
            scripted(&probe, crate::common::all_ok(2)),
            RunOptions::new(),
        )
        .await;
    assert!(outcome.result.is_ok());
    let seen = spans.seen.lock().unwrap().clone();
    assert!(seen.contains(&(
        "map".to_owned(),
        "map=traced n=2 min_successes=2 concurrency=0".to_owned()
    )));
    assert!(seen.contains(&(
        "element".to_owned(),
        "map=traced index=0 attempt=1".to_owned()
    )));
    assert!(seen.contains(&(
        "element".to_owned(),
        "map=traced index=1 attempt=1".to_owned()
    )));
}
