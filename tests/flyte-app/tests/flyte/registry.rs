//! The registry: every `#[task]` and `#[workflow]` linked into a binary is found by name, and a
//! portable one runs from serialized inputs with its own retries and timeout.

use std::error::Error;
use std::sync::atomic::{AtomicU32, Ordering};

use maptask::prelude::*;
use maptask::registry::{self, erased_serde, DecodeError, InputSource, RegistryError};
use maptask::Param;

/// Multiplies.
#[task(name = "reg.scale")]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

#[task(name = "reg.flaky", retries = 2)]
async fn flaky(x: i64) -> Result<String, TaskError> {
    if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
        return Err(TaskError::msg("not yet"));
    }
    Ok(format!("x={x}"))
}

#[task(name = "reg.doomed", retries = 3)]
fn doomed(x: i64) -> Result<i64, TaskError> {
    Err(TaskError::permanent_msg(format!("no {x}")))
}

#[task(name = "reg.slow", retries = 1, timeout = "50ms")]
async fn slow(x: i64) -> i64 {
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    x
}

#[task(name = "reg.nothing")]
fn nothing() -> Vec<u8> {
    vec![1, 2]
}

/// A `Clone` input that is not a serde type.
#[derive(Clone)]
pub struct Opaque(i64);

impl maptask::Describe for Opaque {
    fn type_desc() -> maptask::TypeDesc {
        maptask::TypeDesc::Opaque {
            name: "Opaque".into(),
        }
    }
}

/// An output that is not `Serialize`.
pub struct Unserializable;

impl maptask::Describe for Unserializable {
    fn type_desc() -> maptask::TypeDesc {
        maptask::TypeDesc::Opaque {
            name: "Unserializable".into(),
        }
    }
}

#[task(name = "reg.opaque_output")]
fn opaque_output(x: i64) -> Unserializable {
    let _ = x;
    Unserializable
}

#[workflow(name = "reg.wf")]
fn wf(x: i64) -> i64 {
    scale(x = x, factor = 3)
}

/// Inputs from a JSON object keyed by parameter name.
struct Json(serde_json::Value);

impl InputSource for Json {
    fn deserialize_param(
        &mut self,
        param: &Param,
        sink: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), Box<dyn Error + Send + Sync>> {
        let value = self
            .0
            .get(param.name)
            .ok_or_else(|| format!("missing from {}", self.0))?;
        let mut de = <dyn erased_serde::Deserializer>::erase(value.clone());
        sink(&mut de)?;
        Ok(())
    }
}

async fn run_json(name: &str, inputs: serde_json::Value) -> Result<serde_json::Value, String> {
    let entry = registry::find(name).map_err(|e| e.to_string())?;
    let decoded = entry.decode(&mut Json(inputs)).map_err(|e| e.to_string())?;
    let output = entry
        .run(decoded, &Runtime::default(), Default::default())
        .await
        .map_err(|f| {
            format!(
                "{} attempts: {}",
                f.attempts,
                f.last_error().map_or("", |e| e.message())
            )
        })?;
    Ok(serde_json::to_value(&*output).unwrap())
}

#[test]
fn every_task_and_workflow_is_listed_with_its_interface() {
    let names = registry::names();
    for name in [
        "reg.scale",
        "reg.flaky",
        "reg.doomed",
        "reg.slow",
        "reg.nothing",
        "reg.opaque_output",
        "reg.wf",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let entry = registry::find("reg.scale").unwrap();
    assert_eq!(entry.interface.input_names(), ["x", "factor"]);
    assert_eq!(entry.doc, "Multiplies.");
    assert!(!entry.is_workflow);
    assert!(registry::find("reg.wf").unwrap().is_workflow);
    assert_eq!(registry::find("reg.flaky").unwrap().metadata.retries, 2);
    let listed: Vec<&str> = registry::entries().iter().map(|e| e.name).collect();
    assert_eq!(listed, names);
}

#[test]
fn an_unknown_name_lists_the_known_ones() {
    let error = registry::find("reg.nope").unwrap_err();
    assert!(matches!(error, RegistryError::Unknown { .. }));
    let message = error.to_string();
    assert!(
        message.starts_with("no task named `reg.nope` is linked into this binary; registered: "),
        "{message}"
    );
    assert!(message.contains("`reg.scale`"), "{message}");
}

#[test]
fn a_task_with_non_serde_types_registers_as_not_portable() {
    let entry = registry::find("reg.opaque_output").unwrap();
    assert_eq!(
        entry.not_portable_reason(),
        Some("its output `Unserializable` is not `serde::Serialize`")
    );
    let error = entry
        .decode(&mut Json(serde_json::json!({"x": 1})))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "task `reg.opaque_output` cannot run from serialized inputs: its output `Unserializable` is not `serde::Serialize`"
    );
    assert!(registry::find("reg.scale")
        .unwrap()
        .not_portable_reason()
        .is_none());
}

#[test]
fn a_task_with_a_non_serde_input_names_its_input_types() {
    #[task(name = "reg.opaque_input")]
    fn opaque_input(o: Opaque, n: i64) -> i64 {
        o.0 + n
    }
    assert_eq!(opaque_input(Opaque(1), 2), 3);
    let entry = registry::find("reg.opaque_input").unwrap();
    assert_eq!(
        entry.not_portable_reason(),
        Some("its inputs (Opaque, i64) are not all `serde::de::DeserializeOwned + Clone`")
    );
}

#[tokio::test]
async fn a_portable_task_runs_from_serialized_inputs() {
    assert_eq!(
        run_json("reg.scale", serde_json::json!({"x": 4, "factor": 10})).await,
        Ok(serde_json::json!(40))
    );
    assert_eq!(
        run_json("reg.nothing", serde_json::json!({})).await,
        Ok(serde_json::json!([1, 2]))
    );
    assert_eq!(
        run_json("reg.wf", serde_json::json!({"x": 5})).await,
        Ok(serde_json::json!(15))
    );
}

#[tokio::test]
async fn a_missing_or_mistyped_input_names_the_parameter() {
    let entry = registry::find("reg.scale").unwrap();
    let error = entry
        .decode(&mut Json(serde_json::json!({"x": 4})))
        .unwrap_err();
    assert!(matches!(
        error,
        DecodeError::Input {
            param: "factor",
            ..
        }
    ));
    assert_eq!(error.to_string(), r#"input `factor`: missing from {"x":4}"#);
    let error = entry
        .decode(&mut Json(serde_json::json!({"x": "four", "factor": 1})))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"input `x`: invalid type: string "four", expected i64"#
    );
}

#[tokio::test]
async fn retries_timeouts_and_permanence_are_the_tasks_own() {
    assert_eq!(
        run_json("reg.flaky", serde_json::json!({"x": 7})).await,
        Ok(serde_json::json!("x=7"))
    );
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 3);
    assert_eq!(
        run_json("reg.doomed", serde_json::json!({"x": 7})).await,
        Err("1 attempts: no 7".to_owned())
    );
    let started = std::time::Instant::now();
    assert_eq!(
        run_json("reg.slow", serde_json::json!({"x": 7})).await,
        Err("2 attempts: timed out after 50ms".to_owned())
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
