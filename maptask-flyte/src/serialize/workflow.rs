//! Workflows as Flyte `WorkflowTemplate`s: task, map-task and sub-workflow nodes, bindings
//! (workflow inputs, node outputs, bound literals), overrides and upstream node ids, as flytekit
//! writes them. Node ids are made DNS labels as flytekit's `_dnsify` makes them (`my_node` →
//! `my-node`).

use maptask_core::{Resources, TypeDesc};

use super::{
    flyte_resources, identifier, map_task_template, task_template, typed_interface, MapDef,
    SerializeError, Settings, TaskDef,
};
use crate::proto::core::{
    binding_data, literal, node, node_metadata, task_node, workflow_node, Binding, BindingData,
    BindingDataCollection, BindingDataMap, Identifier, Literal, Node, NodeMetadata,
    OutputReference, ResourceType, RetryStrategy, TaskNode, TaskNodeOverrides, TaskTemplate,
    WorkflowMetadata, WorkflowMetadataDefaults, WorkflowNode, WorkflowTemplate,
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
    /// A sub-workflow, written into the parent's `WorkflowSpec.sub_workflows`.
    Workflow(Box<WorkflowDef>),
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
    fn retries(&self) -> u32 {
        self.retries.unwrap_or(match &self.target {
            Target::Task(t) => t.metadata.retries,
            Target::Map(m) => m.spec.retries,
            Target::Workflow(_) => 0,
        })
    }
}

/// A workflow's templates: its own, those of the tasks its nodes run, and those of its
/// sub-workflows (flattened, each once), for a `WorkflowSpec`'s `sub_workflows`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowTemplates {
    /// The workflow's template.
    pub template: WorkflowTemplate,
    /// The tasks its nodes and its sub-workflows' nodes run, each once, in node order.
    pub tasks: Vec<TaskTemplate>,
    /// Every sub-workflow, nested ones included, each once.
    pub sub_workflows: Vec<WorkflowTemplate>,
}

