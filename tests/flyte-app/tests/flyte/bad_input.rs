//! Bad input: each case names what is wrong, exits non-zero and writes no `outputs.pb`. Where
//! the index and the output prefix are known, an `error.pb` records the same message for Flyte.
//! An index past the end is the element's own failure: `error.pb` and exit 0, as flytekit.

use std::collections::BTreeMap;

use maptask_flyte::proto::core::{
    container_error, execution_error, literal, primitive, scalar, Literal, LiteralCollection,
    LiteralMap, Primitive, Scalar,
};
use prost::Message;

use crate::common::*;

/// Runs `task` at index 0 on `inputs`, with `vars` bound; returns (exit code, stderr, files).
fn run_case(inputs: &[u8], vars: &str, task: &str, env: BTreeMap<String, String>) -> Case {
    let scratch = Scratch::new("bad");
    std::fs::write(scratch.join("inputs.pb"), inputs).unwrap();
    let args = map_args(&scratch.s("inputs.pb"), &scratch.s("out"), vars, task);
    let output = run(&args, &env, scratch.path());
    let mut files = scratch.files();
    files.retain(|f| f != "inputs.pb");
    let error = files
        .iter()
        .any(|f| f == "out/0/error.pb")
        .then(|| error_document(&std::fs::read(scratch.join("out/0/error.pb")).unwrap()));
    Case {
        code: output.status.code().unwrap(),
        stderr: stderr(&output),
        files,
        error: error.and_then(|d| d.error),
    }
}

struct Case {
    code: i32,
    stderr: String,
    files: Vec<String>,
    error: Option<maptask_flyte::proto::core::ContainerError>,
}

impl Case {
    /// Exit 3 (NON_RECOVERABLE), only `error.pb`, with `code` and a message containing
    /// `message`, on stderr too.
    fn assert_failed(&self, code: &str, message: &str) {
        assert_eq!(self.code, 3, "{}", self.stderr);
        assert_eq!(self.files, ["out/0/error.pb"]);
        let error = self.error.as_ref().unwrap();
        assert_eq!(error.code, code);
        assert!(error.message.contains(message), "{}", error.message);
        assert!(self.stderr.contains(message), "{}", self.stderr);
        assert_eq!(error.kind, container_error::Kind::NonRecoverable as i32);
    }
}

fn int_literal(v: i64) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Primitive(Primitive {
                value: Some(primitive::Value::Integer(v)),
            })),
        }))),
        ..Literal::default()
    }
}

fn string_literal(v: &str) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Primitive(Primitive {
                value: Some(primitive::Value::StringValue(v.to_owned())),
            })),
        }))),
        ..Literal::default()
    }
}

fn collection(literals: Vec<Literal>) -> Literal {
    Literal {
        value: Some(literal::Value::Collection(LiteralCollection { literals })),
        ..Literal::default()
    }
}

fn inputs(pairs: Vec<(&str, Literal)>) -> Vec<u8> {
    LiteralMap {
        literals: pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    }
    .encode_to_vec()
}

const MAPPABLE: &str = "app.wf.my_mappable_task";

#[test]
fn truncated_or_non_protobuf_inputs() {
    let whole = fixture("inputs/my_mappable_task.inputs.pb");
    let case = run_case(&whole[..whole.len() / 2], "", MAPPABLE, k8s_env(0));
    case.assert_failed("SYSTEM:CorruptInputs", "is not a flyteidl.core.LiteralMap");
    assert_eq!(
        case.error.unwrap().origin,
        execution_error::ErrorKind::System as i32
    );
    let case = run_case(b"hello, world\n", "", MAPPABLE, k8s_env(0));
    case.assert_failed(
        "SYSTEM:CorruptInputs",
        "is not a flyteidl.core.LiteralMap (13 bytes)",
    );
}

#[test]
fn a_missing_input_variable() {
    let case = run_case(
        &inputs(vec![("x", collection(vec![int_literal(1)]))]),
        "",
        MAPPABLE,
        k8s_env(0),
    );
    case.assert_failed(
        "USER:BadInputs",
        "the inputs do not fit task `app.wf.my_mappable_task`: inputs.pb has no input `a`; it has `x`",
    );
}

#[test]
fn a_literal_of_the_wrong_type() {
    let case = run_case(
        &inputs(vec![("a", collection(vec![string_literal("one")]))]),
        "",
        MAPPABLE,
        k8s_env(0),
    );
    case.assert_failed(
        "USER:BadInputs",
        "the inputs do not fit task `app.wf.my_mappable_task`: input `a`: ",
    );
    let case = run_case(
        &inputs(vec![("a", int_literal(1))]),
        "",
        MAPPABLE,
        k8s_env(0),
    );
    case.assert_failed(
        "USER:BadInputs",
        "input `a` is mapped, so it must be a collection literal, but it is a scalar",
    );
}

