//! One module per subcommand.

pub mod cache;
pub mod graph;
pub mod list;
pub mod run;
pub mod serialize;

use maptask_runtime::registry::{self, RegistryError, TaskEntry};

use crate::error::CliError;

/// The task or workflow named `name`, or a usage error that lists the known names.
pub fn find(name: &str) -> Result<TaskEntry, CliError> {
    registry::find(name).map_err(|error| match error {
        RegistryError::Unknown { name, known } => CliError::UnknownEntity {
            name,
            known: list_names(known.iter().map(String::as_str)),
        },
        other => CliError::Other(other.to_string()),
    })
}

/// `` `a`, `b` `` or `none`.
pub fn list_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}
