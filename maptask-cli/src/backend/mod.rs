//! The process backend: each attempt of each element of a map is a child process of this
//! program running `map-execute`, as a Flyte k8s array job runs it, on this machine.
//!
//! For each map the backend
//! 1. writes the map's inputs as one `inputs.pb` (a Flyte `LiteralMap`: every mapped input as a
//!    collection, every bound one as itself) into a fresh run directory (mode `0700`);
//! 2. runs the elements through [`maptask_process::ProcessArray`] under the engine's semantics
//!    (window, cap, retries, timeouts, failing early, cancellation), each attempt being
//!    `<program> map-execute --inputs <dir>/inputs.pb --output-prefix <dir>/out … task-name <task>`
//!    with its index in `FLYTE_K8S_ARRAY_INDEX`, its output in `out/<i>/outputs.pb` or
//!    `out/<i>/error.pb` (whose kind decides whether it is retried) and its stdout and stderr in
//!    `logs/`;
//! 3. assembles `out/outputs.pb` with the Flyte collector and reads each element's output back
//!    into the task's own type.
//!
//! The run directory is removed after a success, and kept after a failure for its logs.
//!
//! The program must route `map-execute` to the Flyte entrypoint: `maptask::cli::main()` does.

mod encode;
mod launch;

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt};
use maptask_core::{MapError, MapSpec};
use maptask_flyte::entrypoint::OUTPUT_NAME;
use maptask_flyte::prost::Message;
use maptask_process::{ProcessArray, RunDir};
use maptask_runtime::registry::{self, TaskEntry};
use maptask_runtime::{
    MapBackend, MapOutcome, MapReport, MapStatus, RemoteMap, RunOptions, Runtime,
};

pub use launch::MapExecute;

/// Runs maps as one child process per element attempt; see the module's documentation.
///
/// ```no_run
/// use std::sync::Arc;
/// use maptask_cli::backend::ProcessBackend;
/// use maptask_runtime::Runtime;
///
/// let runtime = Runtime::builder()
///     .backend(Arc::new(ProcessBackend::new(std::env::temp_dir().join("my-runs"))))
///     .build();
/// # drop(runtime);
/// ```
#[derive(Debug, Clone)]
pub struct ProcessBackend {
    inner: Arc<Config>,
}

#[derive(Debug, Clone)]
struct Config {
    parent: PathBuf,
    keep: bool,
    program: Option<PathBuf>,
    grace: Duration,
}

impl ProcessBackend {
    /// A backend that creates one run directory per map under `parent`.
    pub fn new(parent: impl Into<PathBuf>) -> ProcessBackend {
        ProcessBackend {
            inner: Arc::new(Config {
                parent: parent.into(),
                keep: false,
                program: None,
                grace: Duration::from_secs(2),
            }),
        }
    }

    /// Keeps every run directory, even after a success.
    #[must_use]
    pub fn keep_run_dirs(mut self, keep: bool) -> ProcessBackend {
        Arc::make_mut(&mut self.inner).keep = keep;
        self
    }

    /// The program children run; the default is the running one.
    #[must_use]
    pub fn program(mut self, program: impl Into<PathBuf>) -> ProcessBackend {
        Arc::make_mut(&mut self.inner).program = Some(program.into());
        self
    }

    /// How long a child asked to stop gets before it is killed (2 s by default).
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> ProcessBackend {
        Arc::make_mut(&mut self.inner).grace = grace;
        self
    }

    async fn run(
        self,
        runtime: Runtime,
        map: RemoteMap,
        options: RunOptions,
    ) -> MapOutcome<Box<dyn Any + Send>> {
        let started = std::time::Instant::now();
        let spec = map.spec.clone();
        let n = map.elements.len();
        // What the engine checks before anything runs, checked before any file is written.
        let min_successes = match spec.criterion.min_successes(n) {
            Ok(m) => m,
            Err(source) => {
                let error = MapError::Spec {
                    map: spec.name.clone(),
                    source,
                };
                return unstarted(&spec, n, Err(error), started);
            }
        };
        if n == 0 {
            return unstarted(&spec, 0, Ok(Vec::new()), started);
        }
        let prepared = match self.prepare(&map) {
            Ok(prepared) => prepared,
            Err(message) => {
                let error = MapError::Internal {
                    map: spec.name.clone(),
                    message: format!("the process backend could not start the map: {message}"),
                };
                return unstarted(&spec, n, Err(error), started);
            }
        };
        let Prepared {
            entry,
            array,
            launch,
        } = prepared;
        let outcome = match array.run(&runtime, &spec, n, launch, options).await {
            Ok(outcome) => outcome,
            Err(e) => {
                let error = MapError::Internal {
                    map: spec.name.clone(),
                    message: e.to_string(),
                };
                return unstarted(&spec, n, Err(error), started);
            }
        };
        let report = outcome.report;
        let flags = match outcome.result {
            Ok(flags) => flags,
            // The run directory stays: the errors point at its logs.
            Err(error) => {
                return MapOutcome {
                    result: Err(error),
                    report,
                }
            }
        };
        let succeeded: Vec<bool> = flags.iter().map(Option::is_some).collect();
        // The collector reads through the blocking storage API, which refuses to run on a thread
        // of an async runtime; a scoped thread has none, and borrows what it needs.
        let result = std::thread::scope(|scope| {
            scope
                .spawn(|| assemble(&entry, array.dir(), n, min_successes, &succeeded))
                .join()
                .unwrap_or_else(|_| Err("the collector panicked".to_owned()))
        });
        if result.is_ok() && !self.inner.keep {
            let _ = array.dir().clone().remove();
        }
        let result = result.map_err(|message| MapError::Internal {
            map: spec.name.clone(),
            message,
        });
        MapOutcome { result, report }
    }

