//! Every run of flytekit's `pyflyte-map-execute` recorded in `runs/runs.json`, repeated with this
//! binary under the same environment: the same exit code, the same files created under the run
//! directory, outputs equal (decoded) to flytekit's, and error documents with code, kind, origin
//! and time set. Then the aggregate, assembled by the collector, equals the k8s-array plugin's.

use std::collections::BTreeMap;

use maptask_flyte::collect::{self, CollectError};
use maptask_flyte::proto::core::{container_error, execution_error};
use serde_json::Value;

use crate::common::*;

/// The fixture tasks: flytekit's name, and the bound names.
const TASKS: [(&str, &str); 4] = [
    ("my_mappable_task", ""),
    ("scale", "factor"),
    ("my_flaky_task", ""),
    ("my_flaky_plain_task", ""),
];

struct FixtureRun {
    label: String,
    argv: Vec<String>,
    env: BTreeMap<String, String>,
    returncode: i64,
    files: Vec<String>,
}

fn runs() -> Vec<FixtureRun> {
    let json: Value = serde_json::from_slice(&fixture("runs/runs.json")).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|run| FixtureRun {
            label: run["label"].as_str().unwrap().to_owned(),
            argv: run["argv"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            env: serde_json::from_value(run["env"].clone()).unwrap(),
            returncode: run["returncode"].as_i64().unwrap(),
            files: serde_json::from_value(run["files_created_under_root"].clone()).unwrap(),
        })
        .collect()
}

/// flytekit's argv with our binary's loader after `--resolver`, and `<root>` filled in.
fn our_argv(run: &FixtureRun, root: &str) -> (String, Vec<String>) {
    assert_eq!(run.argv[0], "pyflyte-map-execute");
    let resolver = run.argv.iter().position(|a| a == "--resolver").unwrap();
    let tail = &run.argv[resolver + 2..];
    assert_eq!(tail[0], "--");
    let value_of = |key: &str| {
        let i = tail.iter().position(|a| a == key).unwrap();
        tail[i + 1].clone()
    };
    let task = value_of("task-name");
    let mut args = vec!["map-execute".to_owned()];
    args.extend(
        run.argv[1..=resolver]
            .iter()
            .map(|a| a.replace("<root>", root)),
    );
    args.extend([
        "maptask".to_owned(),
        "--".to_owned(),
        "vars".to_owned(),
        value_of("vars"),
        "task-name".to_owned(),
        format!("app.wf.{task}"),
    ]);
    (task, args)
}

