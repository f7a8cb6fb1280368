//! Every generated manifest passes the official Kubernetes schema in strict mode
//! (`kubernetes-validate`), and every Batch request passes botocore's own parameter validation
//! against the `batch` service model. Neither contains the S3 test server's secret key.
//!
//! The tools come from `.ci/setup.d/30-cloud.sh` (`MAPTASK_KUBERNETES_VALIDATE`,
//! `MAPTASK_BOTOCORE_PYTHON`). Without them the tests skip loudly, and fail under `MAPTASK_CI=1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use maptask_cluster::{batch, k8s, ClusterError, Credentials, MapJob, Placement, ResourceSpec};
use maptask_core::{Criterion, MapSpec, Metadata, Ratio, Resources};

fn tool(var: &str) -> Option<PathBuf> {
    match std::env::var(var) {
        Ok(path) if Path::new(&path).exists() => Some(PathBuf::from(path)),
        _ if std::env::var("MAPTASK_CI").as_deref() == Ok("1") => {
            panic!("MAPTASK_CI=1 but {var} is not set to an installed tool (.ci/setup.d/30-cloud.sh sets it)")
        }
        _ => {
            eprintln!("SKIPPED: {var} is not set; run `source .ci/setup.d/30-cloud.sh` first");
            None
        }
    }
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maptask-cluster-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The maps every validator sees: the seed map, a single element, the largest maps each target
/// accepts, GPUs, credentials, labels, bound inputs.
fn jobs() -> Vec<MapJob> {
    let placement = || Placement {
        image: "localhost:30000/maptask:v1".into(),
        binary: "/usr/local/bin/app".into(),
        inputs: "s3://maptask-ci/r1/inputs.pb".into(),
        output_prefix: "s3://maptask-ci/r1/out".into(),
    };
    let seed = MapSpec::new("app.wf.map_my_mappable_task_d41d8cd98f00b204e9800998ecf8427e")
        .concurrency(10)
        .criterion(Criterion::Ratio(Ratio::parse("0.75").unwrap()))
        .retries(1)
        .timeout(Some(Duration::from_secs(30)));
    let cpu = Resources {
        cpu: Some("10M"),
        ..Resources::NONE
    };
    let mut out = vec![
        MapJob::from_core(
            &seed,
            "app.wf.my_mappable_task",
            &Metadata::DEFAULT,
            (cpu, Resources::NONE),
            &[],
            3,
            placement(),
        )
        .unwrap(),
        MapJob::from_core(
            &MapSpec::new("one"),
            "app.wf.one",
            &Metadata::DEFAULT,
            (Resources::NONE, Resources::NONE),
            &[],
            1,
            placement(),
        )
        .unwrap(),
    ];
    let mut big = MapJob::from_core(
        &MapSpec::new("my_crate::scale.map[factor]")
            .concurrency(10_000)
            .retries(9),
        "my_crate::scale",
        &Metadata {
            env: &[("RUST_LOG", "debug"), ("AWS_REGION", "us-east-1")],
            ..Metadata::DEFAULT
        },
        (
            Resources {
                cpu: Some("500m"),
                mem: Some("1Gi"),
                gpu: Some("1"),
            },
            Resources {
                cpu: Some("2"),
                mem: Some("2Gi"),
                gpu: Some("1"),
            },
        ),
        &["factor"],
        10_000,
        placement(),
    )
    .unwrap();
    big.min_successes = 9_000;
    big.labels.insert("team".into(), "data".into());
    big.credentials = Credentials {
        k8s_secret: Some("maptask-s3".into()),
        k8s_service_account: Some("maptask-runner".into()),
        batch_job_role_arn: Some("arn:aws:iam::123456789012:role/maptask".into()),
        batch_secrets: vec![(
            "AWS_SECRET_ACCESS_KEY".into(),
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:maptask-s3".into(),
        )],
    };
    out.push(big);
    let mut huge = out[0].clone();
    huge.map_name = "huge".into();
    huge.n = 1_000_000;
    huge.concurrency = 10_000;
    huge.min_successes = 990_000;
    huge.requests = ResourceSpec::default();
    out.push(huge);
    out
}

/// Writes every manifest of `jobs()` and returns their paths.
fn write_manifests(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for (i, job) in jobs().iter().enumerate() {
        let m = k8s::manifests(
            job,
            &k8s::K8sOptions {
                namespace: Some("maptask".into()),
                ..Default::default()
            },
        )
        .unwrap();
        for (kind, text) in [("job", m.job_json()), ("collect", m.collector_json())] {
            let path = dir.join(format!("{i}.{kind}.json"));
            std::fs::write(&path, text).unwrap();
            paths.push(path);
        }
    }
    paths
}

/// Writes every Batch request of `jobs()` that Batch accepts, as `(operation, path)`.
fn write_requests(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let options = batch::BatchOptions {
        job_queue: "maptask-queue".into(),
        ..Default::default()
    };
    let mut paths = Vec::new();
    for (i, job) in jobs().iter().enumerate().filter(|(_, j)| j.n <= 10_000) {
        let r = batch::requests(job, &options).unwrap();
        for (operation, text) in [
            ("RegisterJobDefinition", r.job_definition_json()),
            ("SubmitJob", r.submit_job_json()),
            ("SubmitJob", r.collect_job_json()),
        ] {
            let path = dir.join(format!("{i}.{}.{operation}.json", paths.len()));
            std::fs::write(&path, text).unwrap();
            paths.push((operation, path));
        }
    }
    paths
}

fn kubernetes_validate(tool: &Path, files: &[PathBuf]) -> std::process::Output {
    Command::new(tool)
        .args(["--strict", "-k", "1.37.0", "--no-warn"])
        .args(files)
        .output()
        .expect("kubernetes-validate runs")
}

#[test]
fn every_manifest_passes_the_official_schema_in_strict_mode() {
    let Some(tool) = tool("MAPTASK_KUBERNETES_VALIDATE") else {
        return;
    };
    let dir = scratch("k8s");
    let files = write_manifests(&dir);
    assert_eq!(files.len(), 8);
    let out = kubernetes_validate(&tool, &files);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "kubernetes-validate rejected a manifest:\n{report}"
    );
    for file in &files {
        assert!(
            report.contains(&format!("{} passed", file.display())),
            "no verdict for {}:\n{report}",
            file.display()
        );
    }

    // The same validator rejects a field the schema does not know: strict mode is on.
    let mut job: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    job["spec"]["maxFailedIndex"] = 1.into();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, job.to_string()).unwrap();
    let out = kubernetes_validate(&tool, &[bad]);
    assert!(
        !out.status.success(),
        "an unknown field passed: strict mode is not on"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

const BOTOCORE_CHECK: &str = r#"
import json, sys
import botocore.session
from botocore.validate import ParamValidator
model = botocore.session.get_session().get_service_model("batch")
failed = False
for operation, path in zip(sys.argv[1::2], sys.argv[2::2]):
    report = ParamValidator().validate(json.load(open(path)), model.operation_model(operation).input_shape)
    if report.has_errors():
        failed = True
        print(f"{path}: {operation} FAILED\n{report.generate_report()}")
    else:
        print(f"{path}: {operation} passed")
sys.exit(1 if failed else 0)
"#;

fn botocore_validate(python: &Path, files: &[(&str, PathBuf)]) -> std::process::Output {
    let mut command = Command::new(python);
    command.args(["-c", BOTOCORE_CHECK]);
    for (operation, path) in files {
        command.arg(operation).arg(path);
    }
    command.output().expect("python runs")
}

#[test]
fn every_batch_request_passes_botocore_validation() {
    let Some(python) = tool("MAPTASK_BOTOCORE_PYTHON") else {
        return;
    };
    let dir = scratch("batch");
    let files = write_requests(&dir);
    assert_eq!(files.len(), 9);
    let out = botocore_validate(&python, &files);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "botocore rejected a request:\n{report}"
    );
    for (operation, path) in &files {
        assert!(
            report.contains(&format!("{}: {operation} passed", path.display())),
            "{report}"
        );
    }

    // botocore rejects an unknown parameter and a wrong type: the check is real.
    let mut submit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[1].1).unwrap()).unwrap();
    submit["arrayProperties"]["size"] = "3".into();
    submit["concurrency"] = 3.into();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, submit.to_string()).unwrap();
    let out = botocore_validate(&python, &[("SubmitJob", bad)]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        report.contains("Unknown parameter in input: \"concurrency\""),
        "{report}"
    );
    assert!(report.contains("arrayProperties.size"), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_manifest_or_request_contains_the_s3_secret_key() {
    let secret = match std::env::var("MAPTASK_S3_SECRET_ACCESS_KEY") {
        Ok(secret) if !secret.is_empty() => secret,
        _ if std::env::var("MAPTASK_CI").as_deref() == Ok("1") => {
            panic!("MAPTASK_CI=1 but MAPTASK_S3_SECRET_ACCESS_KEY is not set")
        }
        _ => {
            eprintln!("SKIPPED: MAPTASK_S3_SECRET_ACCESS_KEY is not set; run `source .ci/setup.d/30-cloud.sh` first");
            return;
        }
    };
    let dir = scratch("secret");
    let mut texts: Vec<String> = write_manifests(&dir)
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.extend(
        write_requests(&dir)
            .iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap()),
    );
    assert_eq!(texts.len(), 17);
    for text in &texts {
        assert!(
            !text.contains(&secret),
            "a generated document contains the S3 secret key"
        );
    }
    // A secret passed as plain environment is refused, and the refusal does not print it.
    let mut job = jobs().remove(0);
    job.env
        .push(("AWS_SECRET_ACCESS_KEY".into(), secret.clone()));
    let error = k8s::manifests(&job, &k8s::K8sOptions::default()).unwrap_err();
    assert!(matches!(error, ClusterError::SecretInEnv { .. }));
    let options = batch::BatchOptions {
        job_queue: "q".into(),
        ..Default::default()
    };
    let batch_error = batch::requests(&job, &options).unwrap_err();
    for text in [
        error.to_string(),
        format!("{error:?}"),
        batch_error.to_string(),
        format!("{batch_error:?}"),
    ] {
        assert!(!text.contains(&secret), "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
