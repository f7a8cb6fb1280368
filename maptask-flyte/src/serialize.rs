//! Tasks and map tasks as Flyte `TaskTemplate`s, the way flytekit 1.16.31 serializes its legacy
//! map task, with this project's container entrypoint in place of `pyflyte-map-execute`.
//!
//! # The container contract
//!
//! A map task (`container_array`) runs, in each array pod:
//!
//! ```text
//! <binary> map-execute --inputs {{.input}} --output-prefix {{.outputPrefix}}
//!   --raw-output-data-prefix {{.rawOutputDataPrefix}} --checkpoint-path {{.checkpointOutputPrefix}}
//!   --prev-checkpoint {{.prevCheckpointPrefix}} --resolver maptask -- vars <bound> task-name <name>
//! ```
//!
//! and a plain task (`container`) the same with `execute` and without `vars <bound>`. The part
//! before `--` is flytekit's, so propeller fills the same placeholders. After it: `vars`, the
//! bound parameter names sorted and joined by commas (an empty argument when none; a Rust
//! identifier holds no comma), then `task-name`, the task's registered name ([`Task::NAME`]).
//! [`crate::entrypoint::args::template_args`] writes these arguments and the
//! entrypoint ([`crate::entrypoint`]) parses them.
//!
//! # What maps to what
//!
//! * id: `{module}.map_{fn}_{md5(sorted bound names joined by ",")}` for a map, the task's name
//!   for a task, where a Rust path's `::` become `.` (`#[task(name = "app.wf.scale")]` keeps the
//!   fixture names).
//! * `custom`: the `ArrayJob` as protobuf JSON in a `Struct`: `parallelism` (a string, absent at
//!   0 = unbounded) and `minSuccessRatio` (the float32's shortest decimal, always present) for a
//!   ratio criterion. [`Criterion::MinSuccesses`] is written as `minSuccesses` (a string), the
//!   other member of the same oneof, which the k8s-array plugin reads as the count itself;
//!   flytekit never writes it.
//! * interface: inputs by name (description = name); a map's mapped inputs are lists, its bound
//!   ones stay scalar; one output `o0`, a list of optionals when the map tolerates failures.
//! * metadata: retries (always present), timeout, interruptible (only when true), cache version
//!   → `discoverable` + `discovery_version` (and `cache_ignore = [...]` →
//!   `cache_ignore_input_vars`); `generates_deck` and `metadata` present and empty,
//!   as flytekit writes them; runtime `{FLYTE_SDK, <this crate's version>, "rust"}`.
//! * container: image, args, resources (`requests`/`limits` as cpu, memory, gpu; present even
//!   when empty), env in declaration order.

use std::time::Duration;

use maptask_core::{Criterion, Interface, MapSpec, Metadata, Resources, Task, TypeDesc};
use md5::{Digest, Md5};
use prost_types::value::Kind;

use crate::entrypoint::args::{template_args, Mode};
use crate::literal::{self, LiteralError};
use crate::proto::core::{
    resources, runtime_metadata, task_metadata, task_template, Container, Identifier,
    K8sObjectMetadata, KeyValuePair, ResourceType, Resources as FlyteResources, RetryStrategy,
    RuntimeMetadata, TaskMetadata, TaskTemplate, TypedInterface, Variable, VariableMap,
};

pub mod files;
pub mod workflow;

/// Where the templates point: the registration coordinates and the container image.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// Flyte project; empty for `pyflyte serialize`-style files, which `flytectl register
    /// files` fills in.
    pub project: String,
    /// Flyte domain; empty like `project`.
    pub domain: String,
    /// Version; empty like `project`.
    pub version: String,
    /// The container image.
    pub image: String,
    /// The path of the binary inside the image that holds the tasks (the container's first argument).
    pub binary: String,
}