#[test]
fn mapped_inputs_of_different_lengths_and_unknown_bound_names() {
    let scale = inputs(vec![
        ("x", collection(vec![int_literal(1), int_literal(2)])),
        ("factor", collection(vec![int_literal(1)])),
    ]);
    run_case(&scale, "", "app.wf.scale", k8s_env(0)).assert_failed(
        "USER:BadInputs",
        "mapped inputs have different lengths: `x` has 2, `factor` has 1",
    );
    run_case(&scale, "factor,nope", "app.wf.scale", k8s_env(0)).assert_failed(
        "USER:BadInputs",
        "`vars` binds `nope`, which is not a parameter of task `app.wf.scale`; its parameters are `x`, `factor`",
    );
    run_case(&scale, "factor,x", "app.wf.scale", k8s_env(0)).assert_failed(
        "USER:BadInputs",
        "every parameter of task `app.wf.scale` is bound; a map needs at least one mapped input",
    );
}

#[test]
fn an_index_variable_missing_or_not_a_number() {
    let good = fixture("inputs/my_mappable_task.inputs.pb");
    let env = BTreeMap::from([(
        "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_owned(),
        "FLYTE_K8S_ARRAY_INDEX".to_owned(),
    )]);
    let case = run_case(&good, "", MAPPABLE, env);
    assert_eq!(case.code, 1);
    assert!(case.files.is_empty());
    assert!(
        case.stderr.contains(
            "BATCH_JOB_ARRAY_INDEX_VAR_NAME=FLYTE_K8S_ARRAY_INDEX, but `FLYTE_K8S_ARRAY_INDEX` is not set"
        ),
        "{}",
        case.stderr
    );
    let mut env = k8s_env(0);
    env.insert("FLYTE_K8S_ARRAY_INDEX".into(), "two".into());
    let case = run_case(&good, "", MAPPABLE, env);
    assert_eq!(case.code, 1);
    assert!(case.files.is_empty());
    assert!(
        case.stderr
            .contains("`FLYTE_K8S_ARRAY_INDEX` must be a non-negative integer, got `two`"),
        "{}",
        case.stderr
    );
}

#[test]
fn an_index_past_the_end_is_the_elements_own_failure() {
    let scratch = Scratch::new("past-end");
    std::fs::write(
        scratch.join("inputs.pb"),
        fixture("inputs/my_mappable_task.inputs.pb"),
    )
    .unwrap();
    let args = map_args(&scratch.s("inputs.pb"), &scratch.s("out"), "", MAPPABLE);
    let output = run(&args, &k8s_env(7), scratch.path());
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(scratch.files(), ["inputs.pb", "out/7/error.pb"]);
    let error = error_document(&std::fs::read(scratch.join("out/7/error.pb")).unwrap())
        .error
        .unwrap();
    assert_eq!(error.code, "USER:IndexError");
    assert_eq!(
        error.message,
        "index 7 is past the end of the mapped inputs of task `app.wf.my_mappable_task`, which have 3 elements"
    );
}

#[test]
fn an_unknown_task_name() {
    let good = fixture("inputs/my_mappable_task.inputs.pb");
    let case = run_case(&good, "", "app.wf.nope", k8s_env(0));
    case.assert_failed(
        "USER:UnknownTask",
        "no task named `app.wf.nope` is linked into this binary; registered: `app.wf.my_flaky_plain_task`, `app.wf.my_flaky_task`, `app.wf.my_mappable_task`, `app.wf.scale`, ",
    );
}

#[test]
fn missing_inputs_file() {
    let scratch = Scratch::new("no-inputs");
    let args = map_args(&scratch.s("nope.pb"), &scratch.s("out"), "", MAPPABLE);
    let output = run(&args, &k8s_env(0), scratch.path());
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(scratch.files(), ["out/0/error.pb"]);
    let error = error_document(&std::fs::read(scratch.join("out/0/error.pb")).unwrap())
        .error
        .unwrap();
    assert_eq!(error.code, "SYSTEM:InputsUnreadable");
    assert_eq!(
        error.message,
        format!(
            "cannot read the inputs: no object at file://{}",
            scratch.s("nope.pb")
        )
    );
}

#[test]
fn an_unwritable_output_prefix() {
    let scratch = Scratch::new("unwritable");
    std::fs::write(
        scratch.join("inputs.pb"),
        fixture("inputs/my_mappable_task.inputs.pb"),
    )
    .unwrap();
    // A regular file where the prefix's directory should be.
    std::fs::write(scratch.join("out"), b"").unwrap();
    let args = map_args(&scratch.s("inputs.pb"), &scratch.s("out"), "", MAPPABLE);
    let output = run(&args, &k8s_env(0), scratch.path());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(scratch.files(), ["inputs.pb", "out"]);
    assert!(
        stderr(&output).contains(&format!(
            "error: the task succeeded, but cannot create the directory {}/0: ",
            scratch.s("out")
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn malformed_arguments_exit_2() {
    let output = run(
        &["map-execute".to_owned(), "--inputs".to_owned()],
        &BTreeMap::new(),
        &std::env::temp_dir(),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).starts_with("error: `--inputs` needs a value\nusage: "));
}
