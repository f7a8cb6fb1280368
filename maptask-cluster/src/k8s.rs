//! Kubernetes: a map as an Indexed `batch/v1` Job, plus a collector Job.
//!
//! | map | Job |
//! |---|---|
//! | n elements | `completionMode: Indexed`, `completions: n` |
//! | concurrency c | `parallelism: c` (n when unbounded) |
//! | retries r | `backoffLimitPerIndex: r` |
//! | minimum m | `maxFailedIndexes: n − m` |
//! | a NON_RECOVERABLE failure | `podFailurePolicy`: exit code [`NON_RECOVERABLE_EXIT_CODE`] → `FailIndex` |
//! | a pod disruption (preemption, eviction, node drain) | `podFailurePolicy`: `DisruptionTarget` → `Ignore` (not counted) |
//! | timeout t | the pod's `activeDeadlineSeconds: ⌈t⌉` (each pod is one attempt) |
//! | requests, limits | the container's `resources` (`cpu`, `memory`, `nvidia.com/gpu`) |
//! | env | the container's `env`, plus `BATCH_JOB_ARRAY_INDEX_VAR_NAME=JOB_COMPLETION_INDEX` and `FLYTE_FAIL_ON_ERROR=true` |
//! | credentials | `envFrom` a Secret by name, `serviceAccountName` |
//!
//! [`NON_RECOVERABLE_EXIT_CODE`]: crate::NON_RECOVERABLE_EXIT_CODE

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{
    Job, JobSpec, PodFailurePolicy, PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, PodSpec, PodTemplateSpec, ResourceRequirements,
    SecretEnvSource,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::ClusterError;
use crate::job::{
    dns_name, MapJob, ResourceSpec, FAIL_ON_ERROR_ENV, INDEX_VAR_NAME_ENV, SINGLE_ATTEMPT_ENV,
};
use crate::NON_RECOVERABLE_EXIT_CODE;

/// The variable in which Kubernetes gives each pod of an Indexed Job its index.
pub const INDEX_VAR: &str = "JOB_COMPLETION_INDEX";
/// The name of the container that runs `map-execute` (the pod failure policy refers to it).
pub const CONTAINER_NAME: &str = "map-execute";
/// The Kubernetes version whose API the manifests are built with (`k8s-openapi`'s `v1_37`).
/// Per-index backoff is GA since 1.33, so clusters from 1.33 on accept them.
pub const KUBERNETES_VERSION: &str = "1.37";

/// Limits the API server enforces on Indexed Jobs (`pkg/apis/batch/validation`).
pub mod limits {
    /// `parallelism` of an Indexed Job.
    pub const MAX_PARALLELISM: u64 = 100_000;
    /// `maxFailedIndexes`.
    pub const MAX_FAILED_INDEXES: u64 = 100_000;
    /// Above this many `completions` with per-index backoff, the two limits below apply.
    pub const COMPLETIONS_SOFT_LIMIT: u64 = 100_000;
    /// `parallelism` when `completions` is above [`COMPLETIONS_SOFT_LIMIT`].
    pub const MAX_PARALLELISM_HIGH_COMPLETIONS: u64 = 10_000;
    /// `maxFailedIndexes` when `completions` is above [`COMPLETIONS_SOFT_LIMIT`].
    pub const MAX_FAILED_INDEXES_HIGH_COMPLETIONS: u64 = 10_000;
    /// `completions` is an int32.
    pub const MAX_COMPLETIONS: u64 = i32::MAX as u64;
    /// A Job's name; pod hostnames are `<job>-<index>` and must fit in 63 characters.
    pub const MAX_JOB_NAME: usize = 50;
}

/// Options of the Kubernetes target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct K8sOptions {
    /// The namespace; the one of `kubectl`'s context when `None`.
    pub namespace: Option<String>,
    /// The Job's name; derived from the map's name when `None`.
    pub job_name: Option<String>,
    /// Delete finished Jobs (and their pods) after this many seconds.
    pub ttl_seconds_after_finished: Option<i32>,
}

/// The two Jobs of a map: the Indexed Job, then the collector to start once it has finished.
#[derive(Debug, Clone, PartialEq)]
pub struct K8sManifests {
    /// The Indexed Job that runs every element.
    pub job: Job,
    /// The Job that assembles the outputs and enforces the minimum.
    pub collector: Job,
}

