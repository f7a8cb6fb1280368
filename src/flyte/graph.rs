//! A `#[workflow]`'s Flyte definition, from its body's graph.
//!
//! Under the feature `flyte`, `#[workflow]` implements [`FlyteWorkflow`] with code that builds a
//! [`WorkflowDef`]: one node per call in the body (a task, or a `map_task!` with its options and
//! its bound values), each input bound to a workflow input, another node's output, or a constant
//! (turned into a literal of the parameter's type), the node's `.with_overrides(…)`, and the
//! binding of the output. It registers the definition too, so a binary serializes any workflow by
//! name (`maptask_flyte::registry`).
//!
//! A sub-workflow call is a node that runs the sub-workflow's own definition.
//!
//! What cannot be expressed in Flyte still compiles, and fails only when serialized, naming the
//! node and input: a constant whose type is not `serde::Serialize` (chosen by autoref
//! specialization on [`ArgProbe`]), a destructured tuple output, a map option computed from a
//! workflow value, or resources set on a sub-workflow node.

use std::time::Duration;

use maptask_core::{Describe, Resources, Task};
use serde::Serialize;

use crate::mapped::{map_interface, map_spec, MapParts, Tolerance};
use crate::workflow::Workflow;
use maptask_flyte::literal::to_literal;
use maptask_flyte::serialize::workflow::{NodeDef, Source, Target, WorkflowDef};
use maptask_flyte::serialize::{MapDef, SerializeError, TaskDef};

/// A `#[workflow]` with a Flyte definition: implemented by the macro under the feature `flyte`.
pub trait FlyteWorkflow: Workflow {
    /// The workflow's definition, ready for
    /// [`workflow_template`](maptask_flyte::serialize::workflow::workflow_template).
    ///
    /// Fails, naming the node and input, when part of the body has no Flyte equivalent.
    fn flyte_def() -> Result<WorkflowDef, SerializeError>;
}

/// One node input as the macro wrote it: a workflow input or node output, a constant of the
/// parameter's type, or something Flyte cannot bind (with the reason).
#[doc(hidden)]
pub enum Arg<T> {
    Source(Source),
    Const(T),
    Unsupported(&'static str),
}

/// The input of a node: a workflow input by name.
#[doc(hidden)]
pub fn input<T>(name: &str) -> Arg<T> {
    Arg::Source(Source::Input(name.to_owned()))
}

/// The input of a node: another node's output, by node id.
#[doc(hidden)]
pub fn output<T>(node: &str) -> Arg<T> {
    Arg::Source(Source::Node(node.to_owned()))
}

/// Carries an [`Arg`] to the autoref probe that turns it into a [`Source`].
#[doc(hidden)]
pub struct ArgProbe<T>(pub Arg<T>);

/// Chosen when the argument's type is `Serialize`: a constant becomes a literal.
#[doc(hidden)]
pub trait ArgViaSerde {
    fn maptask_source(&self) -> Result<Source, String>;
}

/// Chosen otherwise: a constant cannot be bound.
#[doc(hidden)]
pub trait ArgViaAnything {
    fn maptask_source(&self) -> Result<Source, String>;
}

impl<T: Serialize + Describe> ArgViaSerde for &ArgProbe<T> {
    fn maptask_source(&self) -> Result<Source, String> {
        match &self.0 {
            Arg::Const(value) => to_literal(value, &T::type_desc())
                .map(|lit| Source::Literal(Box::new(lit)))
                .map_err(|e| format!("the constant cannot be a Flyte literal: {e}")),
            other => common(other),
        }
    }
}

impl<T> ArgViaAnything for ArgProbe<T> {
    fn maptask_source(&self) -> Result<Source, String> {
        match &self.0 {
            Arg::Const(_) => Err(format!(
                "a constant of type `{}`, which is not `serde::Serialize`, cannot be a Flyte literal",
                std::any::type_name::<T>()
            )),
            other => common(other),
        }
    }
}

fn common<T>(arg: &Arg<T>) -> Result<Source, String> {
    match arg {
        Arg::Source(source) => Ok(source.clone()),
        Arg::Unsupported(reason) => Err((*reason).to_owned()),
        Arg::Const(_) => unreachable!("constants are handled by the probes"),
    }
}

/// A node's `.with_overrides(…)`.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeOverrides {
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub concurrency: Option<usize>,
    pub requests: Resources,
    pub limits: Resources,
}

