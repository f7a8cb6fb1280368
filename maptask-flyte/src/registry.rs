//! The Flyte definitions of the `#[workflow]`s linked into a binary, found by name.
//!
//! With the facade's `flyte` feature, `#[workflow]` submits one [`WorkflowRegistration`]: its
//! name and the function that builds its [`WorkflowDef`] from the body's graph (each node's
//! target, its bindings to workflow inputs, node outputs and constants, its overrides, and the
//! output's binding). Tasks need no entry of their own: the task registry
//! ([`maptask_runtime::registry`]) holds what a [`TaskDef`] is made of.
//!
//! [`package`] turns registered names into the files `pyflyte serialize` writes, refusing a task
//! that cannot run from serialized inputs (the container could not run it).

use maptask_runtime::registry::{self as tasks, TaskEntry};

use crate::serialize::files::Package;
use crate::serialize::workflow::{workflow_templates, Target, WorkflowDef};
use crate::serialize::{task_template, SerializeError, Settings, TaskDef};

/// What `#[workflow]` submits under the facade's `flyte` feature.
pub struct WorkflowRegistration {
    name: &'static str,
    def: fn() -> Result<WorkflowDef, SerializeError>,
}

impl WorkflowRegistration {
    /// The registration of the workflow named `name`, whose definition `def` builds.
    pub const fn new(
        name: &'static str,
        def: fn() -> Result<WorkflowDef, SerializeError>,
    ) -> WorkflowRegistration {
        WorkflowRegistration { name, def }
    }

    /// The workflow's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Builds the workflow's definition.
    pub fn def(&self) -> Result<WorkflowDef, SerializeError> {
        (self.def)()
    }
}

maptask_runtime::registry::inventory::collect!(WorkflowRegistration);

/// The Flyte definition of the registered workflow `name`; `None` when no workflow of that
/// name was registered with the `flyte` feature on.
pub fn workflow_def(name: &str) -> Option<Result<WorkflowDef, SerializeError>> {
    maptask_runtime::registry::inventory::iter::<WorkflowRegistration>
        .into_iter()
        .find(|r| r.name == name)
        .map(WorkflowRegistration::def)
}

/// The names of the workflows with a Flyte definition, sorted.
pub fn workflow_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> =
        maptask_runtime::registry::inventory::iter::<WorkflowRegistration>
            .into_iter()
            .map(WorkflowRegistration::name)
            .collect();
    names.sort_unstable();
    names
}

/// The definition of a registered task, as its registry entry describes it.
pub fn task_def(entry: &TaskEntry) -> TaskDef {
    TaskDef {
        name: entry.name.to_owned(),
        interface: entry.interface.clone(),
        metadata: entry.metadata,
    }
}

/// Why a registered entity cannot be written for Flyte.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PackageError {
    /// No task or workflow of this name is linked into the binary.
    #[error("no task or workflow named `{name}` is linked into this binary; registered: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The registered names, listed.
        known: String,
    },
    /// A workflow was registered without its Flyte definition (built without `flyte`).
    #[error("workflow `{name}` has no Flyte definition: build with the cargo feature `flyte` of `maptask`")]
    NoDefinition {
        /// The workflow.
        name: String,
    },
    /// A task's inputs or output cannot be read or written by the container entrypoint.
    #[error("task `{task}` cannot cross to Flyte: {reason}")]
    NotPortable {
        /// The task.
        task: String,
        /// Which types are at fault.
        reason: String,
    },
    /// The templates could not be built.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
}

/// The files `pyflyte serialize` writes for the registered tasks and workflows `names` (every
/// registered one when empty), in order: each task, then each workflow with the tasks it runs.
///
/// Every task a template refers to must be portable: the container runs it from serialized
/// inputs.
pub fn package(names: &[&str], settings: &Settings) -> Result<Package, PackageError> {
    let entries: Vec<TaskEntry> = if names.is_empty() {
        tasks::entries()
    } else {
        names
            .iter()
            .map(|name| {
                tasks::find(name).map_err(|error| match error {
                    tasks::RegistryError::Unknown { name, known } => PackageError::Unknown {
                        name,
                        known: if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known
                                .iter()
                                .map(|n| format!("`{n}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        },
                    },
                    other => PackageError::Unknown {
                        name: name.to_string(),
                        known: other.to_string(),
                    },
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut package = Package::new();
    // Tasks first, as pyflyte lists the functions of a module before its workflows.
    for entry in entries.iter().filter(|e| !e.is_workflow) {
        portable(entry.name)?;
        package.add_task(task_template(&task_def(entry), settings)?);
    }
    for entry in entries.iter().filter(|e| e.is_workflow) {
        let def = workflow_def(entry.name).ok_or_else(|| PackageError::NoDefinition {
            name: entry.name.to_owned(),
        })??;
        every_task_portable(&def)?;
        package.add_workflow_templates(workflow_templates(&def, settings)?);
    }
    Ok(package)
}

/// Fails when a task that `def` or one of its sub-workflows runs is not portable.
fn every_task_portable(def: &WorkflowDef) -> Result<(), PackageError> {
    for node in &def.nodes {
        match &node.target {
            Target::Task(t) => portable(&t.name)?,
            Target::Map(m) => portable(&m.task.name)?,
            Target::Workflow(sub) => every_task_portable(sub)?,
        }
    }
    Ok(())
}

/// Fails when the registered task `name` cannot run from serialized inputs. A task that is not
/// registered (a hand-written `Task`) is left to the container to report.
fn portable(name: &str) -> Result<(), PackageError> {
    match tasks::find(name) {
        Ok(entry) => match entry.not_portable_reason() {
            Some(reason) => Err(PackageError::NotPortable {
                task: name.to_owned(),
                reason: reason.to_owned(),
            }),
            None => Ok(()),
        },
        Err(_) => Ok(()),
    }
}
