//! Workflows as Flyte `WorkflowTemplate`s: task and map-task nodes, bindings (workflow inputs,
//! node outputs, bound literals) and resource overrides, as flytekit writes them.

use maptask_core::{Resources, TypeDesc};

use super::{
    flyte_resources, identifier, map_task_template, task_template, typed_interface, MapDef,
    SerializeError, Settings, TaskDef,
};
use crate::proto::core::{
    binding_data, literal, node, task_node, Binding, BindingData, BindingDataCollection,
    BindingDataMap, Literal, Node, NodeMetadata, OutputReference, ResourceType, RetryStrategy,
    TaskNode, TaskNodeOverrides, TaskTemplate, WorkflowMetadata, WorkflowMetadataDefaults,
    WorkflowTemplate,
};

/// Where a node input (or the workflow output) gets its value.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The workflow input of this name.
    Input(String),
    /// The output (`o0`) of the node with this id.
    Node(String),
    /// A value known when the workflow is built (a constant, or a map's bound value).
    Literal(Box<Literal>),
}

/// What a node runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A plain task.
    Task(Box<TaskDef>),
    /// A map task.
    Map(Box<MapDef>),
}

/// One node of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeDef {
    /// The node id (`n0`, or the `let` name).
    pub id: String,
    /// What it runs.
    pub target: Target,
    /// Each input of the target and where its value comes from, in declaration order.
    pub inputs: Vec<(String, Source)>,
    /// Resource requests set on the node (`.with_overrides(requests(…))`), not the task's own.
    pub requests: Resources,
    /// Resource limits set on the node.
    pub limits: Resources,
    /// Retries set on the node (`.with_overrides(retries = …)`), written to the node's
    /// metadata; `None` keeps the target's own.
    pub retries: Option<u32>,
    /// A timeout set on the node (`.with_overrides(timeout = …)`), written to the node's
    /// metadata.
    pub timeout: Option<std::time::Duration>,
}

/// A workflow: its inputs, nodes and output.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDef {
    /// The registered name.
    pub name: String,
    /// The inputs, in declaration order.
    pub inputs: Vec<(String, TypeDesc)>,
    /// The output type (`()` for none).
    pub output: TypeDesc,
    /// The nodes, in declaration order.
    pub nodes: Vec<NodeDef>,
    /// Where the output `o0` comes from (`None` when the output is `()`).
    pub output_source: Option<Source>,
}

impl NodeDef {
    fn template(&self, settings: &Settings) -> Result<TaskTemplate, SerializeError> {
        match &self.target {
            Target::Task(t) => task_template(t, settings),
            Target::Map(m) => map_task_template(m, settings),
        }
    }

    fn retries(&self) -> u32 {
        self.retries.unwrap_or(match &self.target {
            Target::Task(t) => t.metadata.retries,
            Target::Map(m) => m.spec.retries,
        })
    }
}

/// A literal as binding data: scalars as they are, collections and maps element by element.
pub fn binding_data(lit: &Literal) -> BindingData {
    let value = match &lit.value {
        Some(literal::Value::Scalar(s)) => Some(binding_data::Value::Scalar((**s).clone())),
        Some(literal::Value::Collection(c)) => {
            Some(binding_data::Value::Collection(BindingDataCollection {
                bindings: c.literals.iter().map(binding_data).collect(),
            }))
        }
        Some(literal::Value::Map(m)) => Some(binding_data::Value::Map(BindingDataMap {
            bindings: m
                .literals
                .iter()
                .map(|(k, v)| (k.clone(), binding_data(v)))
                .collect(),
        })),
        Some(literal::Value::OffloadedMetadata(o)) => {
            Some(binding_data::Value::OffloadedMetadata(o.clone()))
        }
        None => None,
    };
    BindingData { value, union: None }
}

