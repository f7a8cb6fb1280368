//! Generated manifests run by the process-array backend with the target's semantics: each
//! element is its manifest's process; exit code 3 fails the index at once, other failures are
//! retried, and the manifest's failure budget decides the map.

#![cfg(unix)]

use std::path::PathBuf;
use std::time::Duration;

use maptask_cluster::emulate::{batch_spec, k8s_spec, ManifestLaunch};
use maptask_cluster::{batch, k8s, local, MapJob, Placement};
use maptask_core::{Criterion, MapSpec, Metadata, Ratio, Resources};
use maptask_process::{ProcessArray, RunDir};
use maptask_runtime::{RunOptions, Runtime};

/// Index 1 fails for good (exit 3); index 2 fails once (exit 1), then succeeds.
const CHILD: &str = r#"#!/bin/sh
eval "i=\${$BATCH_JOB_ARRAY_INDEX_VAR_NAME}"
echo "$*" >> "$RECORD_DIR/$i.attempts"
[ "$i" = 1 ] && exit 3
[ "$i" = 2 ] && [ "$(wc -l < "$RECORD_DIR/$i.attempts")" -eq 1 ] && exit 1
exit 0
"#;

struct Setup {
    dir: PathBuf,
    array: ProcessArray,
}

fn setup(test: &str) -> Setup {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("maptask-emulate-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("records")).unwrap();
    let child = dir.join("app");
    std::fs::write(&child, CHILD).unwrap();
    std::fs::set_permissions(&child, std::fs::Permissions::from_mode(0o755)).unwrap();
    let array = ProcessArray::builder()
        .program(&child)
        .build(RunDir::create(dir.join("run")).unwrap())
        .unwrap();
    Setup { dir, array }
}

impl Setup {
    fn extra(&self) -> Vec<(String, String)> {
        vec![(
            "RECORD_DIR".into(),
            self.dir.join("records").display().to_string(),
        )]
    }

    fn attempts(&self, i: usize) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(format!("records/{i}.attempts")))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn job(n: usize, ratio: &str) -> MapJob {
    let spec = MapSpec::new("app.wf.map_flaky")
        .concurrency(2)
        .criterion(Criterion::Ratio(Ratio::parse(ratio).unwrap()))
        .retries(1)
        .timeout(Some(Duration::from_secs(60)));
    MapJob::from_core(
        &spec,
        "app.wf.flaky",
        &Metadata::DEFAULT,
        (Resources::NONE, Resources::NONE),
        &[],
        n,
        Placement {
            image: "img".into(),
            binary: "/usr/local/bin/app".into(),
            inputs: "s3://b/r/inputs.pb".into(),
            output_prefix: "s3://b/r/out".into(),
        },
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indexed_job_retries_recoverable_failures_and_fails_non_recoverable_ones_at_once() {
    let setup = setup("k8s");
    let job = job(4, "0.5");
    let manifests = k8s::manifests(&job, &k8s::K8sOptions::default()).unwrap();
    let spec = k8s_spec(&manifests.job);
    assert_eq!((spec.concurrency, spec.retries), (2, 1));
    assert_eq!(spec.criterion, Criterion::MinSuccesses(2));
    assert_eq!(spec.timeout, Some(Duration::from_secs(60)));
    let launch = ManifestLaunch::new(local::k8s_elements(&manifests.job).unwrap(), setup.extra());
    let outcome = setup
        .array
        .run(&Runtime::default(), &spec, 4, launch, RunOptions::new())
        .await
        .unwrap();
    assert_eq!(
        outcome.result.unwrap(),
        vec![Some(()), None, Some(()), Some(())]
    );
    let expected_args = job.map_execute_args().join(" ");
    assert_eq!(setup.attempts(0), vec![expected_args.clone()]);
    assert_eq!(
        setup.attempts(1).len(),
        1,
        "exit 3 fails the index without a retry"
    );
    assert_eq!(setup.attempts(2).len(), 2, "exit 1 is retried");
    assert_eq!(setup.attempts(3).len(), 1);
    std::fs::remove_dir_all(&setup.dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_indexed_job_fails_with_its_first_failed_index() {
    let setup = setup("strict");
    let job = job(4, "1");
    let manifests = k8s::manifests(&job, &k8s::K8sOptions::default()).unwrap();
    assert_eq!(
        manifests.job.spec.as_ref().unwrap().max_failed_indexes,
        Some(0)
    );
    let launch = ManifestLaunch::new(local::k8s_elements(&manifests.job).unwrap(), setup.extra());
    let outcome = setup
        .array
        .run(
            &Runtime::default(),
            &k8s_spec(&manifests.job),
            4,
            launch,
            RunOptions::new(),
        )
        .await
        .unwrap();
    let error = outcome.result.unwrap_err().to_string();
    assert!(error.contains("exited with 3 (NON_RECOVERABLE)"), "{error}");
    std::fs::remove_dir_all(&setup.dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_array_job_runs_every_child_and_leaves_the_minimum_to_the_collector() {
    let setup = setup("batch");
    let job = job(4, "1");
    let options = batch::BatchOptions {
        job_queue: "q".into(),
        ..Default::default()
    };
    let requests = batch::requests(&job, &options).unwrap();
    let spec = batch_spec(&requests);
    assert_eq!((spec.concurrency, spec.retries), (0, 1));
    assert_eq!(
        spec.criterion,
        Criterion::MinSuccesses(0),
        "Batch has no minimum"
    );
    let launch = ManifestLaunch::new(local::batch_elements(&requests), setup.extra());
    let outcome = setup
        .array
        .run(&Runtime::default(), &spec, 4, launch, RunOptions::new())
        .await
        .unwrap();
    // Even a strict map's children all run on Batch; the collector enforces the minimum.
    assert_eq!(
        outcome.result.unwrap(),
        vec![Some(()), None, Some(()), Some(())]
    );
    assert_eq!(setup.attempts(1).len(), 1, "evaluateOnExit: exit 3 → EXIT");
    assert_eq!(setup.attempts(2).len(), 2, "retryStrategy.attempts = 2");
    std::fs::remove_dir_all(&setup.dir).unwrap();
}
