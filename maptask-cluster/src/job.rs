//! [`MapJob`]: one map as the cluster targets need it, and the `map-execute` command line.

use std::collections::BTreeMap;
use std::time::Duration;

use maptask_core::{MapSpec, Metadata, Resources, SpecError};

use crate::error::ClusterError;
use crate::quantity::Quantity;

/// The environment variable that names the variable holding the element's index.
pub const INDEX_VAR_NAME_ENV: &str = "BATCH_JOB_ARRAY_INDEX_VAR_NAME";
/// The environment variable added to the index (default 0).
pub const INDEX_OFFSET_ENV: &str = "BATCH_JOB_ARRAY_INDEX_OFFSET";
/// Set to `true` in every element's environment: `map-execute` then exits non-zero when its
/// element failed (3 for NON_RECOVERABLE), as the targets decide retries from exit codes alone.
/// (Without it, `map-execute` exits 0 after writing `error.pb`, as flytekit does for Flyte's
/// plugins, which read `error.pb`.)
pub const FAIL_ON_ERROR_ENV: &str = "FLYTE_FAIL_ON_ERROR";
/// Set to `1` in every element's environment: `map-execute` then runs one attempt, because the
/// target itself retries the element (`backoffLimitPerIndex`, `retryStrategy.attempts`); without
/// it the task's retries would be counted twice, once in the pod and once by the target.
pub const SINGLE_ATTEMPT_ENV: &str = "MAPTASK_SINGLE_ATTEMPT";

/// Compute resources as Kubernetes quantities (`"500m"`, `"2Gi"`, `"1"`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSpec {
    /// CPU, e.g. `"500m"`.
    pub cpu: Option<String>,
    /// Memory, e.g. `"2Gi"`.
    pub mem: Option<String>,
    /// GPUs, e.g. `"1"`.
    pub gpu: Option<String>,
}

impl From<Resources> for ResourceSpec {
    fn from(r: Resources) -> ResourceSpec {
        ResourceSpec {
            cpu: r.cpu.map(str::to_owned),
            mem: r.mem.map(str::to_owned),
            gpu: r.gpu.map(str::to_owned),
        }
    }
}

/// References to credentials; never the credentials themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// Kubernetes: a Secret whose keys become the container's environment (`envFrom`), e.g. one
    /// holding `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    pub k8s_secret: Option<String>,
    /// Kubernetes: the service account the pods run as (e.g. one bound to an IAM role on EKS).
    pub k8s_service_account: Option<String>,
    /// AWS Batch: the IAM role the container assumes (`jobRoleArn`).
    pub batch_job_role_arn: Option<String>,
    /// AWS Batch: environment variables taken from Secrets Manager or SSM Parameter Store, as
    /// `(variable name, secret or parameter ARN)`.
    pub batch_secrets: Vec<(String, String)>,
}

/// One map, as a cluster runs it: `n` processes of `<binary> map-execute`, each running one
/// element, then a collector.
///
/// It is a plain description so that any front end can fill it; [`MapJob::from_core`] builds
/// one from a map's [`MapSpec`] and its task's [`Metadata`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapJob {
    /// The map's name, e.g. `app.wf.map_scale_742f…`; Kubernetes and Batch names derive from it.
    pub map_name: String,
    /// The task's registered name, passed to `map-execute task-name`.
    pub task_name: String,
    /// The number of elements.
    pub n: usize,
    /// At most this many elements at once; 0 means unbounded.
    pub concurrency: usize,
    /// The number of elements that must succeed.
    pub min_successes: usize,
    /// Extra attempts per element after a failed one.
    pub retries: u32,
    /// The bound on each attempt.
    pub timeout: Option<Duration>,
    /// Requested resources (the task's, with the node's overrides applied).
    pub requests: ResourceSpec,
    /// Resource limits (the task's, with the node's overrides applied).
    pub limits: ResourceSpec,
    /// The task's environment, in order.
    pub env: Vec<(String, String)>,
    /// Extra labels (Kubernetes) or tags (AWS Batch).
    pub labels: BTreeMap<String, String>,
    /// The container image that holds the user's binary.
    pub image: String,
    /// The binary's path inside the image.
    pub binary: String,
    /// The URI of the inputs (`inputs.pb`, a `LiteralMap` with the whole lists).
    pub inputs: String,
    /// The URI under which element `i` writes `<i>/outputs.pb` or `<i>/error.pb`, and the
    /// collector writes `outputs.pb`.
    pub output_prefix: String,
    /// The names of the bound (partial) inputs.
    pub bound: Vec<String>,
    /// Where credentials come from.
    pub credentials: Credentials,
}

