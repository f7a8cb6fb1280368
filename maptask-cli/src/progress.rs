//! Progress bars driven by the engine's events: one bar per map, one line per workflow node.
//!
//! [`Progress`] is a [`MapObserver`]: attach it to a run with
//! `RunOptions::new().observer(progress.clone())`. Each map gets a bar that shows its elements
//! done (and how many of those came from the cache), failed, retrying and running, its elapsed time and an ETA; after
//! [`Progress::graph`], each node of the workflow gets a line (a task node shows its attempt and
//! state, a map node becomes its map's bar).
//!
//! The observer is called from the task that drives a map. It only updates counters under a
//! short lock; indicatif draws at most 20 times a second on a real terminal, and draws nothing
//! at all when its target is hidden (not a terminal).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use maptask_core::{Graph, NodeKind};
use maptask_runtime::{Counts, MapEvent, MapObserver, MapStatus};

/// Progress bars for maps and workflow nodes, drawn on stderr (or any indicatif target).
///
/// ```
/// use std::sync::Arc;
/// use maptask_cli::progress::Progress;
/// use maptask_runtime::RunOptions;
///
/// let progress = Arc::new(Progress::stderr());
/// let options = RunOptions::new().observer(progress.clone());
/// # drop(options);
/// ```
pub struct Progress {
    multi: MultiProgress,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The line of each workflow node, in graph order.
    nodes: Vec<NodeLine>,
    /// Each map seen so far, by name.
    maps: HashMap<Arc<str>, MapLine>,
}

struct NodeLine {
    id: String,
    kind: NodeKind,
    entity: String,
    bar: ProgressBar,
    /// Whether a map has taken this line over.
    claimed: bool,
}

struct MapLine {
    bar: ProgressBar,
    /// Whether the map is a task node: one element, shown as a line rather than a bar.
    task_node: bool,
    /// Elements waiting to retry.
    retrying: BTreeSet<usize>,
    counts: Counts,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("hidden", &self.multi.is_hidden())
            .finish_non_exhaustive()
    }
}

impl Progress {
    /// Bars on stderr, hidden when stderr is not a terminal.
    pub fn stderr() -> Progress {
        Progress::with_draw_target(ProgressDrawTarget::stderr())
    }

    /// Bars that are never drawn (for `--json` and non-terminals).
    pub fn hidden() -> Progress {
        Progress::with_draw_target(ProgressDrawTarget::hidden())
    }

    /// Bars on `target`, e.g. an `indicatif::InMemoryTerm` in tests.
    pub fn with_draw_target(target: ProgressDrawTarget) -> Progress {
        Progress {
            multi: MultiProgress::with_draw_target(target),
            state: Mutex::new(State::default()),
        }
    }

    /// Whether nothing is drawn.
    pub fn is_hidden(&self) -> bool {
        self.multi.is_hidden()
    }

    /// Adds one line per node of `graph`, in the graph's order, each pending until its node's
    /// events arrive.
    pub fn graph(&self, graph: &Graph) {
        let mut state = self.lock();
        for node in &graph.nodes {
            let bar = self.multi.add(ProgressBar::new(1).with_style(line_style()));
            bar.set_prefix(format!("{} {}", node.id, node.kind.as_str()));
            bar.set_message(format!("{} · pending", node.entity));
            state.nodes.push(NodeLine {
                id: node.id.clone(),
                kind: node.kind,
                entity: node.entity.clone(),
                bar,
                claimed: false,
            });
        }
    }

    /// Prints a line above the bars (or plainly when they are hidden).
    pub fn println(&self, line: impl AsRef<str>) {
        if self.multi.is_hidden() {
            eprintln!("{}", line.as_ref());
        } else {
            let _ = self.multi.println(line);
        }
    }

