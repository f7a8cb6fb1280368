//! The generated Kubernetes Job and AWS Batch submission, run on this machine: the
//! process-array backend starts every element with exactly the command, arguments and
//! environment of the pod template (`JOB_COMPLETION_INDEX=i`) or of the Batch container
//! (`AWS_BATCH_JOB_ARRAY_INDEX=i`), with the target's retry semantics read from the manifest
//! (`maptask_cluster::emulate`); then the manifest's collector runs. The aggregate equals what
//! the k8s-array plugin assembles from flytekit's own runs: the local result, with a null at each
//! failed index; and a minimum that is not met fails the collector.
//!
//! Data lives in a local directory (`file://`) and, with `.ci/setup.d/30-cloud.sh`'s server, in
//! an S3 bucket (`s3://`), the credentials given to each process as a Secret or a role would.

use std::path::Path;

use maptask_cluster::emulate::{batch_spec, k8s_spec, ManifestLaunch};
use maptask_cluster::{batch, k8s, local, MapJob, Placement};
use maptask_core::{Criterion, MapSpec, Metadata, Ratio, Resources};
use maptask_process::{ProcessArray, RunDir};
use maptask_runtime::{RunOptions, Runtime};
use maptask_storage::{S3Config, Secret, Storage, Uri};

use crate::common::{fixture, literal_map, Scratch, BIN};

/// Where a map's data lives.
enum Store {
    Local,
    S3 {
        endpoint: String,
        bucket: String,
        key_id: String,
        secret: String,
    },
}

