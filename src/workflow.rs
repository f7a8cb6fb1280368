//! Running a `#[workflow]`: node calls on the runtime, values shared between nodes, overrides.
//!
//! The macro turns each node of the body into a future that waits for the values it consumes,
//! runs its task, map or sub-workflow, and shares its output with every consumer. The workflow
//! polls every node at once, so independent nodes run at the same time, and returns at the first
//! failure, dropping (and so cancelling) the nodes still running.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use maptask_core::{
    ElementFailure, Execution, Graph, GraphNode, MapError, NodeFailure, NodeKind, Resources, Task,
    TaskError, WorkflowError,
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

/// How a value is copied for each node that uses it: its type's `clone`, as a function pointer.
///
/// Taken where the type is known to be `Clone` (by `node_output` at the user's call, or by
/// [`ready_value`]), so that the code that shares values states no `Clone` bound of its own:
/// an output that is not `Clone` is reported once, at that call, and nowhere else.
#[doc(hidden)]
pub struct Share<T>(fn(&T) -> T);

impl<T> Clone for Share<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Share<T> {}

/// `T`'s own `clone`.
pub(crate) fn share_of<T: Clone>() -> Share<T> {
    Share(T::clone)
}

/// A value with the function that copies it: `Clone` whatever `T` is, as the shared future
/// that holds a node's output requires.
#[doc(hidden)]
pub struct Copyable<T> {
    value: T,
    share: Share<T>,
}

impl<T> Copyable<T> {
    /// `value`, copied with `share`.
    pub fn new(value: T, share: Share<T>) -> Self {
        Copyable { value, share }
    }
}

impl<T> Clone for Copyable<T> {
    fn clone(&self) -> Self {
        Copyable {
            value: (self.share.0)(&self.value),
            share: self.share,
        }
    }
}

/// A workflow value: the shared, eventually available output of a node or an input. Every
/// node that awaits it gets its own copy.
#[doc(hidden)]
pub struct Value<T> {
    shared: Shared<BoxFuture<'static, Result<Copyable<T>, WorkflowError>>>,
}

impl<T> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Value<T> {
    /// A fresh copy of the value of a node that has completed with success, for another
    /// attempt of a node that uses it (a retry makes its inputs again from such copies).
    ///
    /// # Panics
    ///
    /// If the value is not available yet or its node failed: a node makes its inputs again only
    /// after every value it uses has arrived.
    pub fn now(&self) -> T {
        match self.shared.peek() {
            Some(Ok(copy)) => copy.clone().value,
            _ => panic!("maptask: a workflow value was used before it arrived"),
        }
    }
}

impl<T> Future for Value<T> {
    type Output = Result<T, WorkflowError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.shared
            .poll_unpin(cx)
            .map(|result| result.map(|copy| copy.value))
    }
}

/// An input or a constant: a value available at once.
#[doc(hidden)]
pub fn ready_value<T: Clone + Send + Sync + 'static>(value: T) -> Value<T> {
    let value = Copyable::new(value, share_of::<T>());
    Value {
        shared: futures::future::ready(Ok(value)).boxed().shared(),
    }
}

/// A node's output, shared by its consumers.
#[doc(hidden)]
pub fn node_value<T, F>(future: F) -> Value<T>
where
    F: Future<Output = Result<Copyable<T>, WorkflowError>> + Send + 'static,
{
    Value {
        shared: future.boxed().shared(),
    }
}

/// A node's completion, whatever its output type, for joining every node.
#[doc(hidden)]
pub fn completion<T: Send + Sync + 'static>(
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
    type Output: Send + 'static;
    /// Runs the node as `node` in `ctx`; its output comes with the function that copies it for
    /// each consumer.
    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<Copyable<Self::Output>, WorkflowError>>;
}

/// How a task or sub-workflow node makes its inputs again, for another attempt: the code that
/// made them from the values the node uses (`build`), applied to fresh copies of those values
/// (`values`). So a retry needs no `Clone` of the inputs, only copies of the values, which
/// each value's producer has checked; a value that is not `Clone` is reported there, once.
#[derive(Clone)]
struct Rebuild<G, F> {
    values: G,
    build: F,
}