fn binding(wf: &WorkflowDef, var: &str, source: &Source) -> Result<Binding, SerializeError> {
    let value = match source {
        Source::Input(name) => {
            if !wf.inputs.iter().any(|(n, _)| n == name) {
                return Err(SerializeError::Workflow {
                    workflow: wf.name.clone(),
                    message: format!("`{var}` is bound to `{name}`, which is not an input"),
                });
            }
            BindingData {
                value: Some(binding_data::Value::Promise(OutputReference {
                    node_id: String::new(),
                    var: name.clone(),
                    attr_path: Vec::new(),
                })),
                union: None,
            }
        }
        Source::Node(id) => {
            if !wf.nodes.iter().any(|n| &n.id == id) {
                return Err(SerializeError::Workflow {
                    workflow: wf.name.clone(),
                    message: format!(
                        "`{var}` is bound to node `{id}`, which is not in the workflow"
                    ),
                });
            }
            BindingData {
                value: Some(binding_data::Value::Promise(OutputReference {
                    node_id: id.clone(),
                    var: "o0".to_owned(),
                    attr_path: Vec::new(),
                })),
                union: None,
            }
        }
        Source::Literal(lit) => binding_data(lit),
    };
    Ok(Binding {
        var: var.to_owned(),
        binding: Some(value),
    })
}

/// The workflow's template, and the templates of the tasks its nodes run (in node order, each
/// once).
pub fn workflow_template(
    wf: &WorkflowDef,
    settings: &Settings,
) -> Result<(WorkflowTemplate, Vec<TaskTemplate>), SerializeError> {
    let mut tasks: Vec<TaskTemplate> = Vec::new();
    let mut nodes = Vec::new();
    for def in &wf.nodes {
        let template = def.template(settings)?;
        let id = template.id.clone().expect("templates have ids");
        let mut inputs = Vec::new();
        for (var, source) in &def.inputs {
            inputs.push(binding(wf, var, source)?);
        }
        // flytekit lists bindings sorted by variable name.
        inputs.sort_by(|a, b| a.var.cmp(&b.var));
        let overrides = TaskNodeOverrides {
            resources: (!def.requests.is_empty() || !def.limits.is_empty())
                .then(|| flyte_resources(&def.requests, &def.limits)),
            ..TaskNodeOverrides::default()
        };
        nodes.push(Node {
            id: def.id.clone(),
            metadata: Some(NodeMetadata {
                name: id.name.rsplit('.').next().unwrap_or_default().to_owned(),
                retries: Some(RetryStrategy {
                    retries: def.retries(),
                }),
                timeout: def.timeout.map(super::duration),
                ..NodeMetadata::default()
            }),
            inputs,
            target: Some(node::Target::TaskNode(TaskNode {
                overrides: Some(overrides),
                reference: Some(task_node::Reference::ReferenceId(id.clone())),
            })),
            ..Node::default()
        });
        match tasks.iter().find(|t| t.id == template.id) {
            None => tasks.push(template),
            Some(known) if *known == template => {}
            // Flyte registers one template per name: two maps of one task with the same bound
            // names but other options would silently become one.
            Some(_) => {
                return Err(SerializeError::Workflow {
                    workflow: wf.name.clone(),
                    message: format!(
                        "node `{}` runs `{}` with other options than an earlier node; Flyte \
                         registers one template per name, so give both the same options",
                        def.id, id.name
                    ),
                })
            }
        }
    }
    let outputs = match &wf.output_source {
        Some(source) => vec![binding(wf, "o0", source)?],
        None => Vec::new(),
    };
    let template = WorkflowTemplate {
        id: Some(identifier(
            ResourceType::Workflow,
            wf.name.replace("::", "."),
            settings,
        )),
        metadata: Some(WorkflowMetadata::default()),
        interface: Some(typed_interface(
            &wf.name,
            wf.inputs.iter().map(|(n, t)| (n.as_str(), t)),
            &wf.output,
        )?),
        nodes,
        outputs,
        failure_node: None,
        metadata_defaults: Some(WorkflowMetadataDefaults::default()),
    };
    Ok((template, tasks))
}