impl Store {
    /// The S3 server of `.ci/setup.d/30-cloud.sh`; `None` (loudly) without it, a failure under
    /// `MAPTASK_CI=1`.
    fn s3() -> Option<Store> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        match (
            var("MAPTASK_S3_ENDPOINT"),
            var("MAPTASK_S3_BUCKET"),
            var("MAPTASK_S3_ACCESS_KEY_ID"),
            var("MAPTASK_S3_SECRET_ACCESS_KEY"),
        ) {
            (Some(endpoint), Some(bucket), Some(key_id), Some(secret)) => Some(Store::S3 {
                endpoint,
                bucket,
                key_id,
                secret,
            }),
            _ if std::env::var("MAPTASK_CI").as_deref() == Ok("1") => {
                panic!("MAPTASK_CI=1 but no S3 server: source .ci/setup.d/30-cloud.sh")
            }
            _ => {
                eprintln!("SKIPPED: no S3 server (MAPTASK_S3_ENDPOINT unset); source .ci/setup.d/30-cloud.sh");
                None
            }
        }
    }

    fn storage(&self) -> Storage {
        match self {
            Store::Local => Storage::new(S3Config::new()),
            Store::S3 {
                endpoint,
                key_id,
                secret,
                ..
            } => Storage::new(
                S3Config::new()
                    .with_endpoint(endpoint)
                    .with_credentials(key_id, Secret::new(secret))
                    .with_region("us-east-1"),
            ),
        }
    }

    /// A fresh prefix for one run.
    fn prefix(&self, scratch: &Scratch) -> String {
        match self {
            Store::Local => format!("file://{}", scratch.path().display()),
            Store::S3 { bucket, .. } => {
                let name = scratch.path().file_name().unwrap().to_string_lossy();
                format!("s3://{bucket}/e2e/{name}")
            }
        }
    }

    /// What the cluster would give each process from a Secret: the storage settings.
    fn credentials_env(&self) -> Vec<(String, String)> {
        match self {
            Store::Local => Vec::new(),
            Store::S3 {
                endpoint,
                key_id,
                secret,
                ..
            } => vec![
                ("AWS_ENDPOINT_URL".into(), endpoint.clone()),
                ("AWS_REGION".into(), "us-east-1".into()),
                ("AWS_ACCESS_KEY_ID".into(), key_id.clone()),
                ("AWS_SECRET_ACCESS_KEY".into(), secret.clone()),
            ],
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Target {
    Kubernetes,
    Batch,
}

/// The map of `task` over the fixture inputs, placed under `prefix`.
fn map_job(prefix: &str, task: &str, bound: &[&str], ratio: &str) -> MapJob {
    let hash = if bound.is_empty() {
        "d41d8cd98f00b204e9800998ecf8427e"
    } else {
        "742f32c65ffd18b766fa307f8de2d47d"
    };
    let spec = MapSpec::new(format!("app.wf.map_{task}_{hash}"))
        .concurrency(10)
        .criterion(Criterion::Ratio(Ratio::parse(ratio).unwrap()))
        .retries(1);
    MapJob::from_core(
        &spec,
        &format!("app.wf.{task}"),
        &Metadata::DEFAULT,
        (Resources::NONE, Resources::NONE),
        bound,
        3,
        Placement {
            image: "localhost:30000/maptask:v1".into(),
            binary: "/usr/local/bin/flyte-app".into(),
            inputs: format!("{prefix}/inputs.pb"),
            output_prefix: format!("{prefix}/out"),
        },
    )
    .unwrap()
}

/// What a run did: each element's result (by exit code), the attempts each element took, and
/// the collector's exit code.
struct Ran {
    elements: Vec<Option<()>>,
    attempts: Vec<u32>,
    collected: Option<i32>,
}

/// Runs the elements as `target` would, then its collector, each process also given `extra`.
async fn run_on(
    target: Target,
    job: &MapJob,
    scratch: &Scratch,
    extra: &[(String, String)],
) -> Ran {
    let run_dir = RunDir::create(scratch.join("run")).unwrap();
    let array = ProcessArray::builder().program(BIN).build(run_dir).unwrap();
    let (spec, processes, collector) = match target {
        Target::Kubernetes => {
            let m = k8s::manifests(job, &k8s::K8sOptions::default()).unwrap();
            (
                k8s_spec(&m.job),
                local::k8s_elements(&m.job).unwrap(),
                local::k8s_single(&m.collector).unwrap(),
            )
        }
        Target::Batch => {
            let options = batch::BatchOptions {
                job_queue: "maptask".into(),
                ..Default::default()
            };
            let r = batch::requests(job, &options).unwrap();
            (
                batch_spec(&r),
                local::batch_elements(&r),
                local::batch_collector(&r),
            )
        }
    };
    for p in &processes {
        assert_eq!(p.program, "/usr/local/bin/flyte-app");
        assert_eq!(p.args, job.map_execute_args());
    }
    let n = processes.len();
    let launch = ManifestLaunch::new(processes, extra.to_vec());
    let outcome = array
        .run(&Runtime::default(), &spec, n, launch, RunOptions::new())
        .await
        .unwrap();
    let attempts = outcome.report.elements.iter().map(|e| e.attempts).collect();
    let elements = match outcome.result {
        Ok(elements) => elements,
        // The target stopped the map early (Kubernetes' maxFailedIndexes); the collector still
        // runs, as the user would run it, and enforces the minimum.
        Err(_) => vec![None; n],
    };
    let status = collector.command(Path::new(BIN), extra).status().unwrap();
    Ran {
        elements,
        attempts,
        collected: status.code(),
    }
}

/// Every fixture map on both targets, data in `store`: the aggregate is the k8s-array plugin's.
async fn every_fixture_map_on_both_targets(store: &Store) {
    let storage = store.storage();
    for target in [Target::Kubernetes, Target::Batch] {
        for (task, bound, ratio) in [
            ("my_flaky_task", &[][..], "0.5"),
            ("my_flaky_plain_task", &[][..], "0.5"),
            ("scale", &["factor"][..], "1"),
            ("my_mappable_task", &[][..], "0.75"),
        ] {
            let scratch = Scratch::new(&format!("cluster-{target:?}-{task}"));
            let prefix = store.prefix(&scratch);
            let job = map_job(&prefix, task, bound, ratio);
            let inputs = Uri::parse(&job.inputs).unwrap();
            storage
                .put(&inputs, fixture(&format!("inputs/{task}.inputs.pb")))
                .await
                .unwrap();
            let ran = run_on(target, &job, &scratch, &store.credentials_env()).await;
            let flaky = task.starts_with("my_flaky");
            let expected = if flaky {
                vec![Some(()), None, Some(())]
            } else {
                vec![Some(()); 3]
            };
            assert_eq!(ran.elements, expected, "{target:?} {task}");
            // The failed element was tried once although the map allows a retry: its failure
            // is NON_RECOVERABLE, so map-execute exits 3 and the target fails the index at once.
            assert_eq!(ran.attempts, vec![1, 1, 1], "{target:?} {task}");
            assert_eq!(ran.collected, Some(0), "{target:?} {task}: the collector");
            let out = Uri::parse(&format!("{prefix}/out/outputs.pb")).unwrap();
            let ours = storage.get(&out).await.unwrap().to_vec();
            let theirs = fixture(&format!("aggregate/{task}.outputs_k8s_array.pb"));
            assert_eq!(
                literal_map(&ours),
                literal_map(&theirs),
                "{target:?} {task}"
            );
            assert_eq!(ours, theirs, "{target:?} {task}: bytes");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_target_runs_its_manifest_and_the_collector_assembles_the_k8s_array_aggregate() {
    every_fixture_map_on_both_targets(&Store::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_against_the_s3_server() {
    let Some(store) = Store::s3() else { return };
    every_fixture_map_on_both_targets(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minimum_that_is_not_met_fails_the_collector_and_writes_nothing() {
    for target in [Target::Kubernetes, Target::Batch] {
        let scratch = Scratch::new(&format!("cluster-min-{target:?}"));
        std::fs::write(
            scratch.join("inputs.pb"),
            fixture("inputs/my_flaky_task.inputs.pb"),
        )
        .unwrap();
        // 0.75 of 3 needs all 3; element 1 fails.
        let job = map_job(&Store::Local.prefix(&scratch), "my_flaky_task", &[], "0.75");
        assert_eq!(job.min_successes, 3);
        let ran = run_on(target, &job, &scratch, &[]).await;
        assert_eq!(ran.elements[1], None, "{target:?}");
        assert_eq!(
            ran.collected,
            Some(1),
            "{target:?}: the collector enforces the minimum"
        );
        assert!(!scratch.join("out/outputs.pb").exists(), "{target:?}");
    }
}

/// `maptask-cluster` writes the entrypoint's contract into manifests without depending on
/// `maptask-flyte` (which would pull object storage into every manifest generator), so the two
/// copies of each name and code are pinned together here, where both crates are linked.
#[test]
fn the_manifests_and_the_entrypoint_agree_on_the_contract() {
    use maptask_flyte::entrypoint;
    assert_eq!(
        i32::from(entrypoint::EXIT_NON_RECOVERABLE),
        maptask_cluster::NON_RECOVERABLE_EXIT_CODE
    );
    assert_eq!(
        entrypoint::FAIL_ON_ERROR,
        maptask_cluster::FAIL_ON_ERROR_ENV
    );
    assert_eq!(
        entrypoint::SINGLE_ATTEMPT,
        maptask_cluster::SINGLE_ATTEMPT_ENV
    );
}