/// Makes a node's inputs `I` again (see [`Rebuild`]). Used behind a pointer, so that what runs
/// a node (its call, the engine, the cache) is compiled once per task, not once per node: each
/// node's `Rebuild` has a type of its own.
pub(crate) trait Remake<I>: Send {
    /// Inputs made again, from fresh copies of the values they are made of.
    fn remake(&self) -> I;
    /// A copy of this, boxed.
    fn boxed_clone(&self) -> Box<dyn Remake<I>>;
}

impl<I, D, G, F> Remake<I> for Rebuild<G, F>
where
    G: Fn() -> D + Clone + Send + 'static,
    F: Fn(D) -> I + Clone + Send + 'static,
{
    fn remake(&self) -> I {
        (self.build)((self.values)())
    }

    fn boxed_clone(&self) -> Box<dyn Remake<I>> {
        Box::new(self.clone())
    }
}

/// A node's first inputs, `build(values)`, and how to make them again from `again()`.
fn first_and_again<I, D, G, F>(values: D, again: G, build: F) -> (I, Box<dyn Remake<I>>)
where
    G: Fn() -> D + Clone + Send + 'static,
    F: Fn(D) -> I + Clone + Send + 'static,
{
    let first = build(values);
    let again = Rebuild {
        values: again,
        build,
    };
    (first, Box::new(again))
}

/// A task node's inputs as the engine takes them: cloning them makes them again (see
/// [`Rebuild`]), so the engine's attempts need no `Clone` of the inputs themselves.
pub(crate) struct NodeInputs<I> {
    pub(crate) value: I,
    again: Box<dyn Remake<I>>,
}

impl<I> Clone for NodeInputs<I> {
    fn clone(&self) -> Self {
        NodeInputs {
            value: self.again.remake(),
            again: self.again.boxed_clone(),
        }
    }
}

/// The [`Work`](maptask_runtime::Work) of a task node: task `T` on [`NodeInputs`].
pub(crate) struct NodeWork<T>(PhantomData<fn() -> T>);

impl<T> NodeWork<T> {
    pub(crate) const fn new() -> Self {
        NodeWork(PhantomData)
    }
}

impl<T: Task> maptask_runtime::Work<NodeInputs<T::Inputs>> for NodeWork<T> {
    type Output = T::Output;

    fn execution(&self) -> Execution {
        T::EXECUTION
    }

    fn call(
        &self,
        input: NodeInputs<T::Inputs>,
    ) -> impl Future<Output = Result<T::Output, TaskError>> + Send + 'static {
        T::call(input.value)
    }

    fn call_blocking(&self, input: NodeInputs<T::Inputs>) -> Result<T::Output, TaskError> {
        T::call_blocking(input.value)
    }
}

/// A task node: one call through the engine's attempt machinery (retries, timeout, panics).
#[doc(hidden)]
pub struct TaskNodeCall<T: Task> {
    inputs: T::Inputs,
    again: Box<dyn Remake<T::Inputs>>,
    share: Share<T::Output>,
}

/// A call of task `T` in a workflow: its inputs are `build(values)`, made again for a retry
/// from `again()`, fresh copies of the values; its output is copied with `share`.
#[doc(hidden)]
pub fn task_node<T, D, G, F>(
    values: D,
    again: G,
    build: F,
    share: Share<T::Output>,
) -> TaskNodeCall<T>
where
    T: Task,
    G: Fn() -> D + Clone + Send + 'static,
    F: Fn(D) -> T::Inputs + Clone + Send + 'static,
{
    let (inputs, again) = first_and_again(values, again, build);
    TaskNodeCall {
        inputs,
        again,
        share,
    }
}

