//! Running a `#[workflow]`: node calls on the runtime, values shared between nodes, overrides.
//!
//! The macro turns each node of the body into a future that waits for the values it consumes,
//! runs its task, map or sub-workflow, and shares its output with every consumer. The workflow
//! polls every node at once, so independent nodes run at the same time, and returns at the first
//! failure, dropping (and so cancelling) the nodes still running.

use std::future::Future;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use maptask_core::{
    ElementFailure, Graph, GraphNode, MapError, NodeFailure, NodeKind, Resources, Task, TaskError,
    WorkflowError,
};
use maptask_runtime::{RunOptions, Runtime};

use crate::mapped::{MapTask, Tolerance};

/// A `#[workflow]`: a task whose body is a graph of nodes.
pub trait Workflow: Task {
    /// Runs the graph in `ctx`.
    fn run_in(
        ctx: WorkflowCtx,
        inputs: Self::Inputs,
    ) -> BoxFuture<'static, Result<Self::Output, WorkflowError>>;

    /// The static graph: nodes, edges and interface.
    fn graph() -> Graph;
}

/// Where a workflow runs: the runtime, its name, and the options passed to every node.
#[derive(Clone, Debug)]
pub struct WorkflowCtx {
    runtime: Runtime,
    workflow: &'static str,
    options: RunOptions,
}

impl WorkflowCtx {
    /// A context for workflow `workflow` on `runtime`.
    pub fn new(runtime: Runtime, workflow: &'static str) -> WorkflowCtx {
        WorkflowCtx {
            runtime,
            workflow,
            options: RunOptions::default(),
        }
    }

    /// Passes `options` (an observer, a cancellation token) to every node.
    #[must_use]
    pub fn with_options(mut self, options: RunOptions) -> WorkflowCtx {
        self.options = options;
        self
    }

    /// The runtime nodes run on.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The workflow's name.
    pub fn workflow(&self) -> &'static str {
        self.workflow
    }

    fn child(&self, workflow: &'static str) -> WorkflowCtx {
        WorkflowCtx {
            workflow,
            ..self.clone()
        }
    }

    fn fail(&self, node: &str, entity: &str, failure: NodeFailure) -> WorkflowError {
        WorkflowError::new(self.workflow, node, entity, failure)
    }
}

/// What `.with_overrides(…)` changes when a node runs. Resource overrides change no local run;
/// they are recorded in the node's [`GraphNode`] by [`graph_node`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub concurrency: Option<usize>,
}

/// A workflow value: the shared, eventually available output of a node or an input.
#[doc(hidden)]
pub type Value<T> = Shared<BoxFuture<'static, Result<T, WorkflowError>>>;

/// An input or a constant: a value available at once.
#[doc(hidden)]
pub fn ready_value<T: Clone + Send + Sync + 'static>(value: T) -> Value<T> {
    futures::future::ready(Ok(value)).boxed().shared()
}

/// A node's output, shared by its consumers.
#[doc(hidden)]
pub fn node_value<T, F>(future: F) -> Value<T>
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = Result<T, WorkflowError>> + Send + 'static,
{
    future.boxed().shared()
}

/// A node's completion, whatever its output type, for joining every node.
#[doc(hidden)]
pub fn completion<T: Clone + Send + Sync + 'static>(
    value: &Value<T>,
) -> BoxFuture<'static, Result<(), WorkflowError>> {
    let value = value.clone();
    async move { value.await.map(drop) }.boxed()
}

/// Waits for every node; returns at the first failure, which drops, and so cancels, the rest.
#[doc(hidden)]
pub async fn join_nodes(
    nodes: Vec<BoxFuture<'static, Result<(), WorkflowError>>>,
) -> Result<(), WorkflowError> {
    futures::future::try_join_all(nodes).await.map(drop)
}

/// One node of a workflow, ready to run once its inputs are known.
#[doc(hidden)]
pub trait NodeCall: Send + 'static {
    /// The node's output.
    type Output: Clone + Send + Sync + 'static;
    /// Runs the node as `node` in `ctx`.
    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<Self::Output, WorkflowError>>;
}

/// A task node: one call through the engine's attempt machinery (retries, timeout, panics).
#[doc(hidden)]
pub struct TaskNodeCall<T: Task> {
    inputs: T::Inputs,
}

impl<T: Task> TaskNodeCall<T> {
    pub fn new(inputs: T::Inputs) -> Self {
        TaskNodeCall { inputs }
    }
}

impl<T> NodeCall for TaskNodeCall<T>
where
    T: Task,
    T::Inputs: Clone,
    T::Output: Clone + Sync,
{
    type Output = T::Output;

    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<T::Output, WorkflowError>> {
        async move {
            let retries = overrides.retries.unwrap_or(T::METADATA.retries);
            let timeout = overrides.timeout.or(T::METADATA.timeout);
            // Through the cache when `T` is cached (`crate::cached`), else a plain call.
            crate::cached::run_task_node::<T>(
                &ctx.runtime,
                node,
                retries,
                timeout,
                self.inputs,
                ctx.options.clone(),
            )
            .await
            .map_err(|failure| ctx.fail(node, T::NAME, NodeFailure::Task(failure)))
        }
        .boxed()
    }
}