/// The inputs of a node, by parameter name, each a source or why it cannot be bound.
#[doc(hidden)]
pub type NodeInputs = Vec<(&'static str, Result<Source, String>)>;

/// Why a node cannot be defined, as the message of [`SerializeError::Workflow`].
#[doc(hidden)]
pub type NodeResult = Result<NodeDef, String>;

fn bind(id: &str, inputs: NodeInputs) -> Result<Vec<(String, Source)>, String> {
    inputs
        .into_iter()
        .map(|(name, source)| {
            source
                .map(|s| (name.to_owned(), s))
                .map_err(|reason| format!("node `{id}`, input `{name}`: {reason}"))
        })
        .collect()
}

/// A task node.
#[doc(hidden)]
pub fn task_node<T: Task>(
    id: &'static str,
    inputs: NodeInputs,
    overrides: NodeOverrides,
) -> NodeResult {
    Ok(NodeDef {
        id: id.to_owned(),
        target: Target::Task(Box::new(TaskDef::of::<T>())),
        inputs: bind(id, inputs)?,
        requests: overrides.requests,
        limits: overrides.limits,
        retries: overrides.retries,
        timeout: overrides.timeout,
    })
}

/// A map node: the map's options as `map_task!` wrote them, its mapped inputs and bound values
/// among `inputs`. The node's retries, timeout and concurrency overrides change the map's own,
/// as they do when the workflow runs locally.
#[doc(hidden)]
pub fn map_node<T: Task, K: Tolerance>(
    id: &'static str,
    parts: MapParts,
    inputs: NodeInputs,
    overrides: NodeOverrides,
) -> NodeResult {
    let mut spec = map_spec::<T>(&parts).map_err(|e| format!("node `{id}`: {e}"))?;
    if let Some(retries) = overrides.retries {
        spec.retries = retries;
    }
    if let Some(timeout) = overrides.timeout {
        spec.timeout = Some(timeout);
    }
    if let Some(concurrency) = overrides.concurrency {
        spec.concurrency = concurrency;
    }
    let map = MapDef {
        task: TaskDef::of::<T>(),
        interface: map_interface::<T, K>(parts.mapped_names),
        bound: parts.bound_names.iter().map(|s| (*s).to_owned()).collect(),
        spec,
    };
    Ok(NodeDef {
        id: id.to_owned(),
        target: Target::Map(Box::new(map)),
        inputs: bind(id, inputs)?,
        requests: overrides.requests,
        limits: overrides.limits,
        retries: None,
        timeout: None,
    })
}

/// A sub-workflow node: the sub-workflow's own definition, its inputs bound like a task's, its
/// retries and timeout on the node. Flyte has no resources for a workflow node.
#[doc(hidden)]
pub fn workflow_node<W: FlyteWorkflow>(
    id: &'static str,
    inputs: NodeInputs,
    overrides: NodeOverrides,
) -> NodeResult {
    if !overrides.requests.is_empty() || !overrides.limits.is_empty() {
        return Err(format!(
            "node `{id}` sets resources on the sub-workflow `{}`, which Flyte cannot override on a workflow node; set them on its tasks",
            W::NAME
        ));
    }
    let def = W::flyte_def().map_err(|e| format!("node `{id}` runs {e}"))?;
    Ok(NodeDef {
        id: id.to_owned(),
        target: Target::Workflow(Box::new(def)),
        inputs: bind(id, inputs)?,
        requests: Resources::NONE,
        limits: Resources::NONE,
        retries: overrides.retries,
        timeout: overrides.timeout,
    })
}

/// A node the macro could not describe (its call has errors, reported where the workflow runs
/// it, or an option computed from a workflow value).
#[doc(hidden)]
pub fn invalid_node(id: &'static str, reason: &str) -> NodeResult {
    Err(format!("node `{id}`: {reason}"))
}

/// The definition of workflow `W`: its interface, its nodes and its output's source.
#[doc(hidden)]
pub fn workflow_def<W: Task>(
    nodes: Vec<NodeResult>,
    output: Option<Result<Source, String>>,
) -> Result<WorkflowDef, SerializeError> {
    let fail = |message: String| SerializeError::Workflow {
        workflow: W::NAME.to_owned(),
        message,
    };
    let interface = W::interface();
    let nodes = nodes
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let output_source = output
        .transpose()
        .map_err(|reason| fail(format!("the output: {reason}")))?;
    Ok(WorkflowDef {
        name: W::NAME.to_owned(),
        inputs: interface
            .inputs
            .iter()
            .map(|p| (p.name.to_owned(), p.ty.clone()))
            .collect(),
        output: interface.output,
        nodes,
        output_source,
    })
}