impl<T: Task> NodeCall for TaskNodeCall<T> {
    type Output = T::Output;

    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<Copyable<T::Output>, WorkflowError>> {
        let share = self.share;
        let inputs = NodeInputs {
            value: self.inputs,
            again: self.again,
        };
        async move {
            let retries = overrides.retries.unwrap_or(T::METADATA.retries);
            let timeout = overrides.timeout.or(T::METADATA.timeout);
            // Through the cache when `T` is cached (`crate::cached`), else a plain call.
            crate::cached::run_task_node::<T>(
                &ctx.runtime,
                node,
                retries,
                timeout,
                inputs,
                ctx.options.clone(),
            )
            .await
            .map(|output| Copyable::new(output, share))
            .map_err(|failure| ctx.fail(node, T::NAME, NodeFailure::Task(failure)))
        }
        .boxed()
    }
}

/// A sub-workflow node: runs the sub-workflow's graph on the same runtime.
#[doc(hidden)]
pub struct WorkflowNodeCall<W: Workflow> {
    inputs: W::Inputs,
    again: Box<dyn Remake<W::Inputs>>,
    share: Share<W::Output>,
}

/// A call of sub-workflow `W`, as [`task_node`] for a task.
#[doc(hidden)]
pub fn workflow_node<W, D, G, F>(
    values: D,
    again: G,
    build: F,
    share: Share<W::Output>,
) -> WorkflowNodeCall<W>
where
    W: Workflow,
    G: Fn() -> D + Clone + Send + 'static,
    F: Fn(D) -> W::Inputs + Clone + Send + 'static,
{
    let (inputs, again) = first_and_again(values, again, build);
    WorkflowNodeCall {
        inputs,
        again,
        share,
    }
}

impl<W: Workflow> NodeCall for WorkflowNodeCall<W> {
    type Output = W::Output;

    /// Runs the sub-workflow up to `retries + 1` times, each run bounded by `timeout`; the
    /// first run takes the node's inputs, each later one inputs made again.
    ///
    /// This loop is not the engine's attempt machinery on purpose: a sub-workflow holds no slot
    /// of the runtime-wide cap on elements in flight, since its own nodes need those slots.
    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<Copyable<W::Output>, WorkflowError>> {
        let (share, again) = (self.share, self.again);
        let mut first = Some(self.inputs);
        async move {
            let retries = overrides.retries.unwrap_or(W::METADATA.retries);
            let mut attempt = 0u32;
            loop {
                attempt += 1;
                let inputs = first.take().unwrap_or_else(|| again.remake());
                let run = W::run_in(ctx.child(W::NAME), inputs);
                let failure = match overrides.timeout {
                    None => match run.await {
                        Ok(output) => return Ok(Copyable::new(output, share)),
                        Err(e) => NodeFailure::Workflow(e),
                    },
                    Some(limit) => match tokio::time::timeout(limit, run).await {
                        Ok(Ok(output)) => return Ok(Copyable::new(output, share)),
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

/// A map node, whose output `O` is copied with its `share`.
#[doc(hidden)]
pub struct MapNodeCall<Mt, In, O> {
    map: Mt,
    inputs: In,
    share: Share<O>,
}

impl<Mt, In, O> MapNodeCall<Mt, In, O> {
    /// A call of `map` with `inputs`, whose output is copied with `share`.
    pub fn new(map: Mt, inputs: In, share: Share<O>) -> Self {
        MapNodeCall { map, inputs, share }
    }
}

impl<T, M, B, K, In, O> NodeCall for MapNodeCall<MapTask<T, M, B, K>, In, O>
where
    T: Task,
    M: Send + 'static,
    B: Send + Sync + 'static,
    K: Tolerance,
    In: Send + 'static,
    O: Send + 'static,
    MapTask<T, M, B, K>: CallTuple<In, Output = O>,
{
    type Output = O;

    fn run(
        self,
        ctx: WorkflowCtx,
        node: &'static str,
        overrides: Overrides,
    ) -> BoxFuture<'static, Result<Copyable<O>, WorkflowError>> {
        let map = self
            .map
            .for_node(ctx.runtime.clone(), ctx.options.clone(), &overrides);
        let (inputs, share) = (self.inputs, self.share);
        async move {
            map.call_tuple(inputs)
                .await
                .map(|output| Copyable::new(output, share))
                .map_err(|e| {
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
