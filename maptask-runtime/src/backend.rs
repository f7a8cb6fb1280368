//! Backends: where the elements of maps run when not on this process's engine.
//!
//! A [`Runtime`] built with [`RuntimeBuilder::backend`](crate::RuntimeBuilder::backend) hands
//! every map it runs for a `map_task!` (in a workflow or called directly) to its backend, as a
//! [`RemoteMap`]: the registered name of the task, the map's specification, and each element's
//! inputs, type-erased. The backend returns one erased output per element. Task nodes and
//! direct task calls still run on the engine.
//!
//! The process backend of `maptask-cli` is one: it writes the inputs as Flyte literals, runs
//! each element attempt as a child process (`map-execute`) and reads back the outputs.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use maptask_core::MapSpec;

use crate::report::MapOutcome;
use crate::runtime::{RunOptions, Runtime};

/// Runs maps elsewhere than on this process's engine.
pub trait MapBackend: Send + Sync + 'static {
    /// The backend's name, for messages, e.g. `process`.
    fn name(&self) -> &str;

    /// Runs `map` under its specification, with `runtime`'s cap and `options`' observer and
    /// token. The outcome has one entry per element, in input order, each holding the task's
    /// output (`T::Output`) boxed, or `None` for a failed element.
    fn run_map(
        &self,
        runtime: &Runtime,
        map: RemoteMap,
        options: RunOptions,
    ) -> BoxFuture<'static, MapOutcome<Box<dyn Any + Send>>>;
}

/// One map, handed to a [`MapBackend`].
pub struct RemoteMap {
    /// The map's specification (name, concurrency, criterion, retries, timeout).
    pub spec: MapSpec,
    /// The registered name of the task every element runs ([`Task::NAME`](maptask_core::Task::NAME)).
    pub task: &'static str,
    /// The names of the mapped parameters; the others are bound, the same for every element.
    pub mapped: &'static [&'static str],
    /// Each element's inputs: a boxed `T::Inputs` tuple, bound values included.
    pub elements: Vec<Box<dyn Any + Send>>,
    /// Called with an element's index and output (a `T::Output`) as soon as the backend has
    /// it, before the map ends: the cache stores successes here, so that a crash of this
    /// process loses only what was still running and what the store had not committed yet
    /// (its writer commits in the background, within milliseconds). A backend may call it at
    /// most once per element, from any thread; one that never calls it is correct too (the
    /// outputs are then taken from the outcome).
    pub on_output: Option<OutputHook>,
}

/// See [`RemoteMap::on_output`].
pub type OutputHook = Arc<dyn Fn(usize, &(dyn Any + Send)) + Send + Sync>;

impl fmt::Debug for RemoteMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteMap")
            .field("spec", &self.spec)
            .field("task", &self.task)
            .field("mapped", &self.mapped)
            .field("elements", &self.elements.len())
            .field("on_output", &self.on_output.is_some())
            .finish()
    }
}
