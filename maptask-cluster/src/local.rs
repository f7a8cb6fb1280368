//! The processes a generated Job or Batch submission starts, as local commands.
//!
//! Each element becomes exactly the command, arguments and environment of the pod template
//! (with `JOB_COMPLETION_INDEX=i`) or of the Batch container after its overrides (with
//! `AWS_BATCH_JOB_ARRAY_INDEX=i`). Running them on one machine against the same storage checks a
//! manifest end to end without a cluster; the tests do so.

use std::path::Path;
use std::process::Command;

use k8s_openapi::api::batch::v1::Job;

use crate::batch::{self, BatchRequests};
use crate::k8s;

/// One process as the cluster would start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalProcess {
    /// The program: the binary's path inside the image.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Its whole environment as the manifest defines it, in order.
    pub env: Vec<(String, String)>,
}

impl LocalProcess {
    /// A command that runs `binary` (the local build of the image's binary) with exactly these
    /// arguments and this environment, plus `extra` (what the cluster would add from a Secret or
    /// an IAM role, e.g. storage credentials); nothing else is inherited except `PATH`.
    pub fn command(&self, binary: &Path, extra: &[(String, String)]) -> Command {
        let mut command = Command::new(binary);
        command.args(&self.args).env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.envs(extra.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// Why a manifest cannot be run locally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the manifest of `{name}` cannot be run locally: {problem}")]
pub struct LocalError {
    /// The Job's or the job's name.
    pub name: String,
    /// What is missing or unsupported.
    pub problem: String,
}

/// One process per index of an Indexed Job, `0..completions`.
pub fn k8s_elements(job: &Job) -> Result<Vec<LocalProcess>, LocalError> {
    let (name, process) = k8s_process(job)?;
    let spec = job.spec.as_ref().expect("checked by k8s_process");
    if spec.completion_mode.as_deref() != Some("Indexed") {
        return Err(LocalError {
            name,
            problem: "it is not an Indexed Job".into(),
        });
    }
    let n = spec.completions.unwrap_or(1).max(0);
    Ok((0..n)
        .map(|i| {
            let mut p = process.clone();
            p.env.push((k8s::INDEX_VAR.into(), i.to_string()));
            p
        })
        .collect())
}

/// The single process of a non-indexed Job, such as the collector.
pub fn k8s_single(job: &Job) -> Result<LocalProcess, LocalError> {
    k8s_process(job).map(|(_, p)| p)
}

fn k8s_process(job: &Job) -> Result<(String, LocalProcess), LocalError> {
    let name = job.metadata.name.clone().unwrap_or_default();
    let fail = |problem: &str| LocalError {
        name: name.clone(),
        problem: problem.into(),
    };
    let pod = job
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .ok_or_else(|| fail("it has no pod template"))?;
    let [container] = pod.containers.as_slice() else {
        return Err(fail("its pod has more than one container"));
    };
    let mut command = container.command.clone().unwrap_or_default();
    command.extend(container.args.clone().unwrap_or_default());
    if command.is_empty() {
        return Err(fail("its container has no command"));
    }
    let program = command.remove(0);
    let mut env = Vec::new();
    for var in container.env.iter().flatten() {
        match &var.value {
            Some(value) => env.push((var.name.clone(), value.clone())),
            None => {
                return Err(fail(&format!(
                    "`{}` takes its value from the cluster",
                    var.name
                )))
            }
        }
    }
    Ok((
        name,
        LocalProcess {
            program,
            args: command,
            env,
        },
    ))
}

/// One process per child of the array job (one for a plain job): the definition's
/// environment with the submission's overrides applied, and the overriding command.
pub fn batch_elements(requests: &BatchRequests) -> Vec<LocalProcess> {
    let submit = &requests.submit_job;
    let mut env: Vec<(String, String)> = Vec::new();
    let definition = &requests.job_definition.container_properties.environment;
    for pair in definition
        .iter()
        .chain(&submit.container_overrides.environment)
    {
        // An override replaces the definition's variable of the same name.
        env.retain(|(name, _)| *name != pair.name);
        env.push((pair.name.clone(), pair.value.clone()));
    }
    let mut command = submit.container_overrides.command.clone();
    let program = command.remove(0);
    let process = LocalProcess {
        program,
        args: command,
        env,
    };
    match &submit.array_properties {
        None => vec![process],
        Some(array) => (0..array.size)
            .map(|i| {
                let mut p = process.clone();
                p.env.push((batch::INDEX_VAR.into(), i.to_string()));
                p
            })
            .collect(),
    }
}

/// The collector of a Batch map: its command with the definition's environment.
pub fn batch_collector(requests: &BatchRequests) -> LocalProcess {
    let mut command = requests.collect_command.clone();
    let program = command.remove(0);
    LocalProcess {
        program,
        args: command,
        env: requests
            .job_definition
            .container_properties
            .environment
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect(),
    }
}