impl K8sManifests {
    /// The element Job as pretty JSON (`kubectl apply -f` reads JSON as well as YAML).
    pub fn job_json(&self) -> String {
        to_json(&self.job)
    }

    /// The collector Job as pretty JSON.
    pub fn collector_json(&self) -> String {
        to_json(&self.collector)
    }
}

fn to_json(job: &Job) -> String {
    // A Job holds only strings, numbers, maps and lists: serializing it cannot fail.
    let mut text = serde_json::to_string_pretty(job).expect("a Job serializes to JSON");
    text.push('\n');
    text
}

/// Builds the Jobs of `job`, or says which limit or field stops it.
pub fn manifests(job: &MapJob, options: &K8sOptions) -> Result<K8sManifests, ClusterError> {
    job.validate()?;
    let name = match &options.job_name {
        Some(name) => {
            if name.len() > limits::MAX_JOB_NAME || dns_name(name, limits::MAX_JOB_NAME) != *name {
                return Err(ClusterError::Invalid {
                    map: job.map_name.clone(),
                    field: "job_name",
                    problem: format!(
                        "`{name}` is not a DNS label of at most {} characters (lowercase letters, digits, `-`)",
                        limits::MAX_JOB_NAME
                    ),
                });
            }
            name.clone()
        }
        None => dns_name(&job.map_name, limits::MAX_JOB_NAME),
    };
    let (parallelism, max_failed) = check_limits(job)?;
    let labels = labels(job)?;

    let mut env = env_vars(job);
    for (name, value) in [
        (INDEX_VAR_NAME_ENV, INDEX_VAR),
        (FAIL_ON_ERROR_ENV, "true"),
        (SINGLE_ATTEMPT_ENV, "1"),
    ] {
        env.push(EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..EnvVar::default()
        });
    }
    let args = job.map_execute_args();
    let container = Container {
        name: CONTAINER_NAME.into(),
        image: Some(job.image.clone()),
        command: Some(vec![job.binary.clone()]),
        args: Some(args),
        env: Some(env),
        env_from: env_from(job),
        resources: resources(&job.requests, &job.limits),
        ..Container::default()
    };
    let pod = PodSpec {
        restart_policy: Some("Never".into()),
        active_deadline_seconds: job.timeout.map(|t| t.as_secs_f64().ceil().max(1.0) as i64),
        service_account_name: job.credentials.k8s_service_account.clone(),
        containers: vec![container],
        ..PodSpec::default()
    };
    let element_job = Job {
        metadata: metadata(&name, options, &labels, "map"),
        spec: Some(JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(to_i32(job.n)),
            parallelism: Some(to_i32(parallelism)),
            backoff_limit_per_index: Some(i32::try_from(job.retries).unwrap_or(i32::MAX)),
            max_failed_indexes: Some(to_i32(max_failed)),
            pod_failure_policy: Some(pod_failure_policy()),
            ttl_seconds_after_finished: options.ttl_seconds_after_finished,
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(with_role(&labels, "map")),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        status: None,
    };

    let collector_name = format!("{name}-collect");
    let collector = Job {
        metadata: metadata(&collector_name, options, &labels, "collect"),
        spec: Some(JobSpec {
            completions: Some(1),
            parallelism: Some(1),
            // Reading and writing objects can fail transiently; the collection itself is
            // deterministic, so a few attempts suffice.
            backoff_limit: Some(2),
            ttl_seconds_after_finished: options.ttl_seconds_after_finished,
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(with_role(&labels, "collect")),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    service_account_name: job.credentials.k8s_service_account.clone(),
                    containers: vec![Container {
                        name: "collect".into(),
                        image: Some(job.image.clone()),
                        command: Some(vec![job.binary.clone()]),
                        args: Some(job.collect_args()),
                        env: Some(env_vars(job)),
                        env_from: env_from(job),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..JobSpec::default()
        }),
        status: None,
    };
    Ok(K8sManifests {
        job: element_job,
        collector,
    })
}

/// `(parallelism, maxFailedIndexes)`, checked against the API server's limits.
fn check_limits(job: &MapJob) -> Result<(usize, usize), ClusterError> {
    let over =
        |what: &str, value: usize, limit: u64, context: &str, hint: &str| ClusterError::OverLimit {
            map: job.map_name.clone(),
            what: what.to_owned(),
            value: value as u64,
            limit,
            target: if context.is_empty() {
                "Kubernetes"
            } else {
                "Kubernetes (with more than 100,000 completions and per-index backoff)"
            },
            hint: hint.to_owned(),
        };
    let n = job.n;
    if n as u64 > limits::MAX_COMPLETIONS {
        return Err(over(
            "the number of elements (completions)",
            n,
            limits::MAX_COMPLETIONS,
            "",
            "",
        ));
    }
    let parallelism = if job.concurrency == 0 {
        n
    } else {
        job.concurrency.min(n)
    };
    let max_failed = job.max_failures();
    if parallelism as u64 > limits::MAX_PARALLELISM {
        let hint = if job.concurrency == 0 {
            "; concurrency is unbounded, so parallelism is n: set a concurrency"
        } else {
            ""
        };
        return Err(over(
            "parallelism",
            parallelism,
            limits::MAX_PARALLELISM,
            "",
            hint,
        ));
    }
    if max_failed as u64 > limits::MAX_FAILED_INDEXES {
        return Err(over(
            "maxFailedIndexes (n − min_successes)",
            max_failed,
            limits::MAX_FAILED_INDEXES,
            "",
            "; raise the success ratio or min_successes",
        ));
    }
    if n as u64 > limits::COMPLETIONS_SOFT_LIMIT {
        if parallelism as u64 > limits::MAX_PARALLELISM_HIGH_COMPLETIONS {
            let hint = if job.concurrency == 0 {
                "; concurrency is unbounded, so parallelism is n: set a concurrency of at most 10,000"
            } else {
                "; lower the concurrency"
            };
            return Err(over(
                "parallelism",
                parallelism,
                limits::MAX_PARALLELISM_HIGH_COMPLETIONS,
                "high",
                hint,
            ));
        }
        if max_failed as u64 > limits::MAX_FAILED_INDEXES_HIGH_COMPLETIONS {
            return Err(over(
                "maxFailedIndexes (n − min_successes)",
                max_failed,
                limits::MAX_FAILED_INDEXES_HIGH_COMPLETIONS,
                "high",
                "; raise the success ratio or min_successes, or split the map",
            ));
        }
    }
    Ok((parallelism, max_failed))
}

/// The two rules: a disruption is not a failure; a NON_RECOVERABLE exit fails the index now.
fn pod_failure_policy() -> PodFailurePolicy {
    PodFailurePolicy {
        rules: vec![
            PodFailurePolicyRule {
                action: "Ignore".into(),
                on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                    type_: "DisruptionTarget".into(),
                    status: Some("True".into()),
                }]),
                on_exit_codes: None,
            },
            PodFailurePolicyRule {
                action: "FailIndex".into(),
                on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement {
                    container_name: Some(CONTAINER_NAME.into()),
                    operator: "In".into(),
                    values: vec![NON_RECOVERABLE_EXIT_CODE],
                }),
                on_pod_conditions: None,
            },
        ],
    }
}