    /// Finds the task, writes `inputs.pb` into a fresh run directory, and sets up the array.
    fn prepare(&self, map: &RemoteMap) -> Result<Prepared, String> {
        let entry = registry::find(map.task).map_err(|e| e.to_string())?;
        let remote = entry.remote.ok_or_else(|| not_remote(&entry))?;
        let inputs =
            encode::inputs_literal_map(&entry.interface, map.mapped, &remote, &map.elements)?;
        let dir = RunDir::create_in(&self.inner.parent).map_err(|e| {
            format!(
                "could not create a run directory under {}: {e}",
                self.inner.parent.display()
            )
        })?;
        write_atomically(&dir.path().join("inputs.pb"), &inputs.encode_to_vec())?;
        let bound: Vec<String> = entry
            .interface
            .inputs
            .iter()
            .filter(|p| !map.mapped.contains(&p.name))
            .map(|p| p.name.to_owned())
            .collect();
        let mut launch = MapExecute::new(dir.path(), map.task, bound);
        if let Some(hook) = &map.on_output {
            launch = launch.on_output(Arc::clone(hook), entry.interface.output.clone(), remote);
        }
        let mut builder = ProcessArray::builder().grace(self.inner.grace);
        if let Some(program) = &self.inner.program {
            builder = builder.program(program.clone());
        }
        let array = builder.build(dir).map_err(|e| e.to_string())?;
        Ok(Prepared {
            entry,
            array,
            launch,
        })
    }
}

struct Prepared {
    entry: TaskEntry,
    array: ProcessArray,
    launch: MapExecute,
}

impl MapBackend for ProcessBackend {
    fn name(&self) -> &str {
        "process"
    }

    fn run_map(
        &self,
        runtime: &Runtime,
        map: RemoteMap,
        options: RunOptions,
    ) -> BoxFuture<'static, MapOutcome<Box<dyn Any + Send>>> {
        self.clone().run(runtime.clone(), map, options).boxed()
    }
}

/// Why task `entry` cannot run on the process backend, or `None` when it can.
pub fn unsupported(entry: &TaskEntry) -> Option<String> {
    match (entry.not_portable_reason(), entry.remote) {
        (Some(reason), _) => Some(reason.to_owned()),
        (None, None) => Some(not_remote(entry)),
        (None, Some(_)) => None,
    }
}

fn not_remote(entry: &TaskEntry) -> String {
    let types: Vec<&str> = entry.interface.inputs.iter().map(|p| p.rust_type).collect();
    format!(
        "the process backend needs task `{}`'s inputs ({}) to be `serde::Serialize` and its \
         output `{}` to be `serde::de::DeserializeOwned`",
        entry.name,
        types.join(", "),
        entry.interface.output_rust_type
    )
}

/// Collects `out/` into `out/outputs.pb` and reads each element's output.
fn assemble(
    entry: &TaskEntry,
    dir: &RunDir,
    n: usize,
    min_successes: usize,
    succeeded: &[bool],
) -> Result<Vec<Option<Box<dyn Any + Send>>>, String> {
    let remote = entry.remote.ok_or_else(|| not_remote(entry))?;
    let prefix = dir.path().join("out").to_string_lossy().into_owned();
    let collected = maptask_flyte::collect::collect(&prefix, n, &[OUTPUT_NAME], min_successes)
        .map_err(|e| format!("the collector failed: {e}"))?;
    let column = collected
        .outputs
        .literals
        .get(OUTPUT_NAME)
        .ok_or_else(|| format!("the collector wrote no `{OUTPUT_NAME}`"))?;
    encode::outputs_from_collection(column, n, &entry.interface.output, succeeded, &remote)
}

/// A map's outcome when nothing ran.
fn unstarted(
    spec: &MapSpec,
    n: usize,
    result: Result<Vec<Option<Box<dyn Any + Send>>>, MapError>,
    started: std::time::Instant,
) -> MapOutcome<Box<dyn Any + Send>> {
    let status = if result.is_ok() {
        MapStatus::Succeeded
    } else {
        MapStatus::Failed
    };
    MapOutcome {
        result,
        report: MapReport::unstarted(&spec.name, n, 0, status, started.elapsed()),
    }
}

/// Writes `bytes` to a temporary name and renames it into place: never half-written.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("pb.tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("could not write {}: {e}", path.display()))
}
