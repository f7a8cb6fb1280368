//! The engine's [`Work`] for the process array: one attempt is one child process.

use std::fs::File;
use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use maptask_core::{Execution, TaskError};
use maptask_runtime::Work;
use std::os::unix::process::ExitStatusExt;

use crate::array::Inner;
use crate::child::{signal_name, Running};
use crate::launch::{Attempt, Collected, Launch};
use crate::run_dir::tail;

/// Runs each attempt of element `i` (the input is the index) as a child process.
pub(crate) struct ProcessWork<L> {
    pub(crate) inner: Arc<Inner>,
    pub(crate) launch: Arc<L>,
    pub(crate) log_dir: Arc<PathBuf>,
    /// Attempts started per element. Attempts of one element never overlap, so a counter per
    /// index numbers them.
    pub(crate) attempts: Arc<Vec<AtomicU32>>,
}

impl<L: Launch> Work<usize> for ProcessWork<L> {
    type Output = L::Output;

    fn execution(&self) -> Execution {
        // The attempt waits for a child: async, so a tokio worker is never blocked on it and a
        // timeout or a failing map can drop it (which kills the child).
        Execution::Async
    }

    fn call(
        &self,
        index: usize,
    ) -> impl Future<Output = Result<L::Output, TaskError>> + Send + 'static {
        let attempt = self
            .attempts
            .get(index)
            .map_or(1, |a| a.fetch_add(1, Ordering::SeqCst) + 1);
        let at = Attempt {
            index,
            attempt,
            log: self.log_dir.join(format!("{index}.{attempt}.log")),
        };
        run_attempt(Arc::clone(&self.inner), Arc::clone(&self.launch), at)
    }

    /// Runs the attempt on a current-thread tokio runtime of its own. The engine never calls
    /// this for async work; it exists for callers that use the `Work` directly.
    fn call_blocking(&self, index: usize) -> Result<L::Output, TaskError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TaskError::msg(format!("could not start a tokio runtime: {e}")))?;
        runtime.block_on(self.call(index))
    }
}

async fn run_attempt<L: Launch>(
    inner: Arc<Inner>,
    launch: Arc<L>,
    at: Attempt,
) -> Result<L::Output, TaskError> {
    let mut command = Command::new(&inner.program);
    let log = File::create(&at.log).map_err(|e| {
        TaskError::msg(format!(
            "could not create the log file {}: {e}",
            at.log.display()
        ))
    })?;
    let log_err = log.try_clone().map_err(|e| {
        TaskError::msg(format!(
            "could not share the log file {}: {e}",
            at.log.display()
        ))
    })?;
    command.stdout(log).stderr(log_err);
    launch
        .prepare(&at, &mut command)
        .map_err(|e| TaskError::msg(format!("could not prepare the attempt: {e}")))?;
    let mut running = Running::spawn(command, inner.grace, &inner.stats).map_err(|e| {
        let message = format!("could not start `{}`: {e}", inner.program.display());
        match e.kind() {
            // Resource shortages pass; a missing or non-executable program does not.
            std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::OutOfMemory => TaskError::msg(message),
            _ => TaskError::permanent_msg(message),
        }
    })?;
    let pid = running.pid();
    let status = running.wait().await.map_err(|e| {
        TaskError::msg(format!(
            "lost track of the child process (pid {pid}): {e}; a retryable system failure"
        ))
    })?;
    match launch.collect(&at, status) {
        Collected::Output(output) => Ok(output),
        Collected::Failed {
            message,
            recoverable,
        } => {
            // The child's message often is what it printed last: show only what it adds.
            let message = with_tail_beyond(message, &at, inner.tail_lines);
            Err(if recoverable {
                TaskError::msg(message)
            } else {
                TaskError::permanent_msg(message)
            })
        }
        Collected::Missing => Err(TaskError::msg(with_tail(
            missing(pid, status),
            &at,
            inner.tail_lines,
        ))),
    }
}

/// Why a child that left no result failed.
fn missing(pid: libc::pid_t, status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (_, Some(libc::SIGKILL)) => format!(
            "the child process (pid {pid}) was killed by SIGKILL (signal 9) from outside the \
             supervisor before it wrote a result; a retryable system failure"
        ),
        (_, Some(signal)) => format!(
            "the child process (pid {pid}) was killed by {} (signal {signal}) before it wrote \
             a result; a retryable system failure",
            signal_name(signal)
        ),
        (Some(code), _) => format!(
            "the child process (pid {pid}) exited with code {code} without writing a result; a \
             retryable system failure"
        ),
        (None, None) => format!(
            "the child process (pid {pid}) ended ({status}) without writing a result; a \
             retryable system failure"
        ),
    }
}

/// `message`, followed by those of the last lines of the attempt's log that it does not already
/// hold.
fn with_tail_beyond(message: String, at: &Attempt, lines: usize) -> String {
    let Some(text) = tail(&at.log, lines) else {
        return message;
    };
    let new: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !message.contains(l.trim()))
        .map(|l| format!("    {l}"))
        .collect();
    if new.is_empty() {
        return message;
    }
    format!(
        "{message}\n  last lines of {}:\n{}",
        at.log.display(),
        new.join("\n")
    )
}

/// `message`, followed by the last lines of the attempt's log.
fn with_tail(message: String, at: &Attempt, lines: usize) -> String {
    match tail(&at.log, lines) {
        Some(text) => {
            let indented: Vec<String> = text.lines().map(|l| format!("    {l}")).collect();
            format!(
                "{message}\n  last lines of {}:\n{}",
                at.log.display(),
                indented.join("\n")
            )
        }
        None => message,
    }
}