#[test]
fn every_fixture_run_writes_what_flytekit_wrote() {
    let runs = runs();
    assert_eq!(runs.len(), 20);
    for run in &runs {
        let scratch = Scratch::new(&run.label);
        let root = scratch.path().display().to_string();
        let (task, args) = our_argv(run, &root);
        std::fs::write(
            scratch.join("inputs.pb"),
            fixture(&format!("inputs/{task}.inputs.pb")),
        )
        .unwrap();
        let output = run_in(&args, &run.env, &scratch);
        let label = &run.label;
        // flytekit exits 1 for every failure under FLYTE_FAIL_ON_ERROR; we exit 3 for a
        // NON_RECOVERABLE one, so that Kubernetes and AWS Batch do not retry it.
        let expected_code = if label.ends_with("FLYTE_FAIL_ON_ERROR") {
            assert_eq!(run.returncode, 1);
            3
        } else {
            run.returncode
        };
        assert_eq!(
            i64::from(output.status.code().unwrap()),
            expected_code,
            "{label}: exit code; stderr: {}",
            stderr(&output)
        );
        let mut created = scratch.files();
        created.retain(|f| f != "inputs.pb");
        assert_eq!(created, run.files, "{label}: files created under the root");

        for file in &created {
            let ours = std::fs::read(scratch.join(file)).unwrap();
            // The fixture directory of the same task and index holds flytekit's file.
            let fixture_dir = if label.starts_with("index-out-of-range") {
                "my_mappable_task-index3".to_owned()
            } else {
                task.clone()
            };
            let theirs = fixture(&format!("runs/{fixture_dir}/{file}"));
            if file.ends_with("outputs.pb") {
                assert_eq!(literal_map(&ours), literal_map(&theirs), "{label}: {file}");
                assert_eq!(ours, theirs, "{label}: {file} bytes");
            } else {
                let ours = error_document(&ours).error.unwrap();
                let theirs = error_document(&theirs).error.unwrap();
                assert_eq!(ours.origin, theirs.origin, "{label}: origin");
                assert_eq!(ours.origin, execution_error::ErrorKind::User as i32);
                // Permanent failures, as flytekit's every failure is.
                assert_eq!(ours.kind, theirs.kind, "{label}: kind");
                assert_eq!(ours.kind, container_error::Kind::NonRecoverable as i32);
                assert!(ours.timestamp.is_some(), "{label}: timestamp");
                if label.starts_with("index-out-of-range") {
                    assert_eq!(ours.code, "USER:IndexError");
                    assert_eq!(
                        ours.message,
                        "index 3 is past the end of the mapped inputs of task `app.wf.my_mappable_task`, which have 3 elements"
                    );
                } else {
                    assert_eq!(ours.code, theirs.code, "{label}: code");
                    assert_eq!(
                        ours.message,
                        format!("task `app.wf.{task}` failed at index 1 after 1 attempt\n\nMessage:\n\n    element a=2 failed on purpose")
                    );
                }
            }
        }
    }
}

fn run_in(
    args: &[String],
    env: &BTreeMap<String, String>,
    scratch: &Scratch,
) -> std::process::Output {
    run(args, env, scratch.path())
}

