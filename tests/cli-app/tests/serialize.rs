//! `serialize`, run as a user would: Flyte files that decode to what the library serializes
//! (and that flytekit parses), Kubernetes and AWS Batch manifests that pass the official
//! validators, and bad input with exit code 2 and nothing written.
//!
//! flytekit, `kubernetes-validate` and botocore come from `.ci/setup.d/20-flytekit.sh` and
//! `30-cloud.sh` (`MAPTASK_FLYTEKIT_PYTHON`, `MAPTASK_KUBERNETES_VALIDATE`,
//! `MAPTASK_BOTOCORE_PYTHON`); without them those checks skip loudly, and fail under
//! `MAPTASK_CI=1`.

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use assert_cmd::Command;
use maptask::flyte::prost::Message;
use maptask::flyte::proto::admin::{LaunchPlan, TaskSpec, WorkflowSpec};
use maptask::flyte::serialize::files::Package;
use maptask::flyte::serialize::workflow::workflow_template;
use maptask::flyte::serialize::{task_template, Settings};
use maptask::prelude::*;
use predicates::prelude::*;

// The demo's tasks and workflow, as this test's library build of them: the binary's files
// must equal what the library serializes for the same definitions.

#[task(name = "demo.scale")]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[task(name = "demo.total")]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[workflow(name = "demo.scale_sum")]
fn scale_sum(xs: Vec<i64>, factor: i64) -> i64 {
    let scaled = map_task!(scale, concurrency = 2, factor = factor)(x = xs);
    total(scaled)
}

fn demo() -> Command {
    let mut command = Command::cargo_bin("maptask-demo").unwrap();
    command.env_remove("RUST_LOG");
    command
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "maptask-cli-serialize-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ci() -> bool {
    std::env::var("MAPTASK_CI").as_deref() == Ok("1")
}

/// The tool in `var`, or `None` after a loud skip (a failure under `MAPTASK_CI=1`).
fn tool(var: &str, script: &str) -> Option<PathBuf> {
    match std::env::var(var) {
        Ok(path) if Path::new(&path).exists() => Some(PathBuf::from(path)),
        _ if ci() => panic!("MAPTASK_CI=1 but {var} is not set to an installed tool ({script})"),
        _ => {
            eprintln!("\n*** SKIPPED: {var} is not set; run `source {script}` first ***\n");
            None
        }
    }
}

