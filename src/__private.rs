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

/// `map_task!` itself, called by the facade's `map_task!` with the caller's path of this crate.
pub use maptask_macros::map_task;

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

/// An element of a mapped input: cloned for each attempt that another may follow, and moved to
/// the thread that runs it.
#[diagnostic::on_unimplemented(
    message = "`{Self}`, the element type of a mapped input, is not `Clone`",
    label = "this task's parameter of type `{Self}` is mapped",
    note = "an element is cloned for each attempt that a retry may follow (`Send` too, since elements run on several threads): derive `Clone` for `{Self}`, or map over `std::sync::Arc<{Self}>`"
)]
pub trait MappedElement: Clone + Send + 'static {}

impl<T: Clone + Send + 'static> MappedElement for T {}

/// A mapped parameter's type, checked at the task's path in `map_task!` by calling
/// [`Element::mapped`] there: the method's name is the one token of the check that carries the
/// user's span, so the error points at the task.
pub struct Element<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Element<T> {
    /// The check of type `T`.
    pub fn of() -> Self {
        Element(std::marker::PhantomData)
    }

    /// Checks that `T` can be the element type of a mapped input.
    pub fn mapped(self)
    where
        T: MappedElement,
    {
    }
}

/// The output of a workflow node (a task's, or a mapped task's element): shared by every node
/// that uses it, so cloned.
#[diagnostic::on_unimplemented(
    message = "`{Self}`, the output of a workflow node, is not `Clone`",
    label = "this node's output is shared with every node that uses it",
    note = "a workflow hands each consumer its own copy of a node's output (`Send + Sync` too, since nodes run on several threads): derive `Clone` for `{Self}`, or return it in a `std::sync::Arc`"
)]
pub trait NodeOutput: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> NodeOutput for T {}

/// Checks, at the user's call, that a node's output can be shared, and returns how it is copied
/// for each node that uses it. When the check fails, the result still has its type, so the
/// failed bound is the only error.
pub fn node_output<T: NodeOutput>() -> Share<T> {
    crate::workflow::share_of()
}

/// Checks, at the user's `map_task!` in a workflow, that the mapped task's output can be shared,
/// as [`node_output`] does for a task's, and returns how the map's output is copied.
pub fn map_output<O: NodeOutput, T: Task<Output = O>, M, B, K: crate::Tolerance>(
    _map: &MapTask<T, M, B, K>,
) -> Share<K::Output<O>> {
    K::share::<O>()
}

/// Converts the `Err` of a `Result<T, E>` task into a [`TaskError`], whatever `E` is.
///
/// No single trait can do it: `anyhow::Error` and `Box<dyn Error + Send + Sync>` do not
/// implement `std::error::Error`, and a blanket implementation over `E: Error` next to one for
/// either of them overlaps (upstream may add the missing implementation). So the task's
/// expansion picks a conversion by method resolution on `&&&ErrorProbe<E>`, which tries each
/// receiver in turn and takes the first that applies ("autoref specialization"), with `E`
/// concrete at that point:
///
/// 1. `E = TaskError`: as it is, permanence included;
/// 2. `E: std::error::Error + Send + Sync + 'static`, or `E = anyhow::Error`: wrapped;
/// 3. `E: Into<Box<dyn Error + Send + Sync>>` (a boxed error, a `String`, a `&'static str`);
/// 4. anything else: a compile error at the error type, through [`error_kind::UnsupportedTaskError`].
pub mod error_kind {
    use std::marker::PhantomData;

    use maptask_core::TaskError;

    /// Carries the error type, so a conversion can be chosen without touching the value.
    pub struct ErrorProbe<E>(PhantomData<fn() -> E>);

    impl<E> Clone for ErrorProbe<E> {
        fn clone(&self) -> Self {
            *self
        }
    }

    impl<E> Copy for ErrorProbe<E> {}

    /// The probe for `error`'s type.
    pub fn probe<E>(_error: &E) -> ErrorProbe<E> {
        ErrorProbe(PhantomData)
    }

    /// Rule 1: a `TaskError`.
    pub struct AsIs;
    /// Rule 2: an error type.
    pub struct Wrap;
    /// Rule 2: an `anyhow::Error`.
    pub struct Anyhow;
    /// Rule 3: something that converts into a boxed error.
    pub struct Boxed;
    /// Rule 4: not an error.
    pub struct Unsupported;

    /// Rule 1.
    pub trait AsIsKind {
        /// The conversion to use.
        fn __maptask_error_kind(&self) -> AsIs {
            AsIs
        }
    }
    impl AsIsKind for &&ErrorProbe<TaskError> {}

    /// Rule 2.
    pub trait WrapKind {
        /// The conversion to use.
        fn __maptask_error_kind(&self) -> Wrap {
            Wrap
        }
    }
    impl<E: std::error::Error + Send + Sync + 'static> WrapKind for &ErrorProbe<E> {}

