//! One child process: started in its own process group, waited for, and never left behind.
//!
//! A child whose attempt is dropped (a timeout, a map failing early, a cancelled or dropped run)
//! gets `SIGTERM` on its whole process group at once, then `SIGKILL` after the grace period if
//! it is still alive, and is reaped by a small tokio task. Without a tokio runtime to run that
//! task (the runtime is shutting down), the group gets `SIGKILL` at once and tokio's orphan
//! queue reaps the child.

use std::io;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::stats::Stats;

/// A started child that has not been reaped yet.
pub(crate) struct Running {
    child: Option<tokio::process::Child>,
    /// The child's process group: the child leads its own group, so this is its pid.
    pgid: libc::pid_t,
    grace: Duration,
    stats: Arc<Stats>,
}

impl Running {
    /// Starts `command` in a new process group, with stdin from `/dev/null`.
    pub(crate) fn spawn(
        command: Command,
        grace: Duration,
        stats: &Arc<Stats>,
    ) -> io::Result<Running> {
        let mut command = tokio::process::Command::from(command);
        command
            .process_group(0)
            .stdin(Stdio::null())
            // The backstop: if everything else is skipped, tokio still kills the child.
            .kill_on_drop(true);
        let child = command.spawn()?;
        let pid = child
            .id()
            .and_then(|id| libc::pid_t::try_from(id).ok())
            .ok_or_else(|| io::Error::other("the child has no pid right after it started"))?;
        stats.started();
        Ok(Running {
            child: Some(child),
            pgid: pid,
            grace,
            stats: Arc::clone(stats),
        })
    }

    /// The child's pid.
    pub(crate) fn pid(&self) -> libc::pid_t {
        self.pgid
    }

    /// Waits for the child to exit and reaps it.
    pub(crate) async fn wait(&mut self) -> io::Result<ExitStatus> {
        let Some(child) = self.child.as_mut() else {
            return Err(io::Error::other("the child was already reaped"));
        };
        let status = child.wait().await?;
        self.child = None;
        self.stats.reaped();
        Ok(status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            // It had exited already; `try_wait` reaped it.
            self.stats.reaped();
            return;
        }
        signal_group(self.pgid, libc::SIGTERM);
        let reaper = Reaper {
            child: Some(child),
            pgid: self.pgid,
            stats: Arc::clone(&self.stats),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let grace = self.grace;
                handle.spawn(reaper.finish(grace));
            }
            // Dropping the reaper kills the group at once.
            Err(_) => drop(reaper),
        }
    }
}

/// Finishes off a child that was asked to terminate.
struct Reaper {
    child: Option<tokio::process::Child>,
    pgid: libc::pid_t,
    stats: Arc<Stats>,
}

impl Reaper {
    async fn finish(mut self, grace: Duration) {
        // The child stays in `self` while this runs: if the runtime drops this task half-way
        // (it is shutting down), `Drop` still kills the group and waits until it is dead.
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if tokio::time::timeout(grace, child.wait()).await.is_err() {
            signal_group(self.pgid, libc::SIGKILL);
            // After SIGKILL the wait cannot take long; an error leaves the child to tokio's
            // orphan queue through `kill_on_drop`.
            let _ = child.wait().await;
        }
        self.child = None;
        self.stats.reaped();
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            // The reaping task was dropped (the runtime is shutting down) or never ran: kill the
            // whole group now; the child's `kill_on_drop` hands it to tokio's orphan queue.
            let pid = child.id();
            signal_group(self.pgid, libc::SIGKILL);
            // The program may be about to exit: wait until the kill has landed, so that no child
            // outlives it, even for the moment the kernel takes to deliver SIGKILL.
            if let Some(pid) = pid {
                wait_until_dead(pid, Duration::from_secs(2));
            }
            drop(child);
            self.stats.reaped();
        }
    }
}

/// Waits, up to `limit`, until process `pid` has died (a zombie or gone), reading `/proc`.
/// Where there is no `/proc`, it returns at once.
fn wait_until_dead(pid: u32, limit: Duration) {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return;
        };
        // The state follows the command name, which is in parentheses and may hold spaces.
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.trim_start().chars().next());
        if matches!(state, None | Some('Z' | 'X')) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `signal` to every process of group `pgid`. Only called while the group's leader is
/// unreaped, so the group id cannot have been reused.
fn signal_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: `killpg` has no memory-safety preconditions.
    let rc = unsafe { libc::killpg(pgid, signal) };
    if rc != 0 {
        let error = io::Error::last_os_error();
        // ESRCH: the group is already gone, which is what we wanted.
        if error.raw_os_error() != Some(libc::ESRCH) {
            tracing::warn!(pgid, signal, %error, "could not signal a child's process group");
        }
    }
}

/// The name of a signal, for messages.
pub(crate) fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