fn settings() -> Settings {
    Settings {
        image: "ghcr.io/me/demo:v1".into(),
        binary: "/usr/local/bin/app".into(),
        ..Settings::default()
    }
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// Runs `checker` over `files`; it must succeed and report `<file> <verdict>` for each file.
/// Returns its stdout and stderr, for further checks.
fn check_each(mut checker: StdCommand, files: &[PathBuf], verdict: &str) -> String {
    let output = checker.args(files).output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{checker:?} failed:\n{report}");
    for file in files {
        assert!(
            report.contains(&format!("{} {verdict}", file.display())),
            "{report}"
        );
    }
    report
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn flyte_files_of_a_workflow_equal_the_librarys() {
    let scratch = Scratch::new("flyte-wf");
    let out = scratch.0.join("flyte-out");
    let assert = demo()
        .args([
            "serialize",
            "demo.scale_sum",
            "--target",
            "flyte",
            "--image",
            "ghcr.io/me/demo:v1",
            "--binary",
            "/usr/local/bin/app",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success()
        .stderr("");
    let listed = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let files = sorted_files(&out);
    assert_eq!(
        listed.lines().map(PathBuf::from).collect::<Vec<_>>(),
        files,
        "stdout lists every written file, in order"
    );
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "00_demo.map_scale_742f32c65ffd18b766fa307f8de2d47d_1.pb",
            "01_demo.total_1.pb",
            "02_demo.scale_sum_2.pb",
            "03_demo.scale_sum_3.pb"
        ]
    );

    // The library, on the same definitions, writes the same bytes.
    let def = maptask::flyte::workflow_def::<scale_sum>().unwrap();
    let (template, tasks) = workflow_template(&def, &settings()).unwrap();
    let mut package = Package::new();
    package.add_workflow(template.clone(), tasks);
    for ((name, bytes), path) in package.files().iter().zip(&files) {
        assert_eq!(&path.file_name().unwrap().to_string_lossy(), name);
        assert_eq!(&read(path), bytes, "{name}");
    }
    // And they decode: a map task, a task, the workflow, its launch plan.
    let map = TaskSpec::decode(read(&files[0]).as_slice()).unwrap();
    assert_eq!(map.template.unwrap().r#type, "container_array");
    let wf = WorkflowSpec::decode(read(&files[2]).as_slice()).unwrap();
    assert_eq!(wf.template.unwrap(), template);
    let lp = LaunchPlan::decode(read(&files[3]).as_slice()).unwrap();
    assert_eq!(lp.id.unwrap().name, "demo.scale_sum");
}

#[test]
fn flyte_files_of_every_entity_and_flytekit_parses_them() {
    let scratch = Scratch::new("flyte-all");
    let out = scratch.0.join("all");
    demo()
        .args([
            "serialize",
            "--target",
            "flyte",
            "--project",
            "flytesnacks",
            "--domain",
            "development",
            "--version",
            "v1",
            "--image",
            "ghcr.io/me/demo:v1",
            "--binary",
            "/usr/local/bin/app",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let files = sorted_files(&out);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy()[3..].to_owned())
        .collect();
    // Every task, then each workflow's map tasks, the workflow and its launch plan.
    assert!(
        names.starts_with(&["demo.flaky_1.pb".to_owned()]),
        "{names:?}"
    );
    assert!(names.contains(&"demo.scale_sum_2.pb".to_owned()));
    assert!(names.contains(&"demo.render_all_3.pb".to_owned()));
    // The plain `demo.scale` template is the library's for the same task, ids filled in.
    let scale_file = files
        .iter()
        .find(|p| p.to_string_lossy().ends_with("_demo.scale_1.pb"))
        .unwrap();
    let theirs = TaskSpec::decode(read(scale_file).as_slice()).unwrap();
    let ours = task_template(
        &maptask::flyte::task_def::<scale>(),
        &Settings {
            project: "flytesnacks".into(),
            domain: "development".into(),
            version: "v1".into(),
            ..settings()
        },
    )
    .unwrap();
    assert_eq!(theirs.template.unwrap(), ours);

    let python = match flytekit_python() {
        Ok(python) => python,
        Err(why) if ci() => panic!("MAPTASK_CI=1 and {why}"),
        Err(why) => {
            eprintln!("\n*** SKIPPED flytekit's parse of the serialized files: {why} ***\n");
            return;
        }
    };
    let mut parse = StdCommand::new(python);
    parse.args(["-c", FLYTEKIT_PARSE]);
    let report = check_each(parse, &files, "parsed");
    assert!(
        report.contains("demo.scale_sum: nodes scaled,n1"),
        "{report}"
    );
}

/// flytekit's own models read each file, by kind.
const FLYTEKIT_PARSE: &str = r#"
import sys
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flytekit.models.admin.workflow import WorkflowSpec
from flytekit.models.launch_plan import LaunchPlan
from flytekit.models.task import TaskSpec

for path in sys.argv[1:]:
    data = open(path, "rb").read()
    if path.endswith("_1.pb"):
        idl = task_pb2.TaskSpec()
        idl.ParseFromString(data)
        spec = TaskSpec.from_flyte_idl(idl)
        assert spec.template.id.name, path
    elif path.endswith("_2.pb"):
        idl = workflow_pb2.WorkflowSpec()
        idl.ParseFromString(data)
        spec = WorkflowSpec.from_flyte_idl(idl)
        nodes = ",".join(n.id for n in spec.template.nodes)
        print(f"{spec.template.id.name}: nodes {nodes}")
    else:
        idl = launch_plan_pb2.LaunchPlan()
        idl.ParseFromString(data)
        plan = LaunchPlan.from_flyte_idl(idl)
        assert plan.spec.workflow_id.name, path
    print(f"{path} parsed")
"#;

fn flytekit_python() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("MAPTASK_FLYTEKIT_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => {
            let ci_dir = std::env::var_os("MAPTASK_CI_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ci"),
                PathBuf::from,
            );
            vec![ci_dir.join("flytekit-venv/bin/python")]
        }
    };
    for python in &candidates {
        let ok = StdCommand::new(python)
            .args(["-c", "import flytekit"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Ok(python.clone());
        }
    }
    Err(format!(
        "no python with flytekit at {candidates:?}; run `source .ci/setup.d/20-flytekit.sh`"
    ))
}

fn k8s_args(out: &Path) -> Vec<String> {
    [
        "serialize",
        "demo.scale_sum",
        "--target",
        "k8s",
        "--image",
        "ghcr.io/me/demo:v1",
        "--binary",
        "/usr/local/bin/app",
        "--run-uri",
        "s3://my-bucket/runs/r1/",
        "--size",
        "5",
        "--k8s-secret",
        "maptask-s3",
        "--namespace",
        "maps",
        "--out",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([out.display().to_string()])
    .collect()
}

#[test]
fn k8s_manifests_of_each_map_node_pass_the_official_schema() {
    let scratch = Scratch::new("k8s");
    let out = scratch.0.join("k8s");
    demo().args(k8s_args(&out)).assert().success();
    let files = sorted_files(&out);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["scaled.collect.json", "scaled.job.json"]);
    let job: serde_json::Value = serde_json::from_slice(&read(&files[1])).unwrap();
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["metadata"]["namespace"], "maps");
    assert_eq!(job["spec"]["completions"], 5);
    assert_eq!(job["spec"]["parallelism"], 2, "the map's concurrency");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "ghcr.io/me/demo:v1");
    let command: Vec<String> = container["command"]
        .as_array()
        .into_iter()
        .chain(container["args"].as_array())
        .flatten()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(
        command.contains(&"s3://my-bucket/runs/r1/scaled/inputs.pb".to_owned()),
        "{command:?}"
    );
    assert!(command.contains(&"demo.scale".to_owned()), "{command:?}");
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"], "maptask-s3",
        "credentials by reference"
    );

    let Some(validate) = tool("MAPTASK_KUBERNETES_VALIDATE", ".ci/setup.d/30-cloud.sh") else {
        return;
    };
    let mut validate = StdCommand::new(validate);
    validate.args(["--strict", "-k", "1.37.0", "--no-warn"]);
    check_each(validate, &files, "passed");
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

