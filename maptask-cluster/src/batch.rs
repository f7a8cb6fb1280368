//! AWS Batch: a map as an array job, written as the JSON that
//! `aws batch register-job-definition --cli-input-json` and `aws batch submit-job
//! --cli-input-json` read.
//!
//! | map | Batch |
//! |---|---|
//! | the task (image, role, secrets, env) | a job definition, one per task |
//! | n elements | `arrayProperties.size: n` (2 to 10,000); a single element is a plain job |
//! | retries r | `retryStrategy.attempts: r + 1` (at most 10) |
//! | a NON_RECOVERABLE failure | `evaluateOnExit`: exit code [`NON_RECOVERABLE_EXIT_CODE`] → `EXIT` (any other failure is retried) |
//! | timeout t | `timeout.attemptDurationSeconds: max(60, ⌈t⌉)` (Batch's minimum is 60 s) |
//! | the command, env, resources | `containerOverrides`, with `BATCH_JOB_ARRAY_INDEX_VAR_NAME=AWS_BATCH_JOB_ARRAY_INDEX` and `FLYTE_FAIL_ON_ERROR=true` |
//! | concurrency | none in Batch: bound it with the compute environment's `maxvCpus` (see the docs) |
//! | minimum successes | none in Batch: the collector enforces it |
//!
//! [`NON_RECOVERABLE_EXIT_CODE`]: crate::NON_RECOVERABLE_EXIT_CODE

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::ClusterError;
use crate::job::{MapJob, FAIL_ON_ERROR_ENV, INDEX_VAR_NAME_ENV, SINGLE_ATTEMPT_ENV};
use crate::quantity::Quantity;
use crate::NON_RECOVERABLE_EXIT_CODE;

/// The variable in which AWS Batch gives each child of an array job its index.
pub const INDEX_VAR: &str = "AWS_BATCH_JOB_ARRAY_INDEX";

/// Limits of AWS Batch.
pub mod limits {
    /// `arrayProperties.size`.
    pub const MAX_ARRAY_SIZE: u64 = 10_000;
    /// `retryStrategy.attempts`.
    pub const MAX_ATTEMPTS: u64 = 10;
    /// `timeout.attemptDurationSeconds` is at least this.
    pub const MIN_ATTEMPT_SECONDS: u64 = 60;
    /// Job and job definition names.
    pub const MAX_NAME: usize = 128;
    /// `MEMORY` in MiB is at least this.
    pub const MIN_MEMORY_MIB: u128 = 4;
}

/// CPUs reserved when the map requests none: Batch needs a value.
pub const DEFAULT_VCPUS: &str = "1";
/// Memory (MiB) when the map sets none: Batch needs a value.
pub const DEFAULT_MEMORY_MIB: &str = "2048";

/// Options of the AWS Batch target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOptions {
    /// The job queue to submit to (name or ARN).
    pub job_queue: String,
    /// The job definition's name; derived from the task's name when `None`.
    pub job_definition_name: Option<String>,
    /// The job's name; derived from the map's name when `None`.
    pub job_name: Option<String>,
}

/// The `register-job-definition` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterJobDefinition {
    /// The definition's name.
    pub job_definition_name: String,
    /// Always `container`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Always `["EC2"]`.
    pub platform_capabilities: Vec<String>,
    /// The container.
    pub container_properties: ContainerProperties,
    /// Attempts and when to stop early.
    pub retry_strategy: RetryStrategy,
    /// The bound on each attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<JobTimeout>,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Whether the tags reach the ECS tasks.
    pub propagate_tags: bool,
}

/// A job definition's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProperties {
    /// The image.
    pub image: String,
    /// The IAM role of the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_role_arn: Option<String>,
    /// The task's environment.
    pub environment: Vec<KeyValuePair>,
    /// CPUs, memory, GPUs.
    pub resource_requirements: Vec<ResourceRequirement>,
    /// Variables taken from Secrets Manager or SSM.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<BatchSecret>,
}

