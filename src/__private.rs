//! The only paths generated code uses. Not a public API: anything here may change in any release.

/// The task model, implemented by `#[task]`.
pub use maptask_core::{
    Describe, Execution, Interface, Metadata, Param, Resources, Task, TaskError, TaskResult,
};

/// What `#[derive(Describe)]` writes descriptions with.
pub use maptask_core::types::{
    describe_once, flatten_into, serde_struct, FieldDesc, SerdeValue, TypeDesc, VariantDesc,
};

/// Runs an `async` task's future on the current thread for `Task::call_blocking`.
pub use futures::executor::block_on;

/// The second stage of `map_task!` and of workflow calls, called by a task's signature macro.
pub use maptask_macros::__with_signature;

/// The value `map_task!` builds, and the pieces it builds it from.
pub use crate::mapped::{Bound, CriterionInput, MapParts, MapTask, Strict, Tolerant};

/// The type of a task's parameter number `I`, so generated code names a parameter's type by the
/// task's path, wherever the type itself was declared.
pub trait TaskParam<const I: usize> {
    /// The parameter's type.
    type Type;
}

/// A value bound in `map_task!`: every element gets its own clone.
#[diagnostic::on_unimplemented(
    message = "the bound value of type `{Self}` is not `Clone`",
    label = "bound here, but every element needs its own copy",
    note = "a value bound in `map_task!` is cloned for each element: derive or implement `Clone` for `{Self}`, or wrap it in `std::sync::Arc`"
)]
pub trait BoundValue: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> BoundValue for T {}

/// An error type a task can fail with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a task's error type",
    label = "this error type does not implement `std::error::Error + Send + Sync + 'static`",
    note = "return an error type that implements `std::error::Error`, e.g. `maptask::TaskError` (`TaskError::msg(text)`) or one derived with `thiserror`"
)]
pub trait TaskErrorType: std::error::Error + Send + Sync + 'static {}

impl<E: std::error::Error + Send + Sync + 'static> TaskErrorType for E {}

/// Converts what a `Result<T, E>` task returned into an attempt's outcome.
pub fn result_into_attempt<T, E: TaskErrorType>(result: Result<T, E>) -> Result<T, TaskError> {
    result.map_err(TaskError::from_error)
}

/// Workflow execution: contexts, node calls, shared values.
pub use crate::workflow::{
    call_as_task, completion, graph_node, join_nodes, node_value, ready_value, CallTuple,
    MapNodeCall, NodeCall, Overrides, TaskNodeCall, Value, Workflow, WorkflowCtx, WorkflowNodeCall,
};

/// The graph model that `#[workflow]` describes itself with.
pub use maptask_core::{Graph, GraphNode, NodeKind};

/// The runtime a workflow runs on by default.
pub use maptask_runtime::Runtime;

/// A boxed future, for the workflow trait.
pub use futures::future::BoxFuture;

/// Registers a `#[task]` or `#[workflow]` in the binary's registry, so that an entrypoint finds
/// it by name (feature `registry`, which `flyte` enables). `#[task]` emits one call per task.
///
/// Autoref specialization picks the erased serde functions when the task's inputs are
/// `DeserializeOwned + Clone` and its output `Serialize`, and otherwise records why the task is
/// not portable: a task with other types compiles as before.
#[cfg(feature = "registry")]
#[doc(hidden)]
#[macro_export]
macro_rules! __maptask_register_task {
    ($task:ident) => {
        $crate::__private::registry::inventory::submit! {
            $crate::__private::registry::Registration::new(
                <$task as $crate::__private::Task>::NAME,
                || {
                    #[allow(unused_imports)]
                    use $crate::__private::registry::{
                        InputsViaSerde as _, OutputViaSerde as _, ViaAnything as _, ViaSerde as _,
                    };
                    let __maptask_probe = $crate::__private::registry::Probe::<$task>::new();
                    $crate::__private::registry::TaskEntry::new::<$task>(
                        (&&__maptask_probe).maptask_portable(),
                        (&&__maptask_probe).maptask_inputs_reason(),
                        (&&__maptask_probe).maptask_output_reason(),
                    )
                },
            )
        }
    };
}

/// Without the `registry` feature, a task registers nothing and needs no serde bound.
#[cfg(not(feature = "registry"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __maptask_register_task {
    ($task:ident) => {};
}

/// The registration macro `#[task]` calls, by this path.
pub use crate::__maptask_register_task as register_task;

/// Caching: the function table `#[task(cache = "…")]` fills in, the functions it fills it with,
/// and the traits that report a type that is not a serde type at the `cache` option.
pub use crate::cached::{
    cache_decode_output, cache_encode_input, cache_encode_output, BoundValues, CacheInput,
    CacheOutput, Components,
};
pub use maptask_core::{CacheCodec, CodecError};
/// The registry that `register_task!` fills.
#[cfg(feature = "registry")]
pub use maptask_runtime::registry;