#[test]
fn batch_requests_of_each_map_node_pass_botocore_validation() {
    let scratch = Scratch::new("batch");
    let out = scratch.0.join("batch");
    demo()
        .args([
            "serialize",
            "demo.scale_sum",
            "--target",
            "batch",
            "--image",
            "ghcr.io/me/demo:v1",
            "--run-uri",
            "s3://my-bucket/runs/r2",
            "--size",
            "scaled=40",
            "--job-queue",
            "maptask",
            "--job-role-arn",
            "arn:aws:iam::123456789012:role/maptask",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let files = sorted_files(&out);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "scaled.collect.json",
            "scaled.jobdef.json",
            "scaled.submit.json"
        ]
    );
    let submit: serde_json::Value = serde_json::from_slice(&read(&files[2])).unwrap();
    assert_eq!(submit["arrayProperties"]["size"], 40);
    assert_eq!(submit["jobQueue"], "maptask");
    let jobdef: serde_json::Value = serde_json::from_slice(&read(&files[1])).unwrap();
    assert_eq!(jobdef["containerProperties"]["image"], "ghcr.io/me/demo:v1");
    assert_eq!(
        jobdef["containerProperties"]["jobRoleArn"],
        "arn:aws:iam::123456789012:role/maptask"
    );
    // Without --binary, the program's own name under /usr/local/bin.
    let command = submit["containerOverrides"]["command"].to_string();
    assert!(command.contains("/usr/local/bin/maptask-demo"), "{command}");
    assert!(
        command.contains("s3://my-bucket/runs/r2/scaled/inputs.pb"),
        "{command}"
    );

    let Some(python) = tool("MAPTASK_BOTOCORE_PYTHON", ".ci/setup.d/30-cloud.sh") else {
        return;
    };
    let output = StdCommand::new(python)
        .args(["-c", BOTOCORE_CHECK])
        .arg("SubmitJob")
        .arg(&files[0])
        .arg("RegisterJobDefinition")
        .arg(&files[1])
        .arg("SubmitJob")
        .arg(&files[2])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{report}");
    assert_eq!(report.matches(" passed").count(), 3, "{report}");
}

