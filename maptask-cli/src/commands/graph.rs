//! `graph`: a workflow's graph as Mermaid or DOT.

use std::io::Write;

use maptask_runtime::registry;

use crate::args::{GraphArgs, GraphFormat};
use crate::commands::{find, list_names};
use crate::error::CliError;

/// Prints the graph of the workflow `args.workflow`.
pub fn run(args: &GraphArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let entry = find(&args.workflow)?;
    let Some(workflow) = entry.workflow.filter(|_| entry.is_workflow) else {
        let workflows = registry::entries();
        return Err(CliError::NotAWorkflow {
            name: args.workflow.clone(),
            known: list_names(workflows.iter().filter(|e| e.is_workflow).map(|e| e.name)),
        });
    };
    let graph = (workflow.graph)();
    let text = match args.format {
        GraphFormat::Mermaid => graph.to_mermaid(),
        GraphFormat::Dot => graph.to_dot(),
    };
    out.write_all(text.as_bytes())
        .and_then(|()| {
            if text.ends_with('\n') {
                Ok(())
            } else {
                out.write_all(b"\n")
            }
        })
        .map_err(|error| CliError::Io {
            what: "could not write the graph".to_owned(),
            error,
        })
}
