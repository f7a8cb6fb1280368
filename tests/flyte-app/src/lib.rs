//! The Rust equivalents of the tasks in the Flyte fixtures (`app/wf.py`, module `app.wf`),
//! plus the tasks of the live interop test. The binary runs them through the Flyte entrypoint
//! (`flyte-app map-execute …` or `flyte-app execute …`); the tests also decode inputs for them
//! in process.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use maptask::prelude::*;
use maptask::types::{FieldDesc, TypeDesc};
use serde::{Deserialize, Serialize};

// --- the fixture tasks (app/wf.py) ------------------------------------------------------------

/// The seed example.
#[task(name = "app.wf.my_mappable_task")]
fn my_mappable_task(a: i64) -> Option<String> {
    Some(a.to_string())
}

/// Two inputs; the fixture's map binds `factor`.
#[task(name = "app.wf.scale")]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

/// Fails at a == 2. The failure is permanent, as flytekit's (NON_RECOVERABLE) is.
#[task(name = "app.wf.my_flaky_task")]
fn my_flaky_task(a: i64) -> Result<Option<String>, TaskError> {
    if a == 2 {
        return Err(TaskError::permanent_msg(format!(
            "element a={a} failed on purpose"
        )));
    }
    Ok(Some(a.to_string()))
}

/// Fails at a == 2; a plain `String` output.
#[task(name = "app.wf.my_flaky_plain_task")]
fn my_flaky_plain_task(a: i64) -> Result<String, TaskError> {
    if a == 2 {
        return Err(TaskError::permanent_msg(format!(
            "element a={a} failed on purpose"
        )));
    }
    Ok(a.to_string())
}

// --- the live interop test's tasks (tests/interop.py) -----------------------------------------

/// Squares; mapped over 1,000 elements.
#[task(name = "interop.square")]
fn square(x: i64) -> i64 {
    x * x
}

/// `1 / x`; fails at 0, which the map tolerates.
#[task(name = "interop.inverse")]
fn inverse(x: f64) -> Result<f64, TaskError> {
    if x == 0.0 {
        return Err(TaskError::permanent_msg("cannot invert 0"));
    }
    Ok(1.0 / x)
}

/// Looks a key up in a bound dict; `None` when absent.
#[task(name = "interop.lookup")]
fn lookup(key: String, table: BTreeMap<String, i64>) -> Option<i64> {
    table.get(&key).copied()
}

/// Doubles an optional value.
#[task(name = "interop.double_opt")]
fn double_opt(x: Option<i64>) -> Option<i64> {
    x.map(|v| v * 2)
}

/// The same instant a day later.
#[task(name = "interop.next_day")]
fn next_day(t: SystemTime) -> SystemTime {
    t + Duration::from_secs(86_400)
}

/// The fixture's `Point` dataclass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// An integer.
    pub x: i64,
    /// A float.
    pub y: f64,
    /// A label.
    pub label: String,
}

impl maptask::Describe for Point {
    fn type_desc() -> TypeDesc {
        TypeDesc::Struct {
            name: "Point".into(),
            fields: vec![
                FieldDesc::new("x", i64::type_desc()),
                FieldDesc::new("y", f64::type_desc()),
                FieldDesc::new("label", String::type_desc()),
            ],
        }
    }
}

/// Moves a point by a bound `dx`, and fails on a label of "bad".
#[task(name = "interop.shift")]
fn shift(p: Point, dx: i64) -> Result<Point, TaskError> {
    if p.label == "bad" {
        return Err(TaskError::msg("a bad point"));
    }
    Ok(Point {
        x: p.x + dx,
        y: p.y * 2.0,
        label: format!("{}!", p.label),
    })
}

/// Panics, to show a panic is a NON_RECOVERABLE failure.
#[task(name = "interop.panics")]
fn panics(x: i64) -> i64 {
    if x > 0 {
        panic!("x = {x} is positive");
    }
    x
}

/// Sleeps past its timeout on every attempt.
#[task(name = "interop.sleepy", retries = 1, timeout = "50ms")]
async fn sleepy(x: i64) -> i64 {
    tokio::time::sleep(Duration::from_secs(30)).await;
    x
}
