//! How an element's failure is recorded: panics and permanent errors are NON_RECOVERABLE,
//! timeouts and other errors RECOVERABLE (flytekit makes every user error NON_RECOVERABLE);
//! retries and timeouts are the task's own. And `execute`, the entrypoint of a plain task.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use maptask_flyte::proto::core::{
    container_error, literal, primitive, scalar, Literal, LiteralCollection, LiteralMap, Primitive,
    Scalar,
};
use prost::Message;

use crate::common::*;

fn int(v: i64) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::Primitive(Primitive {
                value: Some(primitive::Value::Integer(v)),
            })),
        }))),
        ..Literal::default()
    }
}

fn ints(vs: &[i64]) -> Literal {
    Literal {
        value: Some(literal::Value::Collection(LiteralCollection {
            literals: vs.iter().map(|&v| int(v)).collect(),
        })),
        ..Literal::default()
    }
}

fn write_inputs(scratch: &Scratch, pairs: Vec<(&str, Literal)>) -> String {
    let map = LiteralMap {
        literals: pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    };
    std::fs::write(scratch.join("inputs.pb"), map.encode_to_vec()).unwrap();
    scratch.s("inputs.pb")
}

#[test]
fn a_panic_is_non_recoverable_and_fail_on_error_exits_1() {
    let scratch = Scratch::new("panic");
    let inputs = write_inputs(&scratch, vec![("x", ints(&[0, 5]))]);
    let args = map_args(&inputs, &scratch.s("out"), "", "interop.panics");
    let output = run(&args, &k8s_env(1), scratch.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let error = error_document(&std::fs::read(scratch.join("out/1/error.pb")).unwrap())
        .error
        .unwrap();
    assert_eq!(error.code, "USER:Panic");
    assert_eq!(error.kind, container_error::Kind::NonRecoverable as i32);
    assert_eq!(
        error.message,
        "task `interop.panics` failed at index 1 after 1 attempt\n\nMessage:\n\n    panicked: x = 5 is positive"
    );

    let mut env = k8s_env(1);
    env.insert("FLYTE_FAIL_ON_ERROR".into(), "True".into());
    std::fs::remove_dir_all(scratch.join("out")).unwrap();
    let output = run(&args, &env, scratch.path());
    // NON_RECOVERABLE: 3, which Kubernetes and AWS Batch do not retry (flytekit exits 1).
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(scratch.files(), ["inputs.pb", "out/1/error.pb"]);

    // Index 0 succeeds next to it.
    let output = run(&args, &k8s_env(0), scratch.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let outputs = literal_map(&std::fs::read(scratch.join("out/0/outputs.pb")).unwrap());
    assert_eq!(outputs.literals["o0"], int(0));
}

#[test]
fn a_timeout_is_recoverable_after_the_tasks_own_retries() {
    let scratch = Scratch::new("timeout");
    let inputs = write_inputs(&scratch, vec![("x", ints(&[1]))]);
    let args = map_args(&inputs, &scratch.s("out"), "", "interop.sleepy");
    let started = Instant::now();
    let output = run(&args, &BTreeMap::new(), scratch.path());
    // retries = 1, timeout = 50ms: two attempts, well under the 30 s the task sleeps.
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let error = error_document(&std::fs::read(scratch.join("out/0/error.pb")).unwrap())
        .error
        .unwrap();
    assert_eq!(error.code, "USER:Timeout");
    assert_eq!(error.kind, container_error::Kind::Recoverable as i32);
    assert_eq!(
        error.message,
        "task `interop.sleepy` failed at index 0 after 2 attempts\n\nAttempts:\n\n    1: timed out after 50ms\n    2: timed out after 50ms\n\nMessage:\n\n    timed out after 50ms"
    );
    // RECOVERABLE: 1 under FLYTE_FAIL_ON_ERROR, so that Kubernetes and AWS Batch retry it.
    std::fs::remove_dir_all(scratch.join("out")).unwrap();
    let env = BTreeMap::from([("FLYTE_FAIL_ON_ERROR".to_owned(), "true".to_owned())]);
    let output = run(&args, &env, scratch.path());
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(scratch.files(), ["inputs.pb", "out/0/error.pb"]);
}

#[test]
fn execute_runs_a_plain_task_once_at_the_prefix() {
    let scratch = Scratch::new("execute");
    let inputs = write_inputs(&scratch, vec![("x", int(3)), ("factor", int(10))]);
    let args: Vec<String> = [
        "execute",
        "--inputs",
        &inputs,
        "--output-prefix",
        &scratch.s("out"),
        "--resolver",
        "maptask",
        "--",
        "task-name",
        "app.wf.scale",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    // An array index in the environment does not matter to a plain task.
    let output = run(&args, &k8s_env(5), scratch.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(scratch.files(), ["inputs.pb", "out/outputs.pb"]);
    // 3 × 10, byte for byte what flytekit wrote for element x = 3 of the scale fixture.
    assert_eq!(
        std::fs::read(scratch.join("out/outputs.pb")).unwrap(),
        fixture("runs/scale/out/2/outputs.pb")
    );
}