fn env_vars(job: &MapJob) -> Vec<EnvVar> {
    job.env
        .iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: Some(value.clone()),
            ..EnvVar::default()
        })
        .collect()
}

fn env_from(job: &MapJob) -> Option<Vec<EnvFromSource>> {
    job.credentials.k8s_secret.as_ref().map(|secret| {
        vec![EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: secret.clone(),
                optional: Some(false),
            }),
            ..EnvFromSource::default()
        }]
    })
}

/// `cpu`, `memory` and `nvidia.com/gpu`; a GPU is always a limit too, since Kubernetes does not
/// overcommit extended resources.
fn resources(requests: &ResourceSpec, limits: &ResourceSpec) -> Option<ResourceRequirements> {
    let map = |spec: &ResourceSpec, gpu: Option<&String>| {
        let mut out = BTreeMap::new();
        for (key, value) in [
            ("cpu", spec.cpu.as_ref()),
            ("memory", spec.mem.as_ref()),
            ("nvidia.com/gpu", gpu),
        ] {
            if let Some(value) = value {
                out.insert(key.to_owned(), K8sQuantity(value.clone()));
            }
        }
        (!out.is_empty()).then_some(out)
    };
    let gpu = limits.gpu.as_ref().or(requests.gpu.as_ref());
    let requests = map(requests, requests.gpu.as_ref());
    let limits = map(limits, gpu);
    (requests.is_some() || limits.is_some()).then(|| ResourceRequirements {
        requests,
        limits,
        ..ResourceRequirements::default()
    })
}

