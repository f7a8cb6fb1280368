//! `list`: every task and workflow, with its interface.

use std::io::Write;

use maptask_runtime::registry::{self, TaskEntry};
use serde_json::json;

use crate::args::ListArgs;
use crate::error::CliError;

/// Prints every registered task and workflow.
pub fn run(args: &ListArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let entries = registry::entries();
    let text = if args.json {
        let all: Vec<serde_json::Value> = entries.iter().map(as_json).collect();
        format!(
            "{}\n",
            serde_json::to_string_pretty(&all).map_err(|e| CliError::Other(e.to_string()))?
        )
    } else {
        entries.iter().map(as_text).collect::<String>()
    };
    out.write_all(text.as_bytes())
        .map_err(|error| CliError::Io {
            what: "could not write the list".to_owned(),
            error,
        })
}

fn kind(entry: &TaskEntry) -> &'static str {
    if entry.is_workflow {
        "workflow"
    } else {
        "task"
    }
}

/// `workflow app::wf(x: Vec<i64>) -> Vec<i64>`, the doc's first line, and why it cannot run,
/// if it cannot.
fn as_text(entry: &TaskEntry) -> String {
    let params: Vec<String> = entry
        .interface
        .inputs
        .iter()
        .map(|p| format!("{}: {}", p.name, p.rust_type))
        .collect();
    let mut text = format!(
        "{} {}({}) -> {}\n",
        kind(entry),
        entry.name,
        params.join(", "),
        entry.interface.output_rust_type
    );
    if let Some(line) = entry.doc.lines().map(str::trim).find(|l| !l.is_empty()) {
        text.push_str(&format!("    {line}\n"));
    }
    if let Some(reason) = entry.not_portable_reason() {
        text.push_str(&format!(
            "    not runnable from the command line: {reason}\n"
        ));
    }
    text
}

fn as_json(entry: &TaskEntry) -> serde_json::Value {
    let inputs: Vec<serde_json::Value> = entry
        .interface
        .inputs
        .iter()
        .map(|p| json!({ "name": p.name, "rust_type": p.rust_type, "type": p.ty.to_string() }))
        .collect();
    json!({
        "name": entry.name,
        "kind": kind(entry),
        "doc": entry.doc,
        "inputs": inputs,
        "output": {
            "rust_type": entry.interface.output_rust_type,
            "type": entry.interface.output.to_string(),
        },
        "retries": entry.metadata.retries,
        "timeout_ms": entry.metadata.timeout.map(|t| t.as_millis() as u64),
        "runnable": entry.not_portable_reason().is_none(),
    })
}