/// Why a task could not be serialized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SerializeError {
    /// An input or output type has no Flyte type.
    #[error("task `{task}`, {what}: {source}")]
    Type {
        /// The task.
        task: String,
        /// Which input or output.
        what: String,
        /// Why.
        source: Box<LiteralError>,
    },
    /// A map's run-time specification is invalid.
    #[error("map of `{task}`: {message}")]
    Spec {
        /// The task.
        task: String,
        /// What is wrong.
        message: String,
    },
    /// A bound value could not be converted to a literal.
    #[error("workflow `{workflow}`, node `{node}`, input `{input}`: {source}")]
    Binding {
        /// The workflow.
        workflow: String,
        /// The node.
        node: String,
        /// The input.
        input: String,
        /// Why.
        source: Box<LiteralError>,
    },
    /// A workflow refers to something that is not in it.
    #[error("workflow `{workflow}`: {message}")]
    Workflow {
        /// The workflow.
        workflow: String,
        /// What is wrong.
        message: String,
    },
}

/// What serialization needs of a task: its name, interface and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDef {
    /// The registered name ([`Task::NAME`]).
    pub name: String,
    /// The typed interface.
    pub interface: Interface,
    /// The metadata; its `cache_ignore` is written as `cache_ignore_input_vars`.
    pub metadata: Metadata,
}

impl TaskDef {
    /// The definition of task `T`.
    pub fn of<T: Task>() -> TaskDef {
        TaskDef {
            name: T::NAME.to_owned(),
            interface: T::interface(),
            metadata: T::METADATA,
        }
    }

    /// The Flyte name: the registered name with `::` as `.`.
    pub fn flyte_name(&self) -> String {
        self.name.replace("::", ".")
    }

    /// `(module, function)` of the Flyte name: split at the last `.`.
    fn module_and_fn(&self) -> (String, String) {
        let full = self.flyte_name();
        match full.rsplit_once('.') {
            Some((m, f)) => (m.to_owned(), f.to_owned()),
            None => (String::new(), full),
        }
    }
}

/// What serialization needs of a map: the task, the map's interface, its bound parameter names
/// and its specification (concurrency, criterion, per-element retries and timeout).
#[derive(Debug, Clone, PartialEq)]
pub struct MapDef {
    /// The mapped task.
    pub task: TaskDef,
    /// The map's interface: mapped inputs as lists, the output as a list (of optionals when
    /// failures are tolerated), as `MapTask::interface` gives it.
    pub interface: Interface,
    /// The bound parameter names.
    pub bound: Vec<String>,
    /// The map's specification, as `MapTask::spec` gives it.
    pub spec: MapSpec,
}

impl MapDef {
    /// flytekit's name of the map task: `{module}.map_{fn}_{md5 of the sorted bound names
    /// joined by ","}`.
    ///
    /// ```
    /// # use maptask_flyte::serialize::{MapDef, TaskDef};
    /// # use maptask_core::{Interface, MapSpec, Metadata, TypeDesc};
    /// let task = TaskDef {
    ///     name: "app.wf.scale".into(),
    ///     interface: Interface { inputs: vec![], output: TypeDesc::Unit, output_rust_type: "()" },
    ///     metadata: Metadata::DEFAULT,
    /// };
    /// let map = MapDef { interface: task.interface.clone(), task, bound: vec!["factor".into()], spec: MapSpec::new("m") };
    /// assert_eq!(map.flyte_name(), "app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d");
    /// ```
    pub fn flyte_name(&self) -> String {
        let (module, function) = self.task.module_and_fn();
        let mut bound = self.bound.clone();
        bound.sort();
        let digest = Md5::digest(bound.join(",").as_bytes());
        let hash: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        if module.is_empty() {
            format!("map_{function}_{hash}")
        } else {
            format!("{module}.map_{function}_{hash}")
        }
    }
}

