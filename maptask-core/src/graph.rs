//! The static graph of a `#[workflow]`: nodes, edges and interface, with Mermaid and DOT renderings.

use std::fmt::Write as _;

use crate::meta::Resources;
use crate::types::TypeDesc;

/// What a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A task call.
    Task,
    /// A mapped task.
    Map,
    /// A sub-workflow call.
    Workflow,
}

impl NodeKind {
    /// `task`, `map` or `workflow`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Task => "task",
            NodeKind::Map => "map",
            NodeKind::Workflow => "workflow",
        }
    }
}

/// One node of a workflow graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraphNode {
    /// The node's id, unique in its workflow: the `let` name it is bound to, or `n<i>`.
    pub id: String,
    /// What it runs.
    pub kind: NodeKind,
    /// The name of the task or workflow it runs.
    pub entity: String,
    /// Requested resources: the task's own, with the node's overrides applied.
    pub requests: Resources,
    /// Resource limits: the task's own, with the node's overrides applied.
    pub limits: Resources,
}

/// The id of the pseudo-node that stands for the workflow's inputs.
pub const INPUTS: &str = "inputs";
/// The id of the pseudo-node that stands for the workflow's output.
pub const OUTPUTS: &str = "outputs";

/// A workflow's graph. Edges go from a producer to a consumer; the workflow's inputs are the
/// node [`INPUTS`] and its output the node [`OUTPUTS`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Graph {
    /// The workflow's name.
    pub name: String,
    /// The workflow's inputs: names and types, in declaration order.
    pub inputs: Vec<(String, TypeDesc)>,
    /// The workflow's output type.
    pub output: TypeDesc,
    /// The nodes, in the order the body declares them.
    pub nodes: Vec<GraphNode>,
    /// Edges `(from, to)`, without duplicates, in the order the body declares them.
    pub edges: Vec<(String, String)>,
}

impl Graph {
    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&GraphNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The ids of the nodes this node consumes.
    pub fn upstream(&self, id: &str) -> Vec<&str> {
        self.edges
            .iter()
            .filter(|(_, to)| to == id)
            .map(|(from, _)| from.as_str())
            .collect()
    }

    /// A Mermaid flowchart.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        let _ = writeln!(out, "    {INPUTS}([\"{INPUTS}\"])");
        for node in &self.nodes {
            let _ = writeln!(
                out,
                "    {}[\"{}<br/>{} {}\"]",
                node.id,
                node.id,
                node.kind.as_str(),
                escape(&node.entity)
            );
        }
        let _ = writeln!(out, "    {OUTPUTS}([\"{OUTPUTS}\"])");
        for (from, to) in &self.edges {
            let _ = writeln!(out, "    {from} --> {to}");
        }
        out
    }

    /// A Graphviz DOT digraph.
    pub fn to_dot(&self) -> String {
        let mut out = format!("digraph \"{}\" {{\n", escape(&self.name));
        out.push_str("    rankdir=TB;\n");
        let _ = writeln!(out, "    \"{INPUTS}\" [shape=oval];");
        for node in &self.nodes {
            let _ = writeln!(
                out,
                "    \"{}\" [shape=box, label=\"{}\\n{} {}\"];",
                node.id,
                node.id,
                node.kind.as_str(),
                escape(&node.entity)
            );
        }
        let _ = writeln!(out, "    \"{OUTPUTS}\" [shape=oval];");
        for (from, to) in &self.edges {
            let _ = writeln!(out, "    \"{from}\" -> \"{to}\";");
        }
        out.push_str("}\n");
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('"', "\\\"")
}