fn labels(job: &MapJob) -> Result<BTreeMap<String, String>, ClusterError> {
    let mut labels = BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_owned(),
            "maptask".to_owned(),
        ),
        ("maptask.io/map".to_owned(), dns_name(&job.map_name, 63)),
        ("maptask.io/task".to_owned(), dns_name(&job.task_name, 63)),
    ]);
    for (key, value) in &job.labels {
        if let Err(problem) = check_label(key, value) {
            return Err(ClusterError::Invalid {
                map: job.map_name.clone(),
                field: "labels",
                problem,
            });
        }
        labels.insert(key.clone(), value.clone());
    }
    Ok(labels)
}

fn with_role(labels: &BTreeMap<String, String>, role: &str) -> BTreeMap<String, String> {
    let mut labels = labels.clone();
    labels.insert("maptask.io/role".into(), role.into());
    labels
}

fn metadata(
    name: &str,
    options: &K8sOptions,
    labels: &BTreeMap<String, String>,
    role: &str,
) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: options.namespace.clone(),
        labels: Some(with_role(labels, role)),
        ..ObjectMeta::default()
    }
}

/// The label syntax of the API server: `[prefix/]name`, each name and value at most 63
/// characters of `[A-Za-z0-9_.-]` that start and end alphanumeric (a value may be empty).
fn check_label(key: &str, value: &str) -> Result<(), String> {
    fn segment(text: &str) -> bool {
        text.len() <= 63
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && text
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && text
                .bytes()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric())
    }
    let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
    let prefix_ok = prefix.is_empty()
        || (prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            }));
    if !prefix_ok || !segment(name) {
        return Err(format!("has an invalid key `{key}` (write [prefix/]name, name at most 63 characters of letters, digits, `-`, `_`, `.`)"));
    }
    if !value.is_empty() && !segment(value) {
        return Err(format!("has an invalid value `{value}` for `{key}` (at most 63 characters of letters, digits, `-`, `_`, `.`, starting and ending alphanumeric)"));
    }
    Ok(())
}