/// The identifier of a task, workflow or launch plan.
pub(crate) fn identifier(kind: ResourceType, name: String, settings: &Settings) -> Identifier {
    Identifier {
        resource_type: kind as i32,
        project: settings.project.clone(),
        domain: settings.domain.clone(),
        name,
        version: settings.version.clone(),
        org: String::new(),
    }
}

fn variable(
    task: &str,
    what: &str,
    name: &str,
    ty: &TypeDesc,
) -> Result<(String, Variable), SerializeError> {
    let ty = literal::literal_type(ty).map_err(|source| SerializeError::Type {
        task: task.to_owned(),
        what: what.to_owned(),
        source: Box::new(source),
    })?;
    Ok((
        name.to_owned(),
        Variable {
            r#type: Some(ty),
            description: name.to_owned(),
            ..Variable::default()
        },
    ))
}

/// The typed interface: one variable per input, and `o0` unless the output is `()`.
pub(crate) fn typed_interface<'a>(
    task: &str,
    inputs: impl IntoIterator<Item = (&'a str, &'a TypeDesc)>,
    output: &TypeDesc,
) -> Result<TypedInterface, SerializeError> {
    let inputs = inputs
        .into_iter()
        .map(|(name, ty)| variable(task, &format!("input `{name}`"), name, ty))
        .collect::<Result<_, _>>()?;
    let mut outputs = VariableMap::default();
    if *output != TypeDesc::Unit {
        let (name, var) = variable(task, "output", "o0", output)?;
        outputs.variables.insert(name, var);
    }
    Ok(TypedInterface {
        inputs: Some(VariableMap { variables: inputs }),
        outputs: Some(outputs),
    })
}

fn interface_of(task: &str, interface: &Interface) -> Result<TypedInterface, SerializeError> {
    typed_interface(
        task,
        interface.inputs.iter().map(|p| (p.name, &p.ty)),
        &interface.output,
    )
}

pub(crate) fn duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    }
}

/// Task metadata as flytekit writes it, with `retries` and `timeout` given (a map's own).
fn task_metadata(task: &TaskDef, retries: u32, timeout: Option<Duration>) -> TaskMetadata {
    let meta = &task.metadata;
    TaskMetadata {
        // Flyte hashes the inputs minus these into the cache key, as maptask's cache does.
        cache_ignore_input_vars: if meta.cache_version.is_some() {
            meta.cache_ignore.iter().map(|v| (*v).to_owned()).collect()
        } else {
            Vec::new()
        },
        discoverable: meta.cache_version.is_some(),
        discovery_version: meta.cache_version.unwrap_or_default().to_owned(),
        runtime: Some(RuntimeMetadata {
            r#type: runtime_metadata::RuntimeType::FlyteSdk as i32,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            flavor: "rust".to_owned(),
        }),
        timeout: timeout.map(duration),
        retries: Some(RetryStrategy { retries }),
        interruptible_value: meta
            .interruptible
            .then_some(task_metadata::InterruptibleValue::Interruptible(true)),
        generates_deck: Some(false),
        metadata: Some(K8sObjectMetadata::default()),
        ..TaskMetadata::default()
    }
}

fn resource_entries(r: &Resources) -> Vec<resources::ResourceEntry> {
    [
        (resources::ResourceName::Cpu, r.cpu),
        (resources::ResourceName::Memory, r.mem),
        (resources::ResourceName::Gpu, r.gpu),
    ]
    .into_iter()
    .filter_map(|(name, value)| {
        value.map(|v| resources::ResourceEntry {
            name: name as i32,
            value: v.to_owned(),
        })
    })
    .collect()
}

/// Requests and limits as Flyte resources.
pub(crate) fn flyte_resources(requests: &Resources, limits: &Resources) -> FlyteResources {
    FlyteResources {
        requests: resource_entries(requests),
        limits: resource_entries(limits),
    }
}