    /// Clears every bar from the terminal.
    pub fn clear(&self) {
        let _ = self.multi.clear();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while drawing must not turn every later event into a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The line for map `name`: a node's line when a node claims it, else a new bar.
    fn line_for(&self, state: &mut State, name: &Arc<str>, n: usize) -> ProgressBar {
        if let Some(line) = state.maps.get(name) {
            return line.bar.clone();
        }
        // A task node runs as a one-element map named by the node's id; a map node's map is
        // named after its task (`task.map…`), unless it was given a name.
        let claimed = state.nodes.iter_mut().find(|node| {
            !node.claimed
                && match node.kind {
                    NodeKind::Map => name.starts_with(&format!("{}.map", node.entity)),
                    NodeKind::Task | NodeKind::Workflow => **name == *node.id,
                }
        });
        let (bar, task_node) = match claimed {
            Some(node) => {
                node.claimed = true;
                let task_node = node.kind != NodeKind::Map;
                if !task_node {
                    node.bar.set_prefix(format!("{} map {name}", node.id));
                }
                (node.bar.clone(), task_node)
            }
            None => {
                let bar = self.multi.add(ProgressBar::new(0));
                bar.set_prefix(name.to_string());
                (bar, false)
            }
        };
        if task_node {
            bar.set_length(1);
        } else {
            bar.set_style(bar_style());
            bar.set_length(n as u64);
            bar.reset_elapsed();
            bar.reset_eta();
        }
        state.maps.insert(
            Arc::clone(name),
            MapLine {
                bar: bar.clone(),
                task_node,
                retrying: BTreeSet::new(),
                counts: Counts::default(),
            },
        );
        bar
    }

    fn handle(&self, event: &MapEvent) {
        let mut state = self.lock();
        let name: Arc<str> = Arc::from(event.map());
        let n = event.counts().total;
        self.line_for(&mut state, &name, n);
        let node_entity = state
            .nodes
            .iter()
            .find(|node| *node.id == *name)
            .map(|node| node.entity.clone());
        let Some(line) = state.maps.get_mut(&name) else {
            return;
        };
        line.counts = event.counts();
        match event {
            MapEvent::Started { index, .. } => {
                line.retrying.remove(index);
            }
            MapEvent::Failed {
                index, will_retry, ..
            }
            | MapEvent::TimedOut {
                index, will_retry, ..
            } if *will_retry => {
                line.retrying.insert(*index);
            }
            _ => {}
        }
        if line.task_node {
            let entity = node_entity.unwrap_or_default();
            line.bar.set_message(task_message(&entity, event));
        } else {
            line.bar.set_position(line.counts.finished() as u64);
            line.bar
                .set_message(map_message(&line.counts, line.retrying.len()));
        }
        if let MapEvent::MapFinished { status, .. } = event {
            let ended = match status {
                MapStatus::Succeeded => "succeeded",
                MapStatus::Failed => "FAILED",
                MapStatus::Cancelled => "cancelled",
            };
            if line.task_node {
                line.bar.set_position(1);
                line.bar.abandon();
            } else {
                line.bar
                    .abandon_with_message(format!("{} · {ended}", map_message(&line.counts, 0)));
            }
        }
    }
}

impl MapObserver for Progress {
    fn on_event(&self, event: &MapEvent) {
        self.handle(event);
    }
}

/// `4 done, 1 failed, 2 retrying, 3 running`.
fn map_message(counts: &Counts, retrying: usize) -> String {
    let mut message = format!("{} done", counts.succeeded);
    if counts.cached > 0 {
        message.push_str(&format!(" ({} cached)", counts.cached));
    }
    message.push_str(&format!(", {} failed", counts.failed));
    if retrying > 0 {
        message.push_str(&format!(", {retrying} retrying"));
    }
    // Retrying elements are counted as running by the engine; show the rest.
    let running = counts.running.saturating_sub(retrying);
    if running > 0 {
        message.push_str(&format!(", {running} running"));
    }
    if counts.cancelled > 0 {
        message.push_str(&format!(", {} cancelled", counts.cancelled));
    }
    message
}

/// The state of a task node after `event`.
fn task_message(entity: &str, event: &MapEvent) -> String {
    let state = match event {
        MapEvent::MapStarted { .. } => "starting".to_owned(),
        MapEvent::Started { attempt, .. } => format!("running (attempt {attempt})"),
        MapEvent::Succeeded { elapsed, .. } => format!("done in {elapsed:.1?}"),
        MapEvent::Failed {
            error, will_retry, ..
        } => {
            let first = error.message().lines().next().unwrap_or_default();
            if *will_retry {
                format!("retrying: {first}")
            } else {
                format!("failed: {first}")
            }
        }
        MapEvent::TimedOut {
            timeout,
            will_retry,
            ..
        } => {
            if *will_retry {
                format!("retrying: timed out after {timeout:?}")
            } else {
                format!("failed: timed out after {timeout:?}")
            }
        }
        MapEvent::Cancelled { .. } => "cancelled".to_owned(),
        MapEvent::Cached { .. } => "done (cached)".to_owned(),
        MapEvent::MapFinished { status, .. } => match status {
            MapStatus::Succeeded => "done".to_owned(),
            MapStatus::Failed => "FAILED".to_owned(),
            MapStatus::Cancelled => "cancelled".to_owned(),
        },
        _ => "running".to_owned(),
    };
    format!("{entity} · {state}")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} · {msg} · {elapsed} (ETA {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn line_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} · {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::InMemoryTerm;
    use maptask_core::{Criterion, GraphNode, MapSpec, Resources, TaskError, TypeDesc};
    use maptask_runtime::{work, RunOptions, Runtime};

    fn on_term(term: &InMemoryTerm) -> Arc<Progress> {
        Arc::new(Progress::with_draw_target(ProgressDrawTarget::term_like(
            Box::new(term.clone()),
        )))
    }

    fn counts(total: usize, running: usize, succeeded: usize, failed: usize) -> Counts {
        Counts {
            total,
            pending: total - running - succeeded - failed,
            running,
            succeeded,
            failed,
            cancelled: 0,
            cached: 0,
        }
    }

    #[test]
    fn a_bar_shows_done_failed_retrying_and_running() {
        let term = InMemoryTerm::new(10, 120);
        let progress = on_term(&term);
        let map: Arc<str> = Arc::from("app::f.map");
        progress.on_event(&MapEvent::MapStarted {
            map: Arc::clone(&map),
            n: 10,
            min_successes: 5,
            concurrency: 4,
            counts: counts(10, 0, 0, 0),
        });
        for (index, event_counts) in [(0, counts(10, 4, 3, 1)), (1, counts(10, 4, 3, 1))] {
            progress.on_event(&MapEvent::Failed {
                map: Arc::clone(&map),
                index,
                attempt: 1,
                error: TaskError::msg("flaky"),
                will_retry: true,
                retry_in: None,
                elapsed: std::time::Duration::ZERO,
                duration: std::time::Duration::ZERO,
                counts: event_counts,
            });
        }
        let screen = term.contents();
        assert!(screen.starts_with("app::f.map [============"), "{screen}");
        assert!(
            screen.contains("] 4/10 · 3 done, 1 failed, 2 retrying, 2 running · "),
            "{screen}"
        );
        // Element 1 starts its retry: one fewer waiting.
        progress.on_event(&MapEvent::Started {
            map: Arc::clone(&map),
            index: 1,
            attempt: 2,
            counts: counts(10, 4, 3, 1),
        });
        assert!(
            term.contents()
                .contains("] 4/10 · 3 done, 1 failed, 1 retrying, 3 running · "),
            "{}",
            term.contents()
        );
        // Element 5 comes from the cache.
        progress.on_event(&MapEvent::Cached {
            map: Arc::clone(&map),
            index: 5,
            counts: Counts {
                cached: 1,
                ..counts(10, 4, 4, 1)
            },
        });
        assert!(
            term.contents()
                .contains("] 5/10 · 4 done (1 cached), 1 failed, 1 retrying, 3 running · "),
            "{}",
            term.contents()
        );
    }

    #[tokio::test]
    async fn a_real_map_ends_with_its_counts_and_a_task_node_with_its_state() {
        let term = InMemoryTerm::new(10, 120);
        let progress = on_term(&term);
        progress.graph(&Graph {
            name: "wf".into(),
            inputs: Vec::new(),
            output: TypeDesc::Unit,
            nodes: vec![
                GraphNode {
                    id: "n0".into(),
                    kind: NodeKind::Map,
                    entity: "app::half".into(),
                    requests: Resources::default(),
                    limits: Resources::default(),
                },
                GraphNode {
                    id: "n1".into(),
                    kind: NodeKind::Task,
                    entity: "app::sum".into(),
                    requests: Resources::default(),
                    limits: Resources::default(),
                },
            ],
            edges: vec![("n0".into(), "n1".into())],
        });
        assert_eq!(
            term.contents(),
            "n0 map · app::half · pending\nn1 task · app::sum · pending"
        );
        let options = RunOptions::new().observer(progress.clone());
        let spec = MapSpec::new("app::half.map").criterion(Criterion::MinSuccesses(3));
        let half = work::blocking(|x: i64| {
            if x % 2 == 0 {
                Ok(x / 2)
            } else {
                Err(TaskError::permanent_msg("odd"))
            }
        });
        let outcome = Runtime::default()
            .run_map(&spec, vec![2, 4, 5, 6, 8], half, options.clone())
            .await;
        assert_eq!(outcome.result.unwrap().len(), 5);
        let sum = work::blocking(|x: i64| Ok::<_, TaskError>(x + 1));
        Runtime::default()
            .run_task("n1", 0, None, 1_i64, sum, options)
            .await
            .unwrap();
        let screen = term.contents();
        let lines: Vec<&str> = screen.lines().collect();
        assert!(
            lines[0].starts_with("n0 map app::half.map [==============================] 5/5 · 4 done, 1 failed · succeeded · "),
            "{screen}"
        );
        assert_eq!(lines[1], "n1 task · app::sum · done", "{screen}");
    }
}