/// flytekit's `_dnsify`: a DNS label (lowercase alphanumerics and `-`) from a node id shorter
/// than 63 characters (flytekit shortens longer ones with a sha224 prefix; [`workflow_templates`]
/// refuses them instead).
pub fn dnsify(value: &str) -> String {
    let mut res = String::new();
    for ch in value.chars() {
        if ch == '_' || ch == '-' || ch == '.' {
            if !res.is_empty() && res.len() < 62 {
                res.push('-');
            }
        } else if !ch.is_alphanumeric() {
        } else if ch.is_lowercase() || ch.is_ascii_digit() {
            res.push(ch);
        } else {
            if !res.is_empty() && !res.ends_with('-') && res.len() < 62 {
                res.push('-');
            }
            res.extend(ch.to_lowercase());
        }
    }
    if res.ends_with('-') {
        res.pop();
    }
    res
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
/// once). A workflow with sub-workflow nodes needs [`workflow_templates`], which returns their
/// templates too.
pub fn workflow_template(
    wf: &WorkflowDef,
    settings: &Settings,
) -> Result<(WorkflowTemplate, Vec<TaskTemplate>), SerializeError> {
    let all = workflow_templates(wf, settings)?;
    if let Some(sub) = all.sub_workflows.first() {
        return Err(SerializeError::Workflow {
            workflow: wf.name.clone(),
            message: format!(
                "it runs the sub-workflow `{}`; use `workflow_templates`, which returns the sub-workflows' templates too",
                sub.id.as_ref().map_or("", |i| i.name.as_str())
            ),
        });
    }
    Ok((all.template, all.tasks))
}

/// Adds `template` to `known` unless a template of the same id is there; two different
/// templates under one id are an error, since Flyte registers one per name.
fn add_once<T: PartialEq>(
    known: &mut Vec<T>,
    template: T,
    id: impl Fn(&T) -> Option<&Identifier>,
    wf: &WorkflowDef,
    node: &str,
) -> Result<(), SerializeError> {
    match known.iter().find(|t| id(t) == id(&template)) {
        None => known.push(template),
        Some(same) if *same == template => {}
        Some(_) => {
            return Err(SerializeError::Workflow {
                workflow: wf.name.clone(),
                message: format!(
                    "node `{node}` runs `{}` with other options than an earlier node; Flyte \
                     registers one template per name, so give both the same options",
                    id(&template).map_or("", |i| i.name.as_str())
                ),
            })
        }
    }
    Ok(())
}

/// The workflow's template, the templates of the tasks its nodes run and those of its
/// sub-workflows.
pub fn workflow_templates(
    wf: &WorkflowDef,
    settings: &Settings,
) -> Result<WorkflowTemplates, SerializeError> {
    let mut tasks: Vec<TaskTemplate> = Vec::new();
    let mut sub_workflows: Vec<WorkflowTemplate> = Vec::new();
    let mut nodes = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for def in &wf.nodes {
        if def.id.chars().count() >= 63 {
            return Err(SerializeError::Workflow {
                workflow: wf.name.clone(),
                message: format!(
                    "node id `{}` is 63 characters or more; Flyte node ids are DNS labels, so give it a shorter name",
                    def.id
                ),
            });
        }
        let node_id = dnsify(&def.id);
        if ids.contains(&node_id) {
            return Err(SerializeError::Workflow {
                workflow: wf.name.clone(),
                message: format!(
                    "two nodes have the id `{node_id}` as a DNS label; rename `{}`",
                    def.id
                ),
            });
        }
        ids.push(node_id.clone());
        let mut inputs = Vec::new();
        for (var, source) in &def.inputs {
            inputs.push(binding(wf, var, source)?);
        }
        // flytekit lists bindings sorted by variable name.
        inputs.sort_by(|a, b| a.var.cmp(&b.var));
        let mut upstream: Vec<String> = inputs
            .iter()
            .filter_map(
                |b| match b.binding.as_ref().and_then(|b| b.value.as_ref()) {
                    Some(binding_data::Value::Promise(p)) if !p.node_id.is_empty() => {
                        Some(p.node_id.clone())
                    }
                    _ => None,
                },
            )
            .collect();
        upstream.sort();
        upstream.dedup();
        let (id, target, interruptible) = match &def.target {
            Target::Task(_) | Target::Map(_) => {
                let template = match &def.target {
                    Target::Task(t) => task_template(t, settings)?,
                    Target::Map(m) => map_task_template(m, settings)?,
                    Target::Workflow(_) => unreachable!("matched above"),
                };
                let id = template.id.clone().expect("templates have ids");
                add_once(&mut tasks, template, |t| t.id.as_ref(), wf, &def.id)?;
                let overrides = TaskNodeOverrides {
                    resources: (!def.requests.is_empty() || !def.limits.is_empty())
                        .then(|| flyte_resources(&def.requests, &def.limits)),
                    ..TaskNodeOverrides::default()
                };
                let target = node::Target::TaskNode(TaskNode {
                    overrides: Some(overrides),
                    reference: Some(task_node::Reference::ReferenceId(id.clone())),
                });
                (id, target, None)
            }
            Target::Workflow(sub) => {
                let all = workflow_templates(sub, settings)?;
                let id = all.template.id.clone().expect("templates have ids");
                for task in all.tasks {
                    add_once(&mut tasks, task, |t| t.id.as_ref(), wf, &def.id)?;
                }
                for nested in all.sub_workflows.into_iter().chain([all.template]) {
                    add_once(&mut sub_workflows, nested, |t| t.id.as_ref(), wf, &def.id)?;
                }
                let target = node::Target::WorkflowNode(WorkflowNode {
                    reference: Some(workflow_node::Reference::SubWorkflowRef(id.clone())),
                });
                // flytekit writes `interruptible: false` on a sub-workflow's node.
                (
                    id,
                    target,
                    Some(node_metadata::InterruptibleValue::Interruptible(false)),
                )
            }
        };
        nodes.push(Node {
            id: node_id,
            metadata: Some(NodeMetadata {
                name: id.name.rsplit('.').next().unwrap_or_default().to_owned(),
                retries: Some(RetryStrategy {
                    retries: def.retries(),
                }),
                timeout: def.timeout.map(super::duration),
                interruptible_value: interruptible,
                ..NodeMetadata::default()
            }),
            inputs,
            upstream_node_ids: upstream,
            target: Some(target),
            ..Node::default()
        });
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
    Ok(WorkflowTemplates {
        template,
        tasks,
        sub_workflows,
    })
}

#[cfg(test)]
mod tests {
    use super::dnsify;

    #[test]
    fn dnsify_is_flytekits() {
        // Cases checked against flytekit 1.16.31's `_dnsify`.
        assert_eq!(dnsify("n0"), "n0");
        assert_eq!(dnsify("my_node"), "my-node");
        assert_eq!(dnsify("_private"), "private");
        assert_eq!(dnsify("MyNode"), "my-node");
        assert_eq!(dnsify("a__b"), "a--b");
        assert_eq!(dnsify("trailing_"), "trailing");
    }
}