/// A variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyValuePair {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// A variable whose value Batch fetches from Secrets Manager or SSM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSecret {
    /// The variable's name.
    pub name: String,
    /// The ARN of the secret or parameter.
    pub value_from: String,
}

/// One resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceRequirement {
    /// `VCPU`, `MEMORY` (MiB) or `GPU`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The amount, as a string.
    pub value: String,
}

/// Attempts and early exits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    /// `retries + 1`.
    pub attempts: u32,
    /// Exit at once on the NON_RECOVERABLE exit code.
    pub evaluate_on_exit: Vec<EvaluateOnExit>,
}

/// A condition on a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateOnExit {
    /// The exit code matched.
    pub on_exit_code: String,
    /// `EXIT` or `RETRY`.
    pub action: String,
}

/// The bound on each attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTimeout {
    /// Seconds, at least 60.
    pub attempt_duration_seconds: u64,
}

/// The `submit-job` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitJob {
    /// The job's name.
    pub job_name: String,
    /// The queue.
    pub job_queue: String,
    /// The job definition's name.
    pub job_definition: String,
    /// `size: n`; absent for a single element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub array_properties: Option<ArrayProperties>,
    /// As in the definition (a submission's own overrides it).
    pub retry_strategy: RetryStrategy,
    /// As in the definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<JobTimeout>,
    /// The command, environment and resources of this map.
    pub container_overrides: ContainerOverrides,
    /// Tags.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Whether the tags reach the ECS tasks.
    pub propagate_tags: bool,
}

/// The size of an array job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArrayProperties {
    /// The number of children.
    pub size: u64,
}

/// What a submission changes in the definition's container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerOverrides {
    /// `<binary> map-execute …`.
    pub command: Vec<String>,
    /// The task's environment and the index variable.
    pub environment: Vec<KeyValuePair>,
    /// CPUs, memory, GPUs.
    pub resource_requirements: Vec<ResourceRequirement>,
}

/// The two requests of a map (and the collector's command, which runs after the array job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRequests {
    /// Register once per task (and again when the image changes).
    pub job_definition: RegisterJobDefinition,
    /// Submit once per map run.
    pub submit_job: SubmitJob,
    /// The collector's command (with the definition's environment).
    pub collect_command: Vec<String>,
    /// A plain job that runs the collector; submit it once the array job has finished,
    /// `SUCCEEDED` or `FAILED`. (Not with `dependsOn`: a job that depends on a failed array job
    /// fails too, and an array job fails as soon as one child failed, even a tolerated one.)
    pub collect_job: SubmitJob,
}

impl BatchRequests {
    /// The job definition as pretty JSON.
    pub fn job_definition_json(&self) -> String {
        to_json(&self.job_definition)
    }

    /// The submission as pretty JSON.
    pub fn submit_job_json(&self) -> String {
        to_json(&self.submit_job)
    }

