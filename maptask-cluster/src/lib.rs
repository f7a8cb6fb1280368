//! Run a maptask map on a Kubernetes cluster or on AWS Batch: one process per element, each
//! `<binary> map-execute` on object-storage URIs, then a collector.
//!
//! ```
//! use maptask_cluster::{batch, k8s, MapJob, Placement};
//! use maptask_core::{Criterion, MapSpec, Metadata, Ratio, Resources};
//!
//! let spec = MapSpec::new("app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d")
//!     .concurrency(4)
//!     .criterion(Criterion::Ratio(Ratio::parse("0.75").unwrap()))
//!     .retries(1);
//! let placement = Placement {
//!     image: "registry.example/app:v1".into(),
//!     binary: "/usr/local/bin/app".into(),
//!     inputs: "s3://runs/r1/inputs.pb".into(),
//!     output_prefix: "s3://runs/r1/out".into(),
//! };
//! let job = MapJob::from_core(&spec, "app.wf.scale", &Metadata::DEFAULT,
//!     (Resources::NONE, Resources::NONE), &["factor"], 8, placement)?;
//!
//! let manifests = k8s::manifests(&job, &k8s::K8sOptions::default())?;
//! let spec = manifests.job.spec.as_ref().unwrap();
//! assert_eq!(spec.completions, Some(8));
//! assert_eq!(spec.max_failed_indexes, Some(2)); // 8 − ceil(0.75 × 8)
//!
//! let requests = batch::requests(&job, &batch::BatchOptions {
//!     job_queue: "maptask".into(), ..Default::default()
//! })?;
//! assert_eq!(requests.submit_job.array_properties.as_ref().unwrap().size, 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Where things are:
//! * `job.rs`: [`MapJob`], the plain description of one map that both targets read, its
//!   conversion from the model, and the `map-execute` and `collect` command lines;
//! * `k8s.rs`: the Indexed Job and the collector Job, and Kubernetes' limits;
//! * `batch.rs`: the job definition and `SubmitJob` request, and Batch's limits;
//! * `emulate.rs`: a manifest run by the process-array backend, with the target's semantics;
//! * `local.rs`: the processes a Job or a Batch submission starts, as local commands;
//! * `quantity.rs`: Kubernetes quantities, exactly;
//! * `error.rs`: [`ClusterError`].
//!
//! # The contract with `map-execute`
//!
//! Each process finds its element's index as `BATCH_JOB_ARRAY_INDEX_OFFSET` (default 0) plus
//! the value of the variable named by `BATCH_JOB_ARRAY_INDEX_VAR_NAME`: `JOB_COMPLETION_INDEX`
//! on Kubernetes, `AWS_BATCH_JOB_ARRAY_INDEX` on Batch. With `FLYTE_FAIL_ON_ERROR=true`, which
//! every manifest sets, it exits with
//! * 0 when the element succeeded (`<prefix>/<i>/outputs.pb` written);
//! * [`NON_RECOVERABLE_EXIT_CODE`] when it failed for good (`<prefix>/<i>/error.pb` written):
//!   the index fails at once, without its remaining retries;
//! * any other non-zero code for a failure worth retrying.
#![warn(missing_docs)]

pub mod batch;
#[cfg(unix)]
pub mod emulate;
mod error;
mod job;
pub mod k8s;
pub mod local;
mod quantity;

pub use error::ClusterError;
pub use job::{
    Credentials, MapJob, Placement, ResourceSpec, FAIL_ON_ERROR_ENV, INDEX_OFFSET_ENV,
    INDEX_VAR_NAME_ENV, SINGLE_ATTEMPT_ENV,
};
/// The Kubernetes `batch/v1` Job of [`k8s::K8sManifests`], from `k8s-openapi`. Only the type is
/// re-exported, not the crate: a re-exported crate would carry its own re-export of `serde`,
/// and rustc would then name serde's traits through it in every diagnostic of a user crate.
pub use k8s_openapi::api::batch::v1::Job;
pub use quantity::Quantity;

/// The exit code with which `map-execute` reports a NON_RECOVERABLE failure of its element.
///
/// Kubernetes fails the index at once (`podFailurePolicy` action `FailIndex`) and AWS Batch
/// stops retrying (`evaluateOnExit` action `EXIT`). Other non-zero codes are retried.
pub const NON_RECOVERABLE_EXIT_CODE: i32 = 3;