fn to_i32(value: usize) -> i32 {
    // Every caller passes a value already checked against an int32 limit.
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::tests::seed_job;
    use std::time::Duration;

    fn spec_of(job: &MapJob) -> JobSpec {
        manifests(job, &K8sOptions::default())
            .unwrap()
            .job
            .spec
            .unwrap()
    }

    fn container_of(spec: &JobSpec) -> Container {
        spec.template.spec.clone().unwrap().containers[0].clone()
    }

    #[test]
    fn the_seed_map_maps_field_by_field() {
        let job = seed_job(4);
        let spec = spec_of(&job);
        assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
        assert_eq!(spec.completions, Some(4));
        assert_eq!(spec.parallelism, Some(4), "concurrency 10 capped at n = 4");
        assert_eq!(spec.backoff_limit_per_index, Some(1), "retries");
        assert_eq!(spec.max_failed_indexes, Some(1), "4 − ceil(0.75 × 4)");
        assert_eq!(spec.backoff_limit, None);
        let pod = spec.template.spec.clone().unwrap();
        assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
        assert_eq!(pod.active_deadline_seconds, Some(30), "the timeout");
        let container = container_of(&spec);
        assert_eq!(container.name, CONTAINER_NAME);
        assert_eq!(
            container.image.as_deref(),
            Some("localhost:30000/maptask:v1")
        );
        assert_eq!(
            container.command,
            Some(vec!["/usr/local/bin/app".to_owned()])
        );
        assert_eq!(container.args, Some(job.map_execute_args()));
        let env: Vec<(String, Option<String>)> = container
            .env
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value))
            .collect();
        assert_eq!(
            env,
            vec![
                ("RUST_LOG".to_owned(), Some("info".to_owned())),
                (
                    "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_owned(),
                    Some("JOB_COMPLETION_INDEX".to_owned())
                ),
                ("FLYTE_FAIL_ON_ERROR".to_owned(), Some("true".to_owned())),
                ("MAPTASK_SINGLE_ATTEMPT".to_owned(), Some("1".to_owned())),
            ]
        );
        let resources = container.resources.unwrap();
        assert_eq!(
            resources.requests,
            Some(BTreeMap::from([(
                "cpu".to_owned(),
                K8sQuantity("10M".into())
            )]))
        );
        assert_eq!(
            resources.limits,
            Some(BTreeMap::from([(
                "memory".to_owned(),
                K8sQuantity("2Gi".into())
            )]))
        );
    }

    #[test]
    fn concurrency_and_ratio_map_to_parallelism_and_failed_indexes() {
        let mut job = seed_job(100);
        assert_eq!(spec_of(&job).parallelism, Some(10));
        assert_eq!(spec_of(&job).max_failed_indexes, Some(25));
        job.concurrency = 0;
        assert_eq!(spec_of(&job).parallelism, Some(100), "unbounded: n");
        job.min_successes = 100;
        assert_eq!(
            spec_of(&job).max_failed_indexes,
            Some(0),
            "strict: the first failed index fails the Job"
        );
        job.min_successes = 0;
        assert_eq!(spec_of(&job).max_failed_indexes, Some(100));
        job.retries = 0;
        assert_eq!(spec_of(&job).backoff_limit_per_index, Some(0));
    }

    #[test]
    fn the_failure_policy_fails_non_recoverable_indexes_and_ignores_disruptions() {
        let policy = spec_of(&seed_job(3)).pod_failure_policy.unwrap();
        assert_eq!(policy.rules.len(), 2);
        assert_eq!(policy.rules[0].action, "Ignore");
        assert_eq!(
            policy.rules[0].on_pod_conditions.as_ref().unwrap()[0].type_,
            "DisruptionTarget"
        );
        assert_eq!(policy.rules[1].action, "FailIndex");
        let codes = policy.rules[1].on_exit_codes.clone().unwrap();
        assert_eq!(codes.values, vec![3]);
        assert_eq!(codes.operator, "In");
        assert_eq!(codes.container_name.as_deref(), Some(CONTAINER_NAME));
    }

    #[test]
    fn timeouts_round_up_to_whole_seconds() {
        let mut job = seed_job(2);
        job.timeout = Some(Duration::from_millis(1500));
        assert_eq!(
            spec_of(&job).template.spec.unwrap().active_deadline_seconds,
            Some(2)
        );
        job.timeout = Some(Duration::from_millis(10));
        assert_eq!(
            spec_of(&job).template.spec.unwrap().active_deadline_seconds,
            Some(1)
        );
        job.timeout = None;
        assert_eq!(
            spec_of(&job).template.spec.unwrap().active_deadline_seconds,
            None
        );
    }

    #[test]
    fn a_gpu_is_always_a_limit() {
        let mut job = seed_job(2);
        job.requests.gpu = Some("1".into());
        let resources = container_of(&spec_of(&job)).resources.unwrap();
        assert_eq!(
            resources.requests.unwrap()["nvidia.com/gpu"],
            K8sQuantity("1".into())
        );
        assert_eq!(
            resources.limits.unwrap()["nvidia.com/gpu"],
            K8sQuantity("1".into())
        );
    }

    #[test]
    fn credentials_are_references() {
        let mut job = seed_job(2);
        job.credentials.k8s_secret = Some("maptask-s3".into());
        job.credentials.k8s_service_account = Some("maptask-runner".into());
        let manifests = manifests(&job, &K8sOptions::default()).unwrap();
        for j in [&manifests.job, &manifests.collector] {
            let pod = j.spec.clone().unwrap().template.spec.unwrap();
            assert_eq!(pod.service_account_name.as_deref(), Some("maptask-runner"));
            let from = pod.containers[0].env_from.clone().unwrap();
            assert_eq!(from[0].secret_ref.as_ref().unwrap().name, "maptask-s3");
        }
    }

    #[test]
    fn the_collector_runs_collect_once() {
        let job = seed_job(4);
        let m = manifests(
            &job,
            &K8sOptions {
                namespace: Some("batch".into()),
                job_name: Some("seed".into()),
                ttl_seconds_after_finished: Some(600),
            },
        )
        .unwrap();
        assert_eq!(m.job.metadata.name.as_deref(), Some("seed"));
        assert_eq!(m.collector.metadata.name.as_deref(), Some("seed-collect"));
        assert_eq!(m.collector.metadata.namespace.as_deref(), Some("batch"));
        let spec = m.collector.spec.unwrap();
        assert_eq!(spec.completions, Some(1));
        assert_eq!(spec.completion_mode, None);
        assert_eq!(spec.ttl_seconds_after_finished, Some(600));
        let c = spec.template.spec.unwrap().containers[0].clone();
        assert_eq!(c.args, Some(job.collect_args()));
        assert!(c.env.unwrap().iter().all(|e| e.name != INDEX_VAR_NAME_ENV));
    }

    #[test]
    fn labels_name_the_map_and_the_role() {
        let mut job = seed_job(2);
        job.labels.insert("team".into(), "data".into());
        let m = manifests(&job, &K8sOptions::default()).unwrap();
        let labels = m
            .job
            .spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .labels
            .unwrap();
        assert_eq!(labels["maptask.io/role"], "map");
        assert_eq!(labels["team"], "data");
        assert_eq!(labels["app.kubernetes.io/managed-by"], "maptask");
        assert!(labels["maptask.io/map"].starts_with("app-wf-map-my-mappable-task"));
        job.labels.insert("bad key!".into(), "x".into());
        let error = manifests(&job, &K8sOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("invalid key `bad key!`"), "{error}");
    }

    #[test]
    fn indexed_job_limits_are_clear_errors() {
        let mut job = seed_job(100_000);
        job.concurrency = 0;
        job.min_successes = 0;
        // Exactly at the limits: accepted.
        let spec = spec_of(&job);
        assert_eq!(spec.parallelism, Some(100_000));
        assert_eq!(spec.max_failed_indexes, Some(100_000));

        job.n = 100_001;
        job.min_successes = 100_001;
        let error = manifests(&job, &K8sOptions::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "map `app.wf.map_my_mappable_task_d41d8cd98f00b204e9800998ecf8427e`: parallelism is 100001, \
             but Kubernetes allows at most 100000; concurrency is unbounded, so parallelism is n: set a concurrency"
        );
        job.concurrency = 20_000;
        let error = manifests(&job, &K8sOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("parallelism is 20000, but Kubernetes (with more than 100,000 completions and per-index backoff) allows at most 10000"), "{error}");
        job.concurrency = 10_000;
        job.min_successes = 90_000;
        let error = manifests(&job, &K8sOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("maxFailedIndexes (n − min_successes) is 10001, but Kubernetes (with more than 100,000 completions and per-index backoff) allows at most 10000"), "{error}");
        job.min_successes = 90_001;
        let spec = spec_of(&job);
        assert_eq!(
            (spec.completions, spec.parallelism, spec.max_failed_indexes),
            (Some(100_001), Some(10_000), Some(10_000))
        );

        job.n = 3_000_000_000;
        job.min_successes = job.n;
        let error = manifests(&job, &K8sOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("the number of elements (completions) is 3000000000, but Kubernetes allows at most 2147483647"), "{error}");
    }

    #[test]
    fn a_job_name_must_be_a_short_dns_label() {
        let job = seed_job(2);
        for bad in ["Upper", "has_underscore", &"x".repeat(51)] {
            let options = K8sOptions {
                job_name: Some(bad.to_owned()),
                ..K8sOptions::default()
            };
            let error = manifests(&job, &options).unwrap_err().to_string();
            assert!(error.contains("job_name"), "{error}");
        }
        let derived = manifests(&job, &K8sOptions::default()).unwrap();
        let name = derived.job.metadata.name.unwrap();
        assert!(name.len() <= limits::MAX_JOB_NAME, "{name}");
    }
}