    /// The collector's submission as pretty JSON.
    pub fn collect_job_json(&self) -> String {
        to_json(&self.collect_job)
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Only strings, numbers, booleans, lists and string maps: serializing cannot fail.
    let mut text = serde_json::to_string_pretty(value).expect("a request serializes to JSON");
    text.push('\n');
    text
}

/// Builds the requests of `job`, or says which limit or field stops it.
pub fn requests(job: &MapJob, options: &BatchOptions) -> Result<BatchRequests, ClusterError> {
    job.validate()?;
    let over = |what: &str, value: u64, limit: u64, hint: &str| ClusterError::OverLimit {
        map: job.map_name.clone(),
        what: what.to_owned(),
        value,
        limit,
        target: "AWS Batch",
        hint: hint.to_owned(),
    };
    let invalid = |field: &'static str, problem: String| ClusterError::Invalid {
        map: job.map_name.clone(),
        field,
        problem,
    };
    if options.job_queue.trim().is_empty() {
        return Err(invalid("job_queue", "is empty".into()));
    }
    let n = job.n as u64;
    if n > limits::MAX_ARRAY_SIZE {
        return Err(over(
            "the number of elements (arrayProperties.size)",
            n,
            limits::MAX_ARRAY_SIZE,
            "; split the input into several maps",
        ));
    }
    let attempts = u64::from(job.retries) + 1;
    if attempts > limits::MAX_ATTEMPTS {
        return Err(over(
            "the number of attempts (retries + 1)",
            attempts,
            limits::MAX_ATTEMPTS,
            "; use at most 9 retries",
        ));
    }
    let definition_name = match &options.job_definition_name {
        Some(name) => checked_name(name).map_err(|p| invalid("job_definition_name", p))?,
        None => batch_name(&job.task_name),
    };
    let job_name = match &options.job_name {
        Some(name) => checked_name(name).map_err(|p| invalid("job_name", p))?,
        None => batch_name(&job.map_name),
    };
    let resources = resource_requirements(job)?;
    let retry_strategy = RetryStrategy {
        attempts: attempts as u32,
        evaluate_on_exit: vec![EvaluateOnExit {
            on_exit_code: NON_RECOVERABLE_EXIT_CODE.to_string(),
            action: "EXIT".into(),
        }],
    };
    let timeout = job.timeout.map(|t| JobTimeout {
        attempt_duration_seconds: (t.as_secs_f64().ceil() as u64).max(limits::MIN_ATTEMPT_SECONDS),
    });
    let mut tags = BTreeMap::from([
        ("maptask:map".to_owned(), job.map_name.clone()),
        ("maptask:task".to_owned(), job.task_name.clone()),
    ]);
    tags.extend(job.labels.clone());
    let task_env: Vec<KeyValuePair> = job
        .env
        .iter()
        .map(|(name, value)| KeyValuePair {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    let mut environment = task_env.clone();
    // A plain job (one element) has no AWS_BATCH_JOB_ARRAY_INDEX; without the name of a
    // variable, map-execute runs index 0, which is the right one.
    if n >= 2 {
        environment.push(KeyValuePair {
            name: INDEX_VAR_NAME_ENV.into(),
            value: INDEX_VAR.into(),
        });
    }
    environment.push(KeyValuePair {
        name: FAIL_ON_ERROR_ENV.into(),
        value: "true".into(),
    });
    environment.push(KeyValuePair {
        name: SINGLE_ATTEMPT_ENV.into(),
        value: "1".into(),
    });
    let mut command = vec![job.binary.clone()];
    command.extend(job.map_execute_args());
    let mut collect_command = vec![job.binary.clone()];
    collect_command.extend(job.collect_args());
    let collect_job = SubmitJob {
        job_name: collect_name(&job_name),
        job_queue: options.job_queue.clone(),
        job_definition: definition_name.clone(),
        array_properties: None,
        // Reading and writing objects can fail transiently; the collection itself is
        // deterministic, and it exits at once when the minimum is not met.
        retry_strategy: RetryStrategy {
            attempts: 3,
            evaluate_on_exit: retry_strategy.evaluate_on_exit.clone(),
        },
        timeout: None,
        container_overrides: ContainerOverrides {
            command: collect_command.clone(),
            environment: task_env.clone(),
            resource_requirements: vec![
                ResourceRequirement {
                    type_: "VCPU".into(),
                    value: DEFAULT_VCPUS.into(),
                },
                ResourceRequirement {
                    type_: "MEMORY".into(),
                    value: DEFAULT_MEMORY_MIB.into(),
                },
            ],
        },
        tags: tags.clone(),
        propagate_tags: true,
    };

    Ok(BatchRequests {
        job_definition: RegisterJobDefinition {
            job_definition_name: definition_name.clone(),
            type_: "container".into(),
            platform_capabilities: vec!["EC2".into()],
            container_properties: ContainerProperties {
                image: job.image.clone(),
                job_role_arn: job.credentials.batch_job_role_arn.clone(),
                environment: task_env,
                resource_requirements: resources.clone(),
                secrets: job
                    .credentials
                    .batch_secrets
                    .iter()
                    .map(|(name, arn)| BatchSecret {
                        name: name.clone(),
                        value_from: arn.clone(),
                    })
                    .collect(),
            },
            retry_strategy: retry_strategy.clone(),
            timeout: timeout.clone(),
            tags: tags.clone(),
            propagate_tags: true,
        },
        submit_job: SubmitJob {
            job_name,
            job_queue: options.job_queue.clone(),
            job_definition: definition_name,
            array_properties: (n >= 2).then_some(ArrayProperties { size: n }),
            retry_strategy,
            timeout,
            container_overrides: ContainerOverrides {
                command,
                environment,
                resource_requirements: resources,
            },
            tags,
            propagate_tags: true,
        },
        collect_command,
        collect_job,
    })
}

/// `<job name>-collect`, shortened to fit.
fn collect_name(job_name: &str) -> String {
    let keep = job_name.len().min(limits::MAX_NAME - "-collect".len());
    format!("{}-collect", &job_name[..keep])
}

/// `VCPU` (the request, else the limit, rounded up to whole CPUs: EC2 reserves whole vCPUs),
/// `MEMORY` (the limit, else the request, in MiB rounded up: Batch's memory is a hard limit),
/// and `GPU` when set.
fn resource_requirements(job: &MapJob) -> Result<Vec<ResourceRequirement>, ClusterError> {
    // `validate` has parsed every quantity already.
    let parse = |text: &Option<String>| text.as_deref().and_then(|t| Quantity::parse(t).ok());
    let cpu = parse(&job.requests.cpu).or(parse(&job.limits.cpu));
    let mem = parse(&job.limits.mem).or(parse(&job.requests.mem));
    let gpu = parse(&job.limits.gpu).or(parse(&job.requests.gpu));
    let vcpus = match cpu {
        Some(cpu) => cpu.ceil_in(1).max(1).to_string(),
        None => DEFAULT_VCPUS.to_owned(),
    };
    let memory = match mem {
        Some(mem) => {
            let mib = mem.ceil_in(1 << 20);
            if mib < limits::MIN_MEMORY_MIB {
                return Err(ClusterError::Invalid {
                    map: job.map_name.clone(),
                    field: "limits.mem",
                    problem: format!(
                        "is {mib} MiB, below AWS Batch's minimum of {} MiB",
                        limits::MIN_MEMORY_MIB
                    ),
                });
            }
            mib.to_string()
        }
        None => DEFAULT_MEMORY_MIB.to_owned(),
    };
    let mut out = vec![
        ResourceRequirement {
            type_: "VCPU".into(),
            value: vcpus,
        },
        ResourceRequirement {
            type_: "MEMORY".into(),
            value: memory,
        },
    ];
    if let Some(gpu) = gpu.filter(|g| !g.is_zero()) {
        out.push(ResourceRequirement {
            type_: "GPU".into(),
            value: gpu.ceil_in(1).to_string(),
        });
    }
    Ok(out)
}

/// A Batch name: letters, digits, `-` and `_`, starting alphanumeric, at most 128 characters.
fn batch_name(value: &str) -> String {
    let mut out: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        out.insert(0, 'm');
    }
    if out.len() > limits::MAX_NAME {
        // Keep the end too: generated map names differ in their hash suffix.
        let tail = &out[out.len() - 40..];
        out = format!("{}-{tail}", &out[..limits::MAX_NAME - 41]);
    }
    out
}

fn checked_name(name: &str) -> Result<String, String> {
    if batch_name(name) == name {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{name}` is not a Batch name (letters, digits, `-`, `_`, starting alphanumeric, at most {} characters)",
            limits::MAX_NAME
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::tests::seed_job;
    use std::time::Duration;

    fn options() -> BatchOptions {
        BatchOptions {
            job_queue: "maptask-queue".into(),
            ..BatchOptions::default()
        }
    }

    fn env(pairs: &[KeyValuePair]) -> Vec<(&str, &str)> {
        pairs
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_str()))
            .collect()
    }

    #[test]
    fn the_seed_map_maps_field_by_field() {
        let job = seed_job(4);
        let r = requests(&job, &options()).unwrap();
        let submit = &r.submit_job;
        assert_eq!(submit.array_properties, Some(ArrayProperties { size: 4 }));
        assert_eq!(submit.job_queue, "maptask-queue");
        assert_eq!(submit.job_definition, "app-wf-my_mappable_task");
        assert_eq!(
            r.job_definition.job_definition_name,
            "app-wf-my_mappable_task"
        );
        assert_eq!(
            submit.job_name,
            "app-wf-map_my_mappable_task_d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(submit.retry_strategy.attempts, 2, "retries + 1");
        assert_eq!(
            submit.retry_strategy.evaluate_on_exit,
            vec![EvaluateOnExit {
                on_exit_code: "3".into(),
                action: "EXIT".into()
            }]
        );
        assert_eq!(
            submit.timeout,
            Some(JobTimeout {
                attempt_duration_seconds: 60
            }),
            "30 s raised to Batch's minimum"
        );
        let mut command = vec!["/usr/local/bin/app".to_owned()];
        command.extend(job.map_execute_args());
        assert_eq!(submit.container_overrides.command, command);
        assert_eq!(
            env(&submit.container_overrides.environment),
            vec![
                ("RUST_LOG", "info"),
                (
                    "BATCH_JOB_ARRAY_INDEX_VAR_NAME",
                    "AWS_BATCH_JOB_ARRAY_INDEX"
                ),
                ("FLYTE_FAIL_ON_ERROR", "true"),
                ("MAPTASK_SINGLE_ATTEMPT", "1"),
            ]
        );
        assert_eq!(
            env(&r.job_definition.container_properties.environment),
            vec![("RUST_LOG", "info")]
        );
        // cpu 10M = 10,000,000 vCPUs (the seed's odd value, kept as written); 2Gi = 2048 MiB.
        assert_eq!(
            submit.container_overrides.resource_requirements,
            vec![
                ResourceRequirement {
                    type_: "VCPU".into(),
                    value: "10000000".into()
                },
                ResourceRequirement {
                    type_: "MEMORY".into(),
                    value: "2048".into()
                },
            ]
        );
        assert_eq!(r.collect_command[1..], job.collect_args()[..]);
        assert_eq!(r.collect_job.container_overrides.command, r.collect_command);
        assert_eq!(
            r.collect_job.job_name,
            format!("{}-collect", submit.job_name)
        );
        assert_eq!(r.collect_job.array_properties, None);
        assert_eq!(r.collect_job.job_definition, submit.job_definition);
        assert_eq!(submit.tags["maptask:map"], job.map_name);
    }

    #[test]
    fn a_single_element_is_a_plain_job_without_an_index_variable() {
        let r = requests(&seed_job(1), &options()).unwrap();
        assert_eq!(r.submit_job.array_properties, None);
        assert!(r
            .submit_job
            .container_overrides
            .environment
            .iter()
            .all(|e| e.name != INDEX_VAR_NAME_ENV));
        let json = r.submit_job_json();
        assert!(!json.contains("arrayProperties"), "{json}");
    }

    #[test]
    fn timeouts_round_up_and_never_go_below_a_minute() {
        let mut job = seed_job(2);
        for (timeout, seconds) in [
            (Some(90_500), Some(91)),
            (Some(60_000), Some(60)),
            (Some(1), Some(60)),
            (None, None),
        ] {
            job.timeout = timeout.map(Duration::from_millis);
            let r = requests(&job, &options()).unwrap();
            assert_eq!(
                r.submit_job.timeout.map(|t| t.attempt_duration_seconds),
                seconds
            );
            assert_eq!(
                r.job_definition.timeout.map(|t| t.attempt_duration_seconds),
                seconds
            );
        }
    }

    #[test]
    fn resources_round_up_to_whole_vcpus_and_mib() {
        let mut job = seed_job(2);
        job.requests = crate::ResourceSpec {
            cpu: Some("1500m".into()),
            mem: Some("100M".into()),
            gpu: None,
        };
        job.limits = crate::ResourceSpec {
            cpu: Some("4".into()),
            mem: None,
            gpu: Some("2".into()),
        };
        let r = requests(&job, &options()).unwrap();
        assert_eq!(
            r.submit_job.container_overrides.resource_requirements,
            vec![
                ResourceRequirement {
                    type_: "VCPU".into(),
                    value: "2".into()
                },
                ResourceRequirement {
                    type_: "MEMORY".into(),
                    value: "96".into()
                },
                ResourceRequirement {
                    type_: "GPU".into(),
                    value: "2".into()
                },
            ]
        );
        job.requests = crate::ResourceSpec::default();
        job.limits = crate::ResourceSpec::default();
        let r = requests(&job, &options()).unwrap();
        assert_eq!(
            r.job_definition.container_properties.resource_requirements,
            vec![
                ResourceRequirement {
                    type_: "VCPU".into(),
                    value: DEFAULT_VCPUS.into()
                },
                ResourceRequirement {
                    type_: "MEMORY".into(),
                    value: DEFAULT_MEMORY_MIB.into()
                },
            ]
        );
        job.limits.mem = Some("1Mi".into());
        let error = requests(&job, &options()).unwrap_err().to_string();
        assert!(
            error.contains("limits.mem is 1 MiB, below AWS Batch's minimum of 4 MiB"),
            "{error}"
        );
    }

    #[test]
    fn batch_limits_are_clear_errors() {
        let mut job = seed_job(10_000);
        assert_eq!(
            requests(&job, &options())
                .unwrap()
                .submit_job
                .array_properties,
            Some(ArrayProperties { size: 10_000 })
        );
        job.n = 10_001;
        job.min_successes = 10_001;
        assert_eq!(
            requests(&job, &options()).unwrap_err().to_string(),
            "map `app.wf.map_my_mappable_task_d41d8cd98f00b204e9800998ecf8427e`: the number of elements \
             (arrayProperties.size) is 10001, but AWS Batch allows at most 10000; split the input into several maps"
        );
        let mut job = seed_job(4);
        job.retries = 9;
        assert_eq!(
            requests(&job, &options())
                .unwrap()
                .submit_job
                .retry_strategy
                .attempts,
            10
        );
        job.retries = 10;
        let error = requests(&job, &options()).unwrap_err().to_string();
        assert!(
            error.contains(
                "the number of attempts (retries + 1) is 11, but AWS Batch allows at most 10"
            ),
            "{error}"
        );
        let error = requests(&seed_job(4), &BatchOptions::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("job_queue is empty"), "{error}");
    }

    #[test]
    fn credentials_are_references() {
        let mut job = seed_job(2);
        job.credentials.batch_job_role_arn = Some("arn:aws:iam::123456789012:role/maptask".into());
        job.credentials.batch_secrets = vec![(
            "AWS_SECRET_ACCESS_KEY".into(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:maptask-s3".into(),
        )];
        let r = requests(&job, &options()).unwrap();
        let c = &r.job_definition.container_properties;
        assert_eq!(
            c.job_role_arn.as_deref(),
            Some("arn:aws:iam::123456789012:role/maptask")
        );
        assert_eq!(c.secrets[0].name, "AWS_SECRET_ACCESS_KEY");
        assert!(r
            .job_definition_json()
            .contains("\"valueFrom\": \"arn:aws:secretsmanager:"));
    }

    #[test]
    fn names_are_batch_safe() {
        assert_eq!(batch_name("app.wf.scale"), "app-wf-scale");
        assert_eq!(batch_name("_x"), "m_x");
        let long = batch_name(&format!("{}end", "a".repeat(200)));
        assert_eq!(long.len(), 128);
        assert!(long.ends_with("end"));
        let options = BatchOptions {
            job_name: Some("has space".into()),
            ..options()
        };
        let error = requests(&seed_job(2), &options).unwrap_err().to_string();
        assert!(error.contains("`has space` is not a Batch name"), "{error}");
    }
}