/// Runs `serialize` with `args` and expects exit 2 with `message` on stderr and no `out`.
fn fails(args: &[&str], out: &Path, message: &str) {
    demo()
        .arg("serialize")
        .args(args)
        .arg("--out")
        .arg(out)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(message));
    assert!(!out.exists(), "{} was written", out.display());
}

#[test]
fn bad_input_exits_2_naming_it_and_writes_nothing() {
    let scratch = Scratch::new("bad");
    let out = scratch.0.join("out");
    let image = ["--image", "i"];
    fails(
        &[&["--target", "nomad"][..], &image].concat(),
        &out,
        "invalid value 'nomad' for '--target <TARGET>'",
    );
    fails(
        &[&["demo.nope", "--target", "flyte"][..], &image].concat(),
        &out,
        "error: no task or workflow named `demo.nope` in this binary; known: `demo.flaky`",
    );
    fails(
        &[
            &[
                "demo.nope",
                "--target",
                "k8s",
                "--run-uri",
                "s3://b/r",
                "--size",
                "3",
            ][..],
            &image,
        ]
        .concat(),
        &out,
        "error: no task or workflow named `demo.nope`",
    );
    fails(
        &[
            &[
                "demo.scale",
                "--target",
                "k8s",
                "--run-uri",
                "s3://b/r",
                "--size",
                "3",
            ][..],
            &image,
        ]
        .concat(),
        &out,
        "error: `demo.scale` is a task, not a workflow",
    );
    fails(
        &[
            &["demo.scale_sum", "--target", "k8s", "--size", "3"][..],
            &image,
        ]
        .concat(),
        &out,
        "error: `--target k8s` needs `--run-uri s3://bucket/prefix`",
    );
    fails(
        &[
            &["demo.scale_sum", "--target", "k8s", "--run-uri", "s3://b/r"][..],
            &image,
        ]
        .concat(),
        &out,
        "error: map node `scaled` needs its number of elements: `--size scaled=N`",
    );
    fails(
        &[
            &[
                "demo.scale_sum",
                "--target",
                "k8s",
                "--run-uri",
                "s3://b/r",
                "--size",
                "nodes=3",
            ][..],
            &image,
        ]
        .concat(),
        &out,
        "error: `--size nodes=3`: the workflow has no map node `nodes`; its map nodes are `scaled`",
    );
    fails(
        &[
            &[
                "demo.scale_sum",
                "--target",
                "batch",
                "--run-uri",
                "s3://b/r",
                "--size",
                "3",
            ][..],
            &image,
        ]
        .concat(),
        &out,
        "error: `--target batch` needs `--job-queue QUEUE`",
    );
    // Over a target's limit: named by the map and the limit.
    fails(
        &[&["demo.scale_sum", "--target", "batch", "--job-queue", "q", "--run-uri", "s3://b/r", "--size", "10001"][..], &image].concat(),
        &out,
        "error: cannot serialize: node `scaled`: map `demo.scale.map[factor]`: the number of elements (arrayProperties.size) is 10001, but AWS Batch allows at most 10000",
    );
    // An output directory that cannot be created: under a regular file.
    let file = scratch.0.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let under_file = file.join("out");
    demo()
        .args(["serialize", "--target", "flyte", "--image", "i", "--out"])
        .arg(&under_file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "error: cannot write into {}",
            file.display()
        )));
    assert_eq!(sorted_files(&scratch.0), vec![file], "nothing else written");
}

#[test]
fn an_existing_out_directory_keeps_its_files_and_gets_the_new_ones() {
    let scratch = Scratch::new("existing");
    let out = scratch.0.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"mine").unwrap();
    demo()
        .args([
            "serialize",
            "demo.total",
            "--target",
            "flyte",
            "--image",
            "i",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let names: Vec<String> = sorted_files(&out)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["00_demo.total_1.pb", "keep.txt"]);
    // No temporary directory is left beside it.
    assert_eq!(sorted_files(&scratch.0), vec![out]);
}
