//! Errors of a workflow run.

use std::fmt;
use std::sync::Arc;

use crate::error::{ElementFailure, MapError, TaskError};

/// What failed inside a node.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeFailure {
    /// A task node failed after its attempts.
    Task(ElementFailure),
    /// A map node failed.
    Map(MapError),
    /// A sub-workflow failed.
    Workflow(WorkflowError),
}

impl fmt::Display for NodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeFailure::Task(failure) => {
                let last = failure
                    .last_error()
                    .map_or_else(|| "unknown error".to_owned(), TaskError::full_message);
                write!(
                    f,
                    "{last} (after {} attempt{})",
                    failure.attempts,
                    if failure.attempts == 1 { "" } else { "s" }
                )
            }
            NodeFailure::Map(e) => write!(f, "{e}"),
            NodeFailure::Workflow(e) => write!(f, "{e}"),
        }
    }
}

/// The failure of a workflow: the node that failed first, what it ran, and why. The nodes still
/// running were cancelled.
///
/// Cheap to clone: every node waiting on a failed one receives the same error.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowError {
    inner: Arc<Inner>,
}

#[derive(Debug, PartialEq)]
struct Inner {
    workflow: String,
    node: String,
    entity: String,
    failure: NodeFailure,
}

impl WorkflowError {
    /// The failure of `node`, which ran `entity`, in `workflow`.
    pub fn new(
        workflow: impl Into<String>,
        node: impl Into<String>,
        entity: impl Into<String>,
        failure: NodeFailure,
    ) -> WorkflowError {
        WorkflowError {
            inner: Arc::new(Inner {
                workflow: workflow.into(),
                node: node.into(),
                entity: entity.into(),
                failure,
            }),
        }
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &str {
        &self.inner.workflow
    }

    /// The id of the node that failed.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// The name of the task, map or workflow the node ran.
    pub fn entity(&self) -> &str {
        &self.inner.entity
    }

    /// Why the node failed.
    pub fn failure(&self) -> &NodeFailure {
        &self.inner.failure
    }
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "workflow `{}` failed at node `{}` ({}): {}",
            self.inner.workflow, self.inner.node, self.inner.entity, self.inner.failure
        )
    }
}

/// The message holds every cause (a task's error with its sources, a map's failure summary, a
/// sub-workflow's failure), so `source()` is `None`: a chain walk prints each cause once. Use
/// [`WorkflowError::failure`] for the parts.
impl std::error::Error for WorkflowError {}