#[test]
fn the_aggregate_equals_the_k8s_array_plugins() {
    for (task, vars) in TASKS {
        let scratch = Scratch::new(task);
        std::fs::write(
            scratch.join("inputs.pb"),
            fixture(&format!("inputs/{task}.inputs.pb")),
        )
        .unwrap();
        let out = scratch.s("out");
        let args = map_args(
            &scratch.s("inputs.pb"),
            &out,
            vars,
            &format!("app.wf.{task}"),
        );
        for i in 0..3 {
            let output = run(&args, &k8s_env(i), scratch.path());
            assert_eq!(
                output.status.code(),
                Some(0),
                "{task} {i}: {}",
                stderr(&output)
            );
        }
        // min_success_ratio: 0.75 and 1.0 need all 3, 0.5 needs 2.
        let ratio = match task {
            "my_mappable_task" => 0.75,
            "scale" => 1.0,
            _ => 0.5,
        };
        let min = collect::flyte_min_successes(ratio, 3);
        // The binary's `collect` writes the same aggregate as the library call below.
        let output = run(
            &[
                "collect".to_owned(),
                "--output-prefix".to_owned(),
                out.clone(),
                "--size".to_owned(),
                "3".to_owned(),
                "--min-successes".to_owned(),
                min.to_string(),
                "--task-name".to_owned(),
                format!("app.wf.{task}"),
            ],
            &BTreeMap::new(),
            scratch.path(),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let failed_count = usize::from(task.starts_with("my_flaky"));
        assert_eq!(
            stderr(&output).trim(),
            format!(
                "collected 3 elements of `app.wf.{task}`: {} succeeded, {failed_count} failed; wrote {out}/outputs.pb",
                3 - failed_count
            )
        );
        let by_binary = std::fs::read(scratch.join("out/outputs.pb")).unwrap();
        let collected = collect::collect(&out, 3, &["o0"], min).unwrap();
        assert_eq!(
            std::fs::read(scratch.join("out/outputs.pb")).unwrap(),
            by_binary
        );
        let ours = std::fs::read(scratch.join("out/outputs.pb")).unwrap();
        let theirs = fixture(&format!("aggregate/{task}.outputs_k8s_array.pb"));
        assert_eq!(literal_map(&ours), literal_map(&theirs), "{task}");
        assert_eq!(ours, theirs, "{task}: bytes");
        let failed: Vec<usize> = collected.failures.iter().map(|(i, _)| *i).collect();
        if task.starts_with("my_flaky") {
            assert_eq!(collected.succeeded, 2);
            assert_eq!(failed, [1]);
            assert!(
                collected.failures[0].1.starts_with(&format!(
                    "USER:RuntimeError: task `app.wf.{task}` failed at index 1"
                )),
                "{}",
                collected.failures[0].1
            );
            // The seed's 0.75 of 3 needs all 3: one failure fails the map, and nothing is
            // written.
            std::fs::remove_file(scratch.join("out/outputs.pb")).unwrap();
            let output = run(
                &[
                    "collect".to_owned(),
                    "--output-prefix".to_owned(),
                    out.clone(),
                    "--size".to_owned(),
                    "3".to_owned(),
                    "--min-successes".to_owned(),
                    "3".to_owned(),
                    "--task-name".to_owned(),
                    format!("app.wf.{task}"),
                ],
                &BTreeMap::new(),
                scratch.path(),
            );
            assert_eq!(output.status.code(), Some(1));
            assert!(
                stderr(&output).starts_with(&format!(
                    "error: map of `app.wf.{task}`: 2 of 3 elements succeeded, at least 3 had to; failed: [1] USER:RuntimeError"
                )),
                "{}",
                stderr(&output)
            );
            let error = collect::collect(&out, 3, &["o0"], 3).unwrap_err();
            assert!(matches!(
                error,
                CollectError::TooFewSuccesses {
                    succeeded: 2,
                    n: 3,
                    min_successes: 3,
                    ..
                }
            ));
            assert!(
                error.to_string().starts_with(&format!(
                    "2 of 3 elements succeeded, at least 3 had to; failed: [1] USER:RuntimeError: task `app.wf.{task}` failed at index 1"
                )),
                "{error}"
            );
            assert!(!scratch.join("out/outputs.pb").exists());
        } else {
            assert_eq!(collected.succeeded, 3);
            assert!(failed.is_empty());
        }
    }
}

#[test]
fn an_element_that_never_ran_is_a_failure_and_a_corrupt_one_an_error() {
    let scratch = Scratch::new("collect-missing");
    std::fs::write(
        scratch.join("inputs.pb"),
        fixture("inputs/my_mappable_task.inputs.pb"),
    )
    .unwrap();
    let out = scratch.s("out");
    let args = map_args(&scratch.s("inputs.pb"), &out, "", "app.wf.my_mappable_task");
    for i in [0, 2] {
        assert_eq!(
            run(&args, &k8s_env(i), scratch.path()).status.code(),
            Some(0)
        );
    }
    let collected = collect::collect(&out, 3, &["o0"], 2).unwrap();
    assert_eq!(
        collected.failures,
        [(
            1,
            "element 1 wrote neither outputs.pb nor error.pb".to_owned()
        )]
    );
    let outputs = literal_map(&std::fs::read(scratch.join("out/outputs.pb")).unwrap());
    let column = match &outputs.literals["o0"].value {
        Some(maptask_flyte::proto::core::literal::Value::Collection(c)) => &c.literals,
        other => panic!("{other:?}"),
    };
    assert_eq!(column[1], collect::nil_literal());

    // A successful element without the output variable, and a corrupt file, are errors.
    let error = collect::collect(&out, 3, &["o1"], 0).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("`{out}/0/outputs.pb` has no output `o1`; it has o0")
    );
    std::fs::write(scratch.join("out/2/outputs.pb"), b"\xff\xff").unwrap();
    let error = collect::collect(&out, 3, &["o0"], 0).unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "`{out}/2/outputs.pb` is not a flyteidl.core.LiteralMap: "
        )),
        "{error}"
    );
}