/// Where a map's processes run and find their data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The container image that holds the user's binary.
    pub image: String,
    /// The binary's path inside the image.
    pub binary: String,
    /// The URI of the inputs.
    pub inputs: String,
    /// The URI of the output prefix.
    pub output_prefix: String,
}

impl MapJob {
    /// A map's job from the model: the map's spec (concurrency, criterion, retries, timeout),
    /// the task's metadata (resources, env), the node's resource overrides and the number of
    /// elements.
    pub fn from_core(
        spec: &MapSpec,
        task_name: &str,
        metadata: &Metadata,
        overrides: (Resources, Resources),
        bound: &[&str],
        n: usize,
        placement: Placement,
    ) -> Result<MapJob, SpecError> {
        let (requests, limits) = overrides;
        Ok(MapJob {
            map_name: spec.name.clone(),
            task_name: task_name.to_owned(),
            n,
            concurrency: spec.concurrency,
            min_successes: spec.criterion.min_successes(n)?,
            retries: spec.retries,
            timeout: spec.timeout,
            requests: metadata.requests.merged_with(requests).into(),
            limits: metadata.limits.merged_with(limits).into(),
            env: metadata
                .env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            labels: BTreeMap::new(),
            image: placement.image,
            binary: placement.binary,
            inputs: placement.inputs,
            output_prefix: placement.output_prefix,
            bound: bound.iter().map(|b| (*b).to_owned()).collect(),
            credentials: Credentials::default(),
        })
    }