    /// Rule 2, for anyhow.
    pub trait AnyhowKind {
        /// The conversion to use.
        fn __maptask_error_kind(&self) -> Anyhow {
            Anyhow
        }
    }
    impl AnyhowKind for &ErrorProbe<anyhow::Error> {}

    /// Rule 3.
    pub trait BoxedKind {
        /// The conversion to use.
        fn __maptask_error_kind(&self) -> Boxed {
            Boxed
        }
    }
    impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> BoxedKind for ErrorProbe<E> {}

    /// Rule 4: taken by value, so it is tried last.
    pub trait UnsupportedKind {
        /// The conversion to use.
        fn __maptask_error_kind(self) -> Unsupported
        where
            Self: Sized,
        {
            Unsupported
        }
    }
    impl<E> UnsupportedKind for ErrorProbe<E> {}

    impl AsIs {
        /// Converts.
        pub fn convert(self, error: TaskError) -> TaskError {
            error
        }
    }

    impl Wrap {
        /// Converts.
        pub fn convert<E: std::error::Error + Send + Sync + 'static>(self, error: E) -> TaskError {
            TaskError::from_error(error)
        }
    }

    impl Anyhow {
        /// Converts.
        pub fn convert(self, error: anyhow::Error) -> TaskError {
            TaskError::from_anyhow(error)
        }
    }

    impl Boxed {
        /// Converts.
        pub fn convert<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
            self,
            error: E,
        ) -> TaskError {
            TaskError::from_boxed(error.into())
        }
    }

    impl Unsupported {
        /// Never compiles: `E` has no conversion, and the bound says why.
        pub fn convert<E: UnsupportedTaskError>(self, _error: E) -> TaskError {
            unreachable!("no type implements UnsupportedTaskError")
        }
    }

    /// Implemented by no type: the bound that reports an error type without a conversion.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a task's error type",
        label = "a task's `Err` must be an error",
        note = "use a type that implements `std::error::Error + Send + Sync + 'static` (e.g. one derived with `thiserror`), `anyhow::Error`, `Box<dyn std::error::Error + Send + Sync>`, `String`, or `maptask::TaskError` (`TaskError::msg(text)`)"
    )]
    pub trait UnsupportedTaskError {}
}

/// Workflow execution: contexts, node calls, shared values.
pub use crate::workflow::{
    call_as_task, completion, graph_node, join_nodes, node_value, ready_value, task_node,
    workflow_node, CallTuple, Copyable, MapNodeCall, NodeCall, Overrides, Share, TaskNodeCall,
    Value, Workflow, WorkflowCtx, WorkflowNodeCall,
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
                    #[allow(unused_imports)]
                    use $crate::__private::registered::{
                        NotWorkflowProbe as _, RemoteViaAnything as _, RemoteViaSerde as _,
                        WorkflowGraphProbe as _, WorkflowRunProbe as _,
                    };
                    let __maptask_probe = $crate::__private::registry::Probe::<$task>::new();
                    $crate::__private::registry::TaskEntry::new::<$task>(
                        (&&__maptask_probe).maptask_portable(),
                        (&&__maptask_probe).maptask_inputs_reason(),
                        (&&__maptask_probe).maptask_output_reason(),
                    )
                    .with_remote((&&__maptask_probe).maptask_remote())
                    .with_workflow((&&&__maptask_probe).maptask_workflow())
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

/// The probes `register_task!` uses for workflows and for maps handed to other processes.
#[cfg(feature = "registry")]
pub mod registered {
    pub use crate::registered::{NotWorkflowProbe, WorkflowGraphProbe, WorkflowRunProbe};
    pub use maptask_runtime::registry::{RemoteViaAnything, RemoteViaSerde};
}
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

/// What a `#[workflow]`'s Flyte definition is built with (feature `flyte`).
#[cfg(feature = "flyte")]
pub mod flyte {
    pub use crate::flyte::graph::{
        input, invalid_node, map_node, output, task_node, workflow_def, workflow_node, Arg,
        ArgProbe, ArgViaAnything, ArgViaSerde, FlyteWorkflow, NodeOverrides, NodeResult,
    };
    pub use maptask_flyte::registry::WorkflowRegistration;
    pub use maptask_flyte::serialize::workflow::WorkflowDef;
    pub use maptask_flyte::serialize::SerializeError;
}

/// Expands its input only with the feature `flyte`: `#[workflow]` wraps its Flyte definition
/// in it, since a procedural macro cannot see this crate's features.
#[cfg(feature = "flyte")]
#[doc(hidden)]
#[macro_export]
macro_rules! __maptask_if_flyte {
    ($($item:tt)*) => { $($item)* };
}

/// Without the feature `flyte`, a workflow has no Flyte definition and needs no serde bound.
#[cfg(not(feature = "flyte"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __maptask_if_flyte {
    ($($item:tt)*) => {};
}

/// The macro `#[workflow]` wraps its Flyte definition in, by this path.
pub use crate::__maptask_if_flyte as if_flyte;
