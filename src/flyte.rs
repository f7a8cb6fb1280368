//! Flyte (feature `flyte`): [`maptask_flyte`] re-exported, plus the definitions of this crate's
//! tasks and maps that its serializer reads.
//!
//! ```
//! use maptask::prelude::*;
//! use maptask::flyte::serialize::{map_task_template, Settings};
//!
//! #[task(name = "app.wf.scale")]
//! fn scale(x: i64, factor: i64) -> i64 {
//!     x * factor
//! }
//!
//! let map = map_task!(scale, concurrency = 4, factor = 10);
//! let settings = Settings { image: "ghcr.io/me/app:v1".into(), binary: "/app".into(), ..Settings::default() };
//! let template = map_task_template(&maptask::flyte::map_def(&map)?, &settings)?;
//! assert_eq!(template.r#type, "container_array");
//! assert_eq!(template.id.unwrap().name, "app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d");
//! # Ok::<(), maptask::flyte::serialize::SerializeError>(())
//! ```
//!
//! A task whose inputs or output are not serde types cannot be serialized: the bounds of
//! [`task_def`] and [`map_def`] make that a compile error at the call.

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use maptask_flyte::*;

use crate::mapped::{MapTask, Tolerance};
use maptask_core::Task;
use serialize::{MapDef, SerializeError, TaskDef};

/// The definition of task `T`, for [`serialize::task_template`].
pub fn task_def<T>() -> TaskDef
where
    T: Task,
    T::Inputs: Serialize + DeserializeOwned,
    T::Output: Serialize + DeserializeOwned,
{
    TaskDef::of::<T>()
}

/// The definition of a `map_task!`, for [`serialize::map_task_template`].
///
/// Fails when a run-time `min_success_ratio` is not a number in [0, 1].
pub fn map_def<T, M, B, K>(map: &MapTask<T, M, B, K>) -> Result<MapDef, SerializeError>
where
    T: Task,
    T::Inputs: Serialize + DeserializeOwned,
    T::Output: Serialize + DeserializeOwned,
    K: Tolerance,
{
    let spec = map.spec().map_err(|e| SerializeError::Spec {
        task: T::NAME.to_owned(),
        message: e.to_string(),
    })?;
    Ok(MapDef {
        task: TaskDef::of::<T>(),
        interface: map.interface(),
        bound: map.bound_names().iter().map(|s| (*s).to_owned()).collect(),
        spec,
    })
}

/// The bound values of a `map_task!` as literals, by name in declaration order: what a
/// workflow node binds them to.
pub fn bound_literals<T, M, B, K>(
    map: &MapTask<T, M, B, K>,
) -> Result<Vec<(String, proto::core::Literal)>, literal::LiteralError>
where
    T: Task,
    B: Serialize,
    K: Tolerance,
{
    let interface = T::interface();
    let descs: Vec<maptask_core::TypeDesc> = map
        .bound_names()
        .iter()
        .map(|name| {
            interface
                .input(name)
                .map(|p| p.ty.clone())
                .expect("a bound name is an input of the task")
        })
        .collect();
    let literals = literal::tuple_to_literals(map.bound_values(), &descs)?;
    Ok(map
        .bound_names()
        .iter()
        .map(|s| (*s).to_owned())
        .zip(literals)
        .collect())
}