/// A sub-workflow node: runs the sub-workflow's graph on the same runtime.
#[doc(hidden)]
pub struct WorkflowNodeCall<W: Workflow> {
    inputs: W::Inputs,
}

impl<W: Workflow> WorkflowNodeCall<W> {
    pub fn new(inputs: W::Inputs) -> Self {
        WorkflowNodeCall { inputs }
    }
}

impl<W> NodeCall for WorkflowNodeCall<W>
where
    W: Workflow,
    W::Inputs: Clone,
    W::Output: Clone + Sync,
{
    type Output = W::Output;

    /// Runs the sub-workflow up to `retries + 1` times, each run bounded by `timeout`.
    ///
    /// This loop is not the engine's attempt machinery on purpose: a sub-workflow holds no slot
    /// of the runtime-wide cap on elements in flight, since its own nodes need those slots.
    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<W::Output, WorkflowError>> {
        async move {
            let retries = overrides.retries.unwrap_or(W::METADATA.retries);
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let run = W::run_in(ctx.child(W::NAME), self.inputs.clone());
                let failure = match overrides.timeout {
                    None => match run.await {
                        Ok(output) => return Ok(output),
                        Err(e) => NodeFailure::Workflow(e),
                    },
                    Some(limit) => match tokio::time::timeout(limit, run).await {
                        Ok(Ok(output)) => return Ok(output),
                        Ok(Err(e)) => NodeFailure::Workflow(e),
                        Err(_) => NodeFailure::Task(ElementFailure {
                            index: 0,
                            attempts: attempt,
                            errors: vec![TaskError::timeout(limit)],
                        }),
                    },
                };
                if attempt > retries {
                    return Err(ctx.fail(node, W::NAME, failure));
                }
            }
        }
        .boxed()
    }
}

/// A map called with its mapped inputs, as a tuple of `Vec`s in declaration order.
#[doc(hidden)]
pub trait CallTuple<In>: Send + Sync + 'static {
    /// The map's output.
    type Output;
    /// Calls the map.
    fn call_tuple(&self, inputs: In) -> BoxFuture<'_, Result<Self::Output, MapError>>;
}

/// A map node.
#[doc(hidden)]
pub struct MapNodeCall<Mt, In> {
    map: Mt,
    inputs: In,
}

impl<Mt, In> MapNodeCall<Mt, In> {
    pub fn new(map: Mt, inputs: In) -> Self {
        MapNodeCall { map, inputs }
    }
}

impl<T, M, B, K, In> NodeCall for MapNodeCall<MapTask<T, M, B, K>, In>
where
    T: Task,
    M: Send + 'static,
    B: Send + Sync + 'static,
    K: Tolerance,
    In: Send + 'static,
    MapTask<T, M, B, K>: CallTuple<In>,
    <MapTask<T, M, B, K> as CallTuple<In>>::Output: Clone + Send + Sync + 'static,
{
    type Output = <MapTask<T, M, B, K> as CallTuple<In>>::Output;

    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<Self::Output, WorkflowError>> {
        let map = self
            .map
            .for_node(ctx.runtime.clone(), ctx.options.clone(), &overrides);
        let inputs = self.inputs;
        async move {
            map.call_tuple(inputs).await.map_err(|e| {
                let entity = map.name().to_owned();
                ctx.fail(node, &entity, NodeFailure::Map(e))
            })
        }
        .boxed()
    }
}

/// Runs a workflow as a task, on the default runtime: what `map_task!` over a workflow uses.
#[doc(hidden)]
pub fn call_as_task<W: Workflow>(
    inputs: W::Inputs,
) -> BoxFuture<'static, Result<W::Output, TaskError>> {
    W::run_in(WorkflowCtx::new(Runtime::global().clone(), W::NAME), inputs)
        .map(|result| result.map_err(TaskError::from_error))
        .boxed()
}

/// A node of a workflow's graph that calls task (or workflow) `T`: its kind, the callee's name,
/// and the callee's resources with the node's overrides applied.
#[doc(hidden)]
pub fn graph_node<T: Task>(
    id: &str,
    is_map: bool,
    requests: Resources,
    limits: Resources,
) -> GraphNode {
    let kind = if is_map {
        NodeKind::Map
    } else if T::IS_WORKFLOW {
        NodeKind::Workflow
    } else {
        NodeKind::Task
    };
    GraphNode {
        id: id.to_owned(),
        kind,
        entity: T::NAME.to_owned(),
        requests: T::METADATA.requests.merged_with(requests),
        limits: T::METADATA.limits.merged_with(limits),
    }
}