    /// The arguments after `<binary>` that run one element: the Flyte container contract,
    /// with the placeholders filled and maptask's own resolver.
    ///
    /// `map-execute --inputs <inputs> --output-prefix <prefix> --raw-output-data-prefix
    /// <prefix>/raw --checkpoint-path <prefix>/raw/_flytecheckpoints --prev-checkpoint '""'
    /// --resolver maptask -- vars <bound,names> task-name <task>`
    pub fn map_execute_args(&self) -> Vec<String> {
        let prefix = self.output_prefix.trim_end_matches('/');
        let mut bound = self.bound.clone();
        bound.sort();
        [
            "map-execute",
            "--inputs",
            &self.inputs,
            "--output-prefix",
            prefix,
            "--raw-output-data-prefix",
            &format!("{prefix}/raw"),
            "--checkpoint-path",
            &format!("{prefix}/raw/_flytecheckpoints"),
            // What the Flyte plugins pass on a first attempt; flytekit reads it as "none".
            "--prev-checkpoint",
            "\"\"",
            "--resolver",
            "maptask",
            "--",
            "vars",
            &bound.join(","),
            "task-name",
            &self.task_name,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect()
    }

    /// The arguments after `<binary>` of the collector, which assembles
    /// `<prefix>/<i>/outputs.pb` (or a null at each failed index) into `<prefix>/outputs.pb` and
    /// fails unless at least `min_successes` elements succeeded:
    ///
    /// `collect --output-prefix <prefix> --size <n> --min-successes <m> --task-name <task>`
    pub fn collect_args(&self) -> Vec<String> {
        vec![
            "collect".into(),
            "--output-prefix".into(),
            self.output_prefix.trim_end_matches('/').to_owned(),
            "--size".into(),
            self.n.to_string(),
            "--min-successes".into(),
            self.min_successes.to_string(),
            "--task-name".into(),
            self.task_name.clone(),
        ]
    }

    /// The number of elements that may fail: `n − min_successes`.
    pub fn max_failures(&self) -> usize {
        self.n - self.min_successes
    }

    /// The checks both targets share.
    pub(crate) fn validate(&self) -> Result<(), ClusterError> {
        let invalid = |field: &'static str, problem: String| ClusterError::Invalid {
            map: self.map_name.clone(),
            field,
            problem,
        };
        for (field, value) in [
            ("map_name", &self.map_name),
            ("task_name", &self.task_name),
            ("image", &self.image),
            ("binary", &self.binary),
            ("inputs", &self.inputs),
            ("output_prefix", &self.output_prefix),
        ] {
            if value.trim().is_empty() {
                return Err(invalid(field, "is empty".into()));
            }
        }
        if self.n == 0 {
            return Err(invalid(
                "n",
                "is 0: an empty map runs nothing; its output is the empty list, written without a job".into(),
            ));
        }
        if self.min_successes > self.n {
            return Err(invalid(
                "min_successes",
                format!(
                    "is {} but the map has only {} elements",
                    self.min_successes, self.n
                ),
            ));
        }
        for (field, value) in [
            ("requests.cpu", &self.requests.cpu),
            ("requests.mem", &self.requests.mem),
            ("requests.gpu", &self.requests.gpu),
            ("limits.cpu", &self.limits.cpu),
            ("limits.mem", &self.limits.mem),
            ("limits.gpu", &self.limits.gpu),
        ] {
            if let Some(value) = value {
                Quantity::parse(value).map_err(|e| invalid(field, format!("is invalid: {e}")))?;
            }
        }
        for (field, request, limit) in [
            ("requests.cpu", &self.requests.cpu, &self.limits.cpu),
            ("requests.mem", &self.requests.mem, &self.limits.mem),
        ] {
            if let (Some(request), Some(limit)) = (request, limit) {
                if Quantity::parse(request).ok() > Quantity::parse(limit).ok() {
                    return Err(invalid(
                        field,
                        format!("is {request}, above its limit {limit}"),
                    ));
                }
            }
        }
        if let (Some(request), Some(limit)) = (&self.requests.gpu, &self.limits.gpu) {
            if Quantity::parse(request).ok() != Quantity::parse(limit).ok() {
                return Err(invalid(
                    "requests.gpu",
                    format!("is {request} but limits.gpu is {limit}; GPUs cannot be overcommitted, so they must be equal"),
                ));
            }
        }
        for (name, _) in &self.env {
            if name.is_empty() || name.contains('=') {
                return Err(invalid(
                    "env",
                    format!("has an invalid variable name `{name}`"),
                ));
            }
            if [
                INDEX_VAR_NAME_ENV,
                INDEX_OFFSET_ENV,
                FAIL_ON_ERROR_ENV,
                SINGLE_ATTEMPT_ENV,
                "JOB_COMPLETION_INDEX",
                "AWS_BATCH_JOB_ARRAY_INDEX",
            ]
            .contains(&name.as_str())
            {
                return Err(invalid(
                    "env",
                    format!("sets `{name}`, which the target sets to select the element"),
                ));
            }
            if looks_like_credential(name) {
                return Err(ClusterError::SecretInEnv {
                    map: self.map_name.clone(),
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Variable names that by convention hold secrets.
fn looks_like_credential(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["SECRET", "PASSWORD", "TOKEN", "PRIVATE_KEY", "CREDENTIAL"]
        .iter()
        .any(|word| upper.contains(word))
}

/// `value` made safe as a name: lowercase letters, digits and `-`, starting and ending with an
/// alphanumeric, at most `max` characters, with a short hash of the original appended whenever
/// anything had to change, so that distinct maps keep distinct names.
pub(crate) fn dns_name(value: &str, max: usize) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed == value && trimmed.len() <= max {
        return trimmed.to_owned();
    }
    let hash = format!("{:08x}", fnv1a(value) as u32);
    let room = max - hash.len() - 1;
    let head: String = trimmed.chars().take(room).collect();
    let head = head.trim_end_matches('-');
    if head.is_empty() {
        format!("m-{hash}")
    } else {
        format!("{head}-{hash}")
    }
}

/// 64-bit FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use maptask_core::{Criterion, Ratio};

    /// The seed map: `my_mappable_task`, concurrency 10, ratio 0.75, retries 1, cpu 10M.
    pub(crate) fn seed_job(n: usize) -> MapJob {
        let spec = MapSpec::new("app.wf.map_my_mappable_task_d41d8cd98f00b204e9800998ecf8427e")
            .concurrency(10)
            .criterion(Criterion::Ratio(Ratio::parse("0.75").unwrap()))
            .retries(1)
            .timeout(Some(Duration::from_secs(30)));
        let metadata = Metadata {
            env: &[("RUST_LOG", "info")],
            limits: Resources {
                mem: Some("2Gi"),
                ..Resources::NONE
            },
            ..Metadata::DEFAULT
        };
        let overrides = (
            Resources {
                cpu: Some("10M"),
                ..Resources::NONE
            },
            Resources::NONE,
        );
        MapJob::from_core(
            &spec,
            "app.wf.my_mappable_task",
            &metadata,
            overrides,
            &[],
            n,
            Placement {
                image: "localhost:30000/maptask:v1".into(),
                binary: "/usr/local/bin/app".into(),
                inputs: "s3://runs/r1/inputs.pb".into(),
                output_prefix: "s3://runs/r1/out".into(),
            },
        )
        .unwrap()
    }

    #[test]
    fn the_model_converts_field_by_field() {
        let job = seed_job(4);
        assert_eq!(job.n, 4);
        assert_eq!(job.concurrency, 10);
        assert_eq!(job.min_successes, 3, "ceil(0.75 × 4)");
        assert_eq!(job.max_failures(), 1);
        assert_eq!(job.retries, 1);
        assert_eq!(job.timeout, Some(Duration::from_secs(30)));
        assert_eq!(job.requests.cpu.as_deref(), Some("10M"), "the override");
        assert_eq!(job.limits.mem.as_deref(), Some("2Gi"), "the task's own");
        assert_eq!(job.env, vec![("RUST_LOG".to_owned(), "info".to_owned())]);
    }

    #[test]
    fn map_execute_args_follow_the_flyte_contract() {
        let mut job = seed_job(3);
        job.bound = vec!["z".into(), "factor".into()];
        assert_eq!(
            job.map_execute_args(),
            [
                "map-execute",
                "--inputs",
                "s3://runs/r1/inputs.pb",
                "--output-prefix",
                "s3://runs/r1/out",
                "--raw-output-data-prefix",
                "s3://runs/r1/out/raw",
                "--checkpoint-path",
                "s3://runs/r1/out/raw/_flytecheckpoints",
                "--prev-checkpoint",
                "\"\"",
                "--resolver",
                "maptask",
                "--",
                "vars",
                "factor,z",
                "task-name",
                "app.wf.my_mappable_task"
            ]
        );
        job.bound.clear();
        assert_eq!(
            job.map_execute_args()[15],
            "",
            "no bound names: an empty argument"
        );
        assert_eq!(
            job.collect_args(),
            [
                "collect",
                "--output-prefix",
                "s3://runs/r1/out",
                "--size",
                "3",
                "--min-successes",
                "3",
                "--task-name",
                "app.wf.my_mappable_task"
            ]
        );
    }

    #[test]
    fn invalid_jobs_name_the_field() {
        type Mutation = fn(&mut MapJob);
        let cases: Vec<(Mutation, &str)> = vec![
            (|j| j.image.clear(), "image is empty"),
            (|j| j.n = 0, "n is 0"),
            (
                |j| j.min_successes = 9,
                "min_successes is 9 but the map has only 4 elements",
            ),
            (
                |j| j.requests.cpu = Some("lots".into()),
                "requests.cpu is invalid: `lots`",
            ),
            (
                |j| {
                    j.requests.mem = Some("3Gi".into());
                    j.limits.mem = Some("2Gi".into());
                },
                "requests.mem is 3Gi, above its limit 2Gi",
            ),
            (
                |j| {
                    j.requests.gpu = Some("1".into());
                    j.limits.gpu = Some("2".into());
                },
                "must be equal",
            ),
            (
                |j| j.env.push(("JOB_COMPLETION_INDEX".into(), "0".into())),
                "sets `JOB_COMPLETION_INDEX`",
            ),
        ];
        for (mutate, message) in cases {
            let mut job = seed_job(4);
            mutate(&mut job);
            let error = job.validate().unwrap_err().to_string();
            assert!(
                error.starts_with("map `app.wf.map_my_mappable_task_"),
                "{error}"
            );
            assert!(error.contains(message), "expected `{message}` in `{error}`");
        }
    }

    #[test]
    fn a_credential_in_env_is_refused_without_printing_it() {
        let mut job = seed_job(4);
        job.env
            .push(("AWS_SECRET_ACCESS_KEY".into(), "wJalrXUtnFEMI-value".into()));
        let error = job.validate().unwrap_err();
        assert!(matches!(error, ClusterError::SecretInEnv { .. }));
        assert!(error.to_string().contains("`AWS_SECRET_ACCESS_KEY`"));
        assert!(!format!("{error} {error:?}").contains("wJalrXUtnFEMI-value"));
    }

    #[test]
    fn names_are_dns_safe_stable_and_distinct() {
        assert_eq!(dns_name("scale", 50), "scale");
        let a = dns_name("app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d", 50);
        let b = dns_name("app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47e", 50);
        assert_ne!(a, b);
        assert!(a.len() <= 50 && a.starts_with("app-wf-map-scale-"), "{a}");
        assert_eq!(
            a,
            dns_name("app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d", 50)
        );
        assert!(dns_name("my_crate::scale.map[factor]", 50)
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        assert!(dns_name("::", 50).starts_with("m-"));
    }
}