fn container(meta: &Metadata, args: Vec<String>, settings: &Settings) -> Container {
    let mut full = vec![settings.binary.clone()];
    full.extend(args);
    Container {
        image: settings.image.clone(),
        args: full,
        resources: Some(flyte_resources(&meta.requests, &meta.limits)),
        env: meta
            .env
            .iter()
            .map(|(k, v)| KeyValuePair {
                key: (*k).to_owned(),
                value: (*v).to_owned(),
            })
            .collect(),
        ..Container::default()
    }
}

/// A plain task's template: type `container`, run by `<binary> execute …`.
pub fn task_template(task: &TaskDef, settings: &Settings) -> Result<TaskTemplate, SerializeError> {
    Ok(TaskTemplate {
        id: Some(identifier(ResourceType::Task, task.flyte_name(), settings)),
        r#type: "container".to_owned(),
        metadata: Some(task_metadata(
            task,
            task.metadata.retries,
            task.metadata.timeout,
        )),
        interface: Some(interface_of(&task.name, &task.interface)?),
        target: Some(task_template::Target::Container(container(
            &task.metadata,
            template_args(Mode::Single, &[], &task.name),
            settings,
        ))),
        ..TaskTemplate::default()
    })
}

/// The float32 of `ratio`, as its shortest decimal read as a double: what protobuf's JSON
/// printer makes of the `float` field (0.1 -> 0.1, 2/3 -> 0.6666667).
fn float32_shortest(ratio: f64) -> f64 {
    format!("{}", ratio as f32)
        .parse()
        .expect("a float's Display parses")
}

fn number(v: f64) -> prost_types::Value {
    prost_types::Value {
        kind: Some(Kind::NumberValue(v)),
    }
}

fn text(s: String) -> prost_types::Value {
    prost_types::Value {
        kind: Some(Kind::StringValue(s)),
    }
}

/// The `ArrayJob` custom as `MessageToDict` writes it (int64 as strings, default-valued scalars
/// left out, the oneof member always written).
fn array_job(spec: &MapSpec) -> prost_types::Struct {
    let mut fields = std::collections::BTreeMap::new();
    if spec.concurrency != 0 {
        fields.insert("parallelism".to_owned(), text(spec.concurrency.to_string()));
    }
    match spec.criterion {
        Criterion::All => {
            fields.insert("minSuccessRatio".to_owned(), number(1.0));
        }
        Criterion::Ratio(r) => {
            fields.insert(
                "minSuccessRatio".to_owned(),
                number(float32_shortest(r.to_f64())),
            );
        }
        Criterion::MinSuccesses(m) => {
            fields.insert("minSuccesses".to_owned(), text(m.to_string()));
        }
    }
    prost_types::Struct { fields }
}

fn bound_names(map: &MapDef) -> Vec<&str> {
    map.bound.iter().map(String::as_str).collect()
}

/// A map task's template: type `container_array`, version 1, run by `<binary> map-execute …`
/// in each array pod.
pub fn map_task_template(
    map: &MapDef,
    settings: &Settings,
) -> Result<TaskTemplate, SerializeError> {
    let task = &map.task;
    Ok(TaskTemplate {
        id: Some(identifier(ResourceType::Task, map.flyte_name(), settings)),
        r#type: "container_array".to_owned(),
        task_type_version: 1,
        metadata: Some(task_metadata(task, map.spec.retries, map.spec.timeout)),
        interface: Some(interface_of(&task.name, &map.interface)?),
        custom: Some(array_job(&map.spec)),
        target: Some(task_template::Target::Container(container(
            &task.metadata,
            template_args(Mode::Map, &bound_names(map), &task.name),
            settings,
        ))),
        ..TaskTemplate::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float32_shortest_matches_protobuf_json() {
        assert_eq!(float32_shortest(0.1), 0.1);
        assert_eq!(float32_shortest(2.0 / 3.0), 0.6666667);
        assert_eq!(float32_shortest(0.75), 0.75);
        assert_eq!(float32_shortest(1.0), 1.0);
    }
}
