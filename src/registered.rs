//! What a `#[workflow]` adds to its registry entry (feature `registry`): its graph, and a run
//! on a given runtime with given options, so that `maptask::cli` runs it with the chosen
//! backend and draws its progress.
//!
//! Chosen by autoref specialization in the registration macro, on three levels: a workflow
//! whose output is `Serialize` gets both; any other workflow gets its graph; a task gets none.

use std::any::Any;

use futures::FutureExt;
use maptask_core::Task;
use maptask_runtime::registry::{Probe, TaskOutput, WorkflowFns, WorkflowRunFuture};
use maptask_runtime::{RunOptions, Runtime};
use serde::Serialize;

use crate::workflow::{Workflow, WorkflowCtx};

/// A workflow whose output is `Serialize`: graph and run.
pub trait WorkflowRunProbe {
    /// Graph and run.
    fn maptask_workflow(&self) -> Option<WorkflowFns>;
}

/// Any workflow: its graph.
pub trait WorkflowGraphProbe {
    /// The graph only.
    fn maptask_workflow(&self) -> Option<WorkflowFns>;
}

/// A task: nothing.
pub trait NotWorkflowProbe {
    /// None.
    fn maptask_workflow(&self) -> Option<WorkflowFns>;
}

impl<W: Workflow> WorkflowRunProbe for &&Probe<W>
where
    W::Output: Serialize,
{
    fn maptask_workflow(&self) -> Option<WorkflowFns> {
        Some(WorkflowFns {
            graph: W::graph,
            run: Some(run_erased::<W>),
        })
    }
}

impl<W: Workflow> WorkflowGraphProbe for &Probe<W> {
    fn maptask_workflow(&self) -> Option<WorkflowFns> {
        Some(WorkflowFns {
            graph: W::graph,
            run: None,
        })
    }
}

impl<T: Task> NotWorkflowProbe for Probe<T> {
    fn maptask_workflow(&self) -> Option<WorkflowFns> {
        None
    }
}

fn run_erased<W: Workflow>(
    inputs: Box<dyn Any + Send>,
    runtime: Runtime,
    options: RunOptions,
) -> WorkflowRunFuture
where
    W::Output: Serialize,
{
    let inputs = match inputs.downcast::<W::Inputs>() {
        Ok(inputs) => *inputs,
        Err(_) => {
            let message = format!(
                "internal error: the inputs given to workflow `{}` are not its inputs",
                W::NAME
            );
            return async move { Err(message.into()) }.boxed();
        }
    };
    let ctx = WorkflowCtx::new(runtime, W::NAME).with_options(options);
    W::run_in(ctx, inputs)
        .map(|result| match result {
            Ok(output) => Ok(Box::new(output) as TaskOutput),
            Err(error) => Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>),
        })
        .boxed()
}
