//! The local harness starts, per index, exactly the command, arguments and environment of the
//! generated pod template or Batch container, and the index reaches the process through the
//! contract's variables. A small shell script stands in for `map-execute` and records what it
//! received, resolving its index the way the entrypoint must
//! (`BATCH_JOB_ARRAY_INDEX_OFFSET` + `$BATCH_JOB_ARRAY_INDEX_VAR_NAME`).

#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use maptask_cluster::{batch, k8s, local, MapJob, Placement};
use maptask_core::{Criterion, MapSpec, Metadata, Ratio, Resources};

const RECORDER: &str = r#"#!/bin/sh
var="${BATCH_JOB_ARRAY_INDEX_VAR_NAME:-}"
if [ -n "$var" ]; then eval "i=\${$var}"; else i=0; fi
i=$(( ${BATCH_JOB_ARRAY_INDEX_OFFSET:-0} + i ))
printf '%s\n' "$@" > "$RECORD_DIR/$i.args"
env | grep -v '^PWD=\|^SHLVL=\|^_=' | sort > "$RECORD_DIR/$i.env"
"#;

fn setup(test: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("maptask-local-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("records")).unwrap();
    let script = dir.join("app");
    std::fs::write(&script, RECORDER).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, script)
}

fn job(n: usize) -> MapJob {
    let spec = MapSpec::new("app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d")
        .concurrency(2)
        .criterion(Criterion::Ratio(Ratio::parse("0.5").unwrap()))
        .retries(1)
        .timeout(Some(Duration::from_secs(120)));
    let metadata = Metadata {
        env: &[("RUST_LOG", "info")],
        ..Metadata::DEFAULT
    };
    MapJob::from_core(
        &spec,
        "app.wf.scale",
        &metadata,
        (Resources::NONE, Resources::NONE),
        &["factor"],
        n,
        Placement {
            image: "localhost:30000/maptask:v1".into(),
            binary: "/usr/local/bin/app".into(),
            inputs: "s3://maptask-ci/r1/inputs.pb".into(),
            output_prefix: "s3://maptask-ci/r1/out".into(),
        },
    )
    .unwrap()
}

fn run(processes: &[local::LocalProcess], script: &Path, records: &Path) {
    let extra = [("RECORD_DIR".to_owned(), records.display().to_string())];
    for p in processes {
        assert_eq!(p.program, "/usr/local/bin/app");
        let status = p.command(script, &extra).status().unwrap();
        assert!(status.success());
    }
}

fn recorded(records: &Path, i: usize) -> (Vec<String>, BTreeMap<String, String>) {
    let args = std::fs::read_to_string(records.join(format!("{i}.args"))).unwrap();
    let env = std::fs::read_to_string(records.join(format!("{i}.env"))).unwrap();
    (
        args.lines().map(str::to_owned).collect(),
        env.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .filter(|(k, _)| k != "PATH" && k != "RECORD_DIR")
            .collect(),
    )
}

#[test]
fn every_pod_of_the_indexed_job_runs_its_own_index() {
    let (dir, script) = setup("k8s");
    let records = dir.join("records");
    let job = job(3);
    let manifests = k8s::manifests(&job, &k8s::K8sOptions::default()).unwrap();
    let processes = local::k8s_elements(&manifests.job).unwrap();
    assert_eq!(processes.len(), 3);
    run(&processes, &script, &records);
    for i in 0..3 {
        let (args, env) = recorded(&records, i);
        assert_eq!(args, job.map_execute_args(), "index {i}");
        assert_eq!(
            env,
            BTreeMap::from([
                ("RUST_LOG".to_owned(), "info".to_owned()),
                (
                    "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_owned(),
                    "JOB_COMPLETION_INDEX".to_owned()
                ),
                ("JOB_COMPLETION_INDEX".to_owned(), i.to_string()),
                ("FLYTE_FAIL_ON_ERROR".to_owned(), "true".to_owned()),
                ("MAPTASK_SINGLE_ATTEMPT".to_owned(), "1".to_owned()),
            ]),
            "index {i}"
        );
    }
    let collector = local::k8s_single(&manifests.collector).unwrap();
    assert_eq!(collector.args, job.collect_args());
    assert_eq!(
        collector.env,
        vec![("RUST_LOG".to_owned(), "info".to_owned())]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_child_of_the_array_job_runs_its_own_index() {
    let (dir, script) = setup("batch");
    let records = dir.join("records");
    let job = job(3);
    let options = batch::BatchOptions {
        job_queue: "q".into(),
        ..Default::default()
    };
    let requests = batch::requests(&job, &options).unwrap();
    let processes = local::batch_elements(&requests);
    assert_eq!(processes.len(), 3);
    run(&processes, &script, &records);
    for i in 0..3 {
        let (args, env) = recorded(&records, i);
        assert_eq!(args, job.map_execute_args(), "index {i}");
        assert_eq!(
            env,
            BTreeMap::from([
                ("RUST_LOG".to_owned(), "info".to_owned()),
                (
                    "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_owned(),
                    "AWS_BATCH_JOB_ARRAY_INDEX".to_owned()
                ),
                ("AWS_BATCH_JOB_ARRAY_INDEX".to_owned(), i.to_string()),
                ("FLYTE_FAIL_ON_ERROR".to_owned(), "true".to_owned()),
                ("MAPTASK_SINGLE_ATTEMPT".to_owned(), "1".to_owned()),
            ]),
            "index {i}"
        );
    }
    assert_eq!(local::batch_collector(&requests).args, job.collect_args());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_plain_batch_job_runs_index_zero_without_an_index_variable() {
    let (dir, script) = setup("plain");
    let records = dir.join("records");
    let options = batch::BatchOptions {
        job_queue: "q".into(),
        ..Default::default()
    };
    let requests = batch::requests(&job(1), &options).unwrap();
    let processes = local::batch_elements(&requests);
    assert_eq!(processes.len(), 1);
    run(&processes, &script, &records);
    let (_, env) = recorded(&records, 0);
    assert_eq!(
        env,
        BTreeMap::from([
            ("RUST_LOG".to_owned(), "info".to_owned()),
            ("FLYTE_FAIL_ON_ERROR".to_owned(), "true".to_owned()),
            ("MAPTASK_SINGLE_ATTEMPT".to_owned(), "1".to_owned()),
        ])
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
