//! A generated Job or Batch submission run by the process-array backend, with the target's own
//! semantics read back from the manifest.
//!
//! Kubernetes and Batch decide what to retry from exit codes alone, and the collector reads the
//! outputs afterwards; so does this emulation. [`ManifestLaunch`] starts element `i` with
//! exactly its manifest's arguments and environment and judges its exit like the target:
//! 0 succeeded, [`NON_RECOVERABLE_EXIT_CODE`] failed for good (`FailIndex` / `EXIT`), any other
//! code retryable. [`k8s_spec`] and [`batch_spec`] give the engine the manifest's parallelism,
//! retries, failure budget and deadline.
//!
//! [`NON_RECOVERABLE_EXIT_CODE`]: crate::NON_RECOVERABLE_EXIT_CODE

use std::process::{Command, ExitStatus};
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use maptask_core::{Criterion, MapSpec};
use maptask_process::{Attempt, Collected, Launch};

use crate::batch::BatchRequests;
use crate::local::LocalProcess;
use crate::NON_RECOVERABLE_EXIT_CODE;

/// Starts each element as its manifest says; see the module docs.
#[derive(Debug, Clone)]
pub struct ManifestLaunch {
    processes: Vec<LocalProcess>,
    extra: Vec<(String, String)>,
}

impl ManifestLaunch {
    /// A launch of `processes` (from [`crate::local`]), index by index, each also given `extra`
    /// (what the cluster adds from a Secret or a role, e.g. storage credentials).
    pub fn new(processes: Vec<LocalProcess>, extra: Vec<(String, String)>) -> ManifestLaunch {
        ManifestLaunch { processes, extra }
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.processes.len()
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty()
    }
}

impl Launch for ManifestLaunch {
    type Output = ();

    fn prepare(&self, attempt: &Attempt, command: &mut Command) -> std::io::Result<()> {
        let process = self.processes.get(attempt.index).ok_or_else(|| {
            std::io::Error::other(format!("the manifest has no element {}", attempt.index))
        })?;
        // Like a pod, the process sees only its manifest's environment (and `PATH`, to run).
        command.args(&process.args).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.envs(process.env.iter().map(|(k, v)| (k, v)));
        command.envs(self.extra.iter().map(|(k, v)| (k, v)));
        Ok(())
    }

    fn collect(&self, _attempt: &Attempt, status: ExitStatus) -> Collected<()> {
        match status.code() {
            Some(0) => Collected::Output(()),
            Some(NON_RECOVERABLE_EXIT_CODE) => Collected::Failed {
                message: format!("exited with {NON_RECOVERABLE_EXIT_CODE} (NON_RECOVERABLE)"),
                recoverable: false,
            },
            Some(code) => Collected::Failed {
                message: format!("exited with {code}"),
                recoverable: true,
            },
            // Killed by a signal: the supervisor reports how, as a retryable system failure.
            None => Collected::Missing,
        }
    }
}

/// The engine's spec for an Indexed Job: `parallelism`, `backoffLimitPerIndex`,
/// `completions − maxFailedIndexes` successes, the pod's `activeDeadlineSeconds`.
pub fn k8s_spec(job: &Job) -> MapSpec {
    let name = job.metadata.name.clone().unwrap_or_default();
    let spec = job.spec.clone().unwrap_or_default();
    let n = spec.completions.unwrap_or(1).max(0) as usize;
    let tolerated = spec.max_failed_indexes.map_or(n, |m| m.max(0) as usize);
    let deadline = spec
        .template
        .spec
        .as_ref()
        .and_then(|p| p.active_deadline_seconds);
    MapSpec::new(name)
        .concurrency(spec.parallelism.unwrap_or(1).max(0) as usize)
        .criterion(Criterion::MinSuccesses(n.saturating_sub(tolerated)))
        .retries(spec.backoff_limit_per_index.unwrap_or(0).max(0) as u32)
        .timeout(deadline.map(|s| Duration::from_secs(s.max(0) as u64)))
}

/// The engine's spec for a Batch array job: no concurrency limit and no minimum (Batch has
/// neither: every child runs), `attempts − 1` retries, `attemptDurationSeconds`.
pub fn batch_spec(requests: &BatchRequests) -> MapSpec {
    let submit = &requests.submit_job;
    MapSpec::new(submit.job_name.clone())
        .concurrency(0)
        .criterion(Criterion::MinSuccesses(0))
        .retries(submit.retry_strategy.attempts.saturating_sub(1))
        .timeout(
            submit
                .timeout
                .as_ref()
                .map(|t| Duration::from_secs(t.attempt_duration_seconds)),
        )
}
