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
//! [`task_def`] and [`map_def`] make that a compile error at the call (E0277, "the trait bound
//! `Celsius: Serialize` is not satisfied"), not a panic:
//!
//! ```compile_fail,E0277
//! use maptask::prelude::*;
//!
//! #[derive(Clone)]
//! struct Celsius(f64);
//! impl Describe for Celsius {
//!     fn type_desc() -> maptask::TypeDesc {
//!         maptask::TypeDesc::Float { bits: 64 }
//!     }
//! }
//!
//! #[task]
//! fn warm(t: Celsius) -> f64 {
//!     t.0 + 1.0
//! }
//!
//! let map = map_task!(warm);
//! let _ = maptask::flyte::map_def(&map);
//! ```

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use maptask_flyte::*;

pub(crate) mod graph;
pub use graph::FlyteWorkflow;

use crate::mapped::{MapTask, Tolerance};
use maptask_core::Task;
use serialize::{MapDef, SerializeError, TaskDef};

/// The definition of `#[workflow]` `W`, for
/// [`workflow_template`](serialize::workflow::workflow_template): every node of its body with
/// its target, bindings and overrides, and the output's binding.
///
/// ```
/// use maptask::prelude::*;
/// use maptask::flyte::serialize::{workflow::workflow_template, Settings};
///
/// #[task(name = "app.wf.scale")]
/// fn scale(x: i64, factor: i64) -> i64 {
///     x * factor
/// }
///
/// #[workflow(name = "app.wf.scale_wf")]
/// fn scale_wf(x: Vec<i64>) -> Vec<i64> {
///     map_task!(scale, concurrency = 4, factor = 10)(x = x)
/// }
///
/// let def = maptask::flyte::workflow_def::<scale_wf>()?;
/// let (template, tasks) = workflow_template(&def, &Settings::default())?;
/// assert_eq!(template.nodes[0].inputs.len(), 2); // x: the workflow's input, factor: 10
/// assert_eq!(tasks[0].id.as_ref().unwrap().name, "app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d");
/// # Ok::<(), maptask::flyte::serialize::SerializeError>(())
/// ```
///
/// Fails, naming the node and input, where the body has no Flyte equivalent: a constant whose
/// type is not `serde::Serialize`, a destructured tuple output, a map option computed from a
/// workflow value. A workflow with sub-workflow nodes is written with
/// [`workflow_templates`](serialize::workflow::workflow_templates).
pub fn workflow_def<W: FlyteWorkflow>() -> Result<serialize::workflow::WorkflowDef, SerializeError>
{
    W::flyte_def()
}

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

/// A workflow node that runs `map`: its mapped inputs bound to `mapped` (by parameter name),
/// its bound values as literals, and the node's resource overrides.
///
/// ```
/// use maptask::prelude::*;
/// use maptask::flyte::serialize::workflow::{workflow_template, Source, WorkflowDef};
/// use maptask::flyte::serialize::Settings;
///
/// #[task(name = "app.wf.scale")]
/// fn scale(x: i64, factor: i64) -> i64 {
///     x * factor
/// }
///
/// let map = map_task!(scale, concurrency = 4, factor = 10);
/// let node = maptask::flyte::map_node("n0", &map, [("x", Source::Input("xs".into()))])?;
/// let wf = WorkflowDef {
///     name: "app.wf.scale_wf".into(),
///     inputs: vec![("xs".into(), <Vec<i64> as Describe>::type_desc())],
///     output: map.interface().output,
///     nodes: vec![node],
///     output_source: Some(Source::Node("n0".into())),
/// };
/// let (template, tasks) = workflow_template(&wf, &Settings::default())?;
/// assert_eq!(template.nodes[0].inputs.len(), 2); // x: the promise, factor: the literal 10
/// assert_eq!(tasks[0].r#type, "container_array");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn map_node<'a, T, M, B, K>(
    id: &str,
    map: &MapTask<T, M, B, K>,
    mapped: impl IntoIterator<Item = (&'a str, serialize::workflow::Source)>,
) -> Result<serialize::workflow::NodeDef, SerializeError>
where
    T: Task,
    T::Inputs: Serialize + DeserializeOwned,
    T::Output: Serialize + DeserializeOwned,
    B: Serialize,
    K: Tolerance,
{
    use serialize::workflow::{NodeDef, Source, Target};
    let def = map_def(map)?;
    let mut inputs: Vec<(String, Source)> = mapped
        .into_iter()
        .map(|(name, source)| (name.to_owned(), source))
        .collect();
    for (name, lit) in bound_literals(map).map_err(|source| SerializeError::Binding {
        workflow: String::new(),
        node: id.to_owned(),
        input: map.bound_names().join(","),
        source: Box::new(source),
    })? {
        inputs.push((name, Source::Literal(Box::new(lit))));
    }
    Ok(NodeDef {
        id: id.to_owned(),
        target: Target::Map(Box::new(def)),
        inputs,
        requests: maptask_core::Resources::NONE,
        limits: maptask_core::Resources::NONE,
        retries: None,
        timeout: None,
    })
}

/// A workflow node that runs task `T`, its inputs bound to `inputs` (by parameter name).
pub fn task_node<'a, T>(
    id: &str,
    inputs: impl IntoIterator<Item = (&'a str, serialize::workflow::Source)>,
) -> serialize::workflow::NodeDef
where
    T: Task,
    T::Inputs: Serialize + DeserializeOwned,
    T::Output: Serialize + DeserializeOwned,
{
    serialize::workflow::NodeDef {
        id: id.to_owned(),
        target: serialize::workflow::Target::Task(Box::new(TaskDef::of::<T>())),
        inputs: inputs.into_iter().map(|(n, s)| (n.to_owned(), s)).collect(),
        requests: maptask_core::Resources::NONE,
        limits: maptask_core::Resources::NONE,
        retries: None,
        timeout: None,
    }
}
