//! Probes and scripted work shared by the tests.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use maptask_core::TaskError;
use maptask_runtime::{MapEvent, MapObserver, Runtime};

/// What one attempt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Returns `Ok(index * 10)` after the delay.
    Ok(u64),
    /// Returns a retryable error after the delay.
    Err(u64),
    /// Returns a permanent error.
    Permanent,
    /// Panics.
    Panic,
    /// Sleeps for ten seconds, then succeeds.
    Hang,
}

/// Records what the work saw.
#[derive(Default)]
pub struct Probe {
    pub active: AtomicUsize,
    pub max_active: AtomicUsize,
    /// Element indices in the order their attempts started.
    pub starts: Mutex<Vec<(usize, u32)>>,
    /// Attempts started per element.
    pub attempts: Mutex<Vec<u32>>,
    /// Live attempt bodies (incremented on start, decremented on drop, so cancelled ones count).
    pub live: AtomicUsize,
    pub total_starts: AtomicUsize,
}

pub struct Live(Arc<Probe>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Probe {
    pub fn new(n: usize) -> Arc<Probe> {
        let probe = Probe::default();
        *probe.attempts.lock().unwrap() = vec![0; n];
        Arc::new(probe)
    }

    /// Marks an attempt of `index` as started; returns its number (from 1) and a guard.
    pub fn enter(self: &Arc<Self>, index: usize) -> (u32, Live) {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            attempts[index] += 1;
            attempts[index]
        };
        self.starts.lock().unwrap().push((index, attempt));
        self.total_starts.fetch_add(1, Ordering::SeqCst);
        self.live.fetch_add(1, Ordering::SeqCst);
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_active.fetch_max(now, Ordering::SeqCst);
        (attempt, Live(Arc::clone(self)))
    }

    pub fn start_order(&self) -> Vec<usize> {
        self.starts
            .lock()
            .unwrap()
            .iter()
            .map(|&(i, _)| i)
            .collect()
    }

    pub fn attempts(&self) -> Vec<u32> {
        self.attempts.lock().unwrap().clone()
    }
}

/// An element's script: one step per attempt; the last step repeats.
pub type Script = Vec<Step>;

fn step_of(script: &Script, attempt: u32) -> Step {
    let i = (attempt as usize - 1).min(script.len().saturating_sub(1));
    script.get(i).copied().unwrap_or(Step::Ok(0))
}

/// Async work driven by per-element scripts. The input is the element's index.
pub fn scripted(
    probe: &Arc<Probe>,
    scripts: Vec<Script>,
) -> impl maptask_runtime::Work<usize, Output = usize> {
    let probe = Arc::clone(probe);
    let scripts = Arc::new(scripts);
    maptask_runtime::work::async_fn(move |index: usize| {
        let probe = Arc::clone(&probe);
        let scripts = Arc::clone(&scripts);
        async move {
            let (attempt, _live) = probe.enter(index);
            match step_of(&scripts[index], attempt) {
                Step::Ok(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(index * 10)
                }
                Step::Err(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Err(TaskError::msg(format!("boom {index}")))
                }
                Step::Permanent => Err(TaskError::permanent_msg("fatal")),
                Step::Panic => panic!("exploded"),
                Step::Hang => {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok(index * 10)
                }
            }
        }
    })
}

/// Blocking work driven by per-element scripts. The input is the element's index.
pub fn scripted_blocking(
    probe: &Arc<Probe>,
    scripts: Vec<Script>,
) -> impl maptask_runtime::Work<usize, Output = usize> {
    let probe = Arc::clone(probe);
    maptask_runtime::work::blocking(move |index: usize| {
        let (attempt, _live) = probe.enter(index);
        match step_of(&scripts[index], attempt) {
            Step::Ok(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                Ok(index * 10)
            }
            Step::Err(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                Err(TaskError::msg(format!("boom {index}")))
            }
            Step::Permanent => Err(TaskError::permanent_msg("fatal")),
            Step::Panic => panic!("exploded"),
            Step::Hang => {
                std::thread::sleep(Duration::from_millis(1500));
                Ok(index * 10)
            }
        }
    })
}

/// An observer that keeps every event.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<MapEvent>>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    pub fn events(&self) -> Vec<MapEvent> {
        self.events.lock().unwrap().clone()
    }
}

impl MapObserver for Recorder {
    fn on_event(&self, event: &MapEvent) {
        self.events.lock().unwrap().push(event.clone());
    }
}

/// A runtime with its own compute pool of two threads.
pub fn runtime() -> Runtime {
    Runtime::builder().compute_threads(2).build()
}

/// Everything succeeds at once.
pub fn all_ok(n: usize) -> Vec<Script> {
    vec![vec![Step::Ok(0)]; n]
}

/// A value that counts its clones.
#[derive(Debug)]
pub struct Counted {
    pub index: usize,
    pub clones: Arc<AtomicU32>,
}

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Counted {
            index: self.index,
            clones: Arc::clone(&self.clones),
        }
    }
}

/// Keeps the WARN events of the runtime, with their fields, on the thread that installed it.
#[derive(Clone, Default)]
pub struct Warnings(pub Arc<Mutex<Vec<String>>>);

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?} "));
        } else {
            self.0.push_str(&format!("{}={value:?} ", field.name()));
        }
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target().starts_with("maptask_runtime")
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}
