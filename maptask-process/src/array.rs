//! The [`ProcessArray`]: configuration, and the entry point that runs a map of child processes.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::Duration;

use maptask_core::MapSpec;
use maptask_runtime::{MapOutcome, RunOptions, Runtime};

use crate::launch::Launch;
use crate::run_dir::RunDir;
use crate::stats::{Stats, StatsSnapshot};
use crate::work::ProcessWork;

/// Why a process array could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The running executable could not be found (`std::env::current_exe`).
    #[error("could not find the running executable to start children from: {0}")]
    CurrentExe(#[source] std::io::Error),
    /// A directory of the run could not be created.
    #[error("could not create the directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Runs each attempt of each element of a map as a child process of one executable, under the
/// engine's semantics.
///
/// The sliding window, the runtime-wide cap, retries, timeouts, failing early and cancellation
/// are the engine's own ([`Runtime::run_map`]): each attempt is an async attempt that starts a
/// child and waits for it. On top of that:
///
/// * each child leads its own process group, with stdin from `/dev/null` and stdout and stderr
///   in `<run dir>/logs/<map>/<index>.<attempt>.log`;
/// * an attempt that is dropped (its timeout passed, its map failed early, the run was
///   cancelled or its future dropped) sends `SIGTERM` to the child's group at once, then
///   `SIGKILL` after the grace period, and reaps the child: no child and no zombie is left;
/// * what the child left behind is read by the caller's [`Launch::collect`]: an output, a
///   failure (recoverable or not), or nothing, which is a retryable system failure whose
///   message says how the child ended (e.g. killed by `SIGKILL` from outside);
/// * a failure's message ends with the last lines of the child's log.
#[derive(Clone)]
pub struct ProcessArray {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) program: PathBuf,
    pub(crate) dir: RunDir,
    pub(crate) grace: Duration,
    pub(crate) tail_lines: usize,
    pub(crate) stats: Arc<Stats>,
}

/// Configures a [`ProcessArray`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ProcessArrayBuilder {
    program: Option<PathBuf>,
    grace: Duration,
    tail_lines: usize,
}

impl Default for ProcessArrayBuilder {
    fn default() -> Self {
        ProcessArrayBuilder {
            program: None,
            grace: Duration::from_secs(2),
            tail_lines: 20,
        }
    }
}

impl ProcessArrayBuilder {
    /// The executable each child runs. The default is the running one
    /// (`std::env::current_exe`), which holds every task of the program.
    pub fn program(mut self, program: impl Into<PathBuf>) -> ProcessArrayBuilder {
        self.program = Some(program.into());
        self
    }

    /// How long a child asked to terminate (`SIGTERM`) may take before it is killed
    /// (`SIGKILL`). The default is 2 s.
    pub fn grace(mut self, grace: Duration) -> ProcessArrayBuilder {
        self.grace = grace;
        self
    }

    /// How many of the last lines of a failed child's log its error shows. The default is 20;
    /// 0 shows none.
    pub fn tail_lines(mut self, lines: usize) -> ProcessArrayBuilder {
        self.tail_lines = lines;
        self
    }

    /// Builds the array over `dir`, which holds the logs (and whatever the caller's
    /// [`Launch`] puts there).
    pub fn build(self, dir: RunDir) -> Result<ProcessArray, ProcessError> {
        let program = match self.program {
            Some(program) => program,
            None => std::env::current_exe().map_err(ProcessError::CurrentExe)?,
        };
        Ok(ProcessArray {
            inner: Arc::new(Inner {
                program,
                dir,
                grace: self.grace,
                tail_lines: self.tail_lines,
                stats: Arc::new(Stats::default()),
            }),
        })
    }
}

impl fmt::Debug for ProcessArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessArray")
            .field("program", &self.inner.program)
            .field("dir", &self.inner.dir.path())
            .field("grace", &self.inner.grace)
            .field("tail_lines", &self.inner.tail_lines)
            .finish()
    }
}

impl ProcessArray {
    /// A builder with the defaults: the running executable, a 2 s grace, 20 lines of log.
    pub fn builder() -> ProcessArrayBuilder {
        ProcessArrayBuilder::default()
    }

    /// The run directory.
    pub fn dir(&self) -> &RunDir {
        &self.inner.dir
    }

    /// The executable children run.
    pub fn program(&self) -> &std::path::Path {
        &self.inner.program
    }

    /// The children started so far, alive now, and alive at most at once, over every map this
    /// array ran.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// The directory that receives the logs of map `map`: `<run dir>/logs/<map>`, with every
    /// character other than ASCII letters, digits, `-`, `_` and `.` replaced by `_`.
    pub fn log_dir(&self, map: &str) -> PathBuf {
        let safe: String = map
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.inner.dir.path().join("logs").join(safe)
    }

    /// Runs `n` elements under `spec` on `runtime`: each attempt of element `i` is a child
    /// process that `launch` prepares and whose result `launch` collects.
    ///
    /// The outcome is the engine's, with `None` at each failed index.
    pub async fn run<L: Launch>(
        &self,
        runtime: &Runtime,
        spec: &MapSpec,
        n: usize,
        launch: L,
        options: RunOptions,
    ) -> Result<MapOutcome<L::Output>, ProcessError> {
        let log_dir = self.log_dir(&spec.name);
        std::fs::create_dir_all(&log_dir).map_err(|source| ProcessError::CreateDir {
            path: log_dir.clone(),
            source,
        })?;
        let work = ProcessWork {
            inner: Arc::clone(&self.inner),
            launch: Arc::new(launch),
            log_dir: Arc::new(log_dir),
            attempts: Arc::new((0..n).map(|_| AtomicU32::new(0)).collect()),
        };
        Ok(runtime.run_map(spec, (0..n).collect(), work, options).await)
    }
}
