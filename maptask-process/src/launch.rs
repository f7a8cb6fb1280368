//! What the caller tells the supervisor: how to start an attempt and what its end means.

use std::io;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};

/// One attempt of one element, as the supervisor starts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The element's index.
    pub index: usize,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The file that receives the child's stdout and stderr.
    pub log: PathBuf,
}

/// What an attempt left behind, as the caller reads it once the child has exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected<O> {
    /// The element's output: the attempt succeeded.
    Output(O),
    /// The child reported a failure (for `map-execute`, an `error.pb`).
    Failed {
        /// What the child reported.
        message: String,
        /// Whether another attempt may succeed (Flyte's `RECOVERABLE`). A non-recoverable
        /// failure is never retried.
        recoverable: bool,
    },
    /// The child left no result. The supervisor reports a retryable system failure that says
    /// how the child ended.
    Missing,
}

/// How to start each attempt and how to read its result: the part of the process array that
/// knows the child's protocol (for Flyte, `map-execute` with `inputs.pb` and `outputs.pb` or
/// `error.pb`).
///
/// Both methods run on the tokio worker that drives the attempt; keep them short (a few small
/// files).
pub trait Launch: Send + Sync + 'static {
    /// The output of a successful element.
    type Output: Send + 'static;

    /// Fills in `command` for `attempt`: its arguments and environment. The program is already
    /// set to the array's executable, stdin to null and stdout/stderr to `attempt.log`. Also
    /// removes whatever an earlier attempt of the same element left behind, so that `collect`
    /// never reads a stale result.
    ///
    /// An error here fails the attempt without starting a child (retryable).
    fn prepare(&self, attempt: &Attempt, command: &mut Command) -> io::Result<()>;

    /// Reads what the attempt left behind, once its child has exited with `status` (which may
    /// be a death by signal).
    fn collect(&self, attempt: &Attempt, status: ExitStatus) -> Collected<Self::Output>;
}
