//! Element spans of blocking work, recorded on the compute pool's threads. A test binary of its
//! own: it installs a global subscriber, which the pool threads see.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use maptask_core::{MapSpec, TaskError};
use maptask_runtime::{RunOptions, Runtime};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_element_spans_carry_the_map_name_and_the_element_index() {
    let spans = Spans::default();
    tracing::subscriber::set_global_default(spans.clone()).unwrap();
    let n = 1000;
    let rt = Runtime::builder().compute_threads(2).build();
    let work = maptask_runtime::work::blocking(|i: usize| Ok::<_, TaskError>(i));
    let outcome = rt
        .run_map(
            &MapSpec::new("pooled"),
            (0..n).collect(),
            work,
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result.map(|v| v.len()), Ok(n));
    let seen = spans.seen.lock().unwrap().clone();
    // One element span per element, quick batches included.
    for index in 0..n {
        let fields = format!("map=pooled index={index} attempt=1");
        assert!(
            seen.contains(&("element".to_owned(), fields.clone())),
            "no span {fields}"
        );
    }
}
