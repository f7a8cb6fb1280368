//! The task trait that `#[task]` implements, and the interface it describes.

use std::future::Future;

use crate::cache::CacheCodec;
use crate::error::TaskError;
use crate::meta::Metadata;
use crate::types::TypeDesc;

/// How a task's body runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Execution {
    /// An `async fn`: polled on the async worker threads.
    Async,
    /// A plain `fn`: run on the runtime's compute pool, off the async worker threads.
    Blocking,
}

/// One parameter of a task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Param {
    /// The parameter's name, as written in the function.
    pub name: &'static str,
    /// The Rust type, as written in the function.
    pub rust_type: &'static str,
    /// The type's description.
    pub ty: TypeDesc,
}

/// A typed interface: named inputs in declaration order, and one output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Interface {
    /// The inputs, in declaration order.
    pub inputs: Vec<Param>,
    /// The output's description. A `Result<T, E>` task's output is `T`.
    pub output: TypeDesc,
    /// The output's Rust type, as written (for a `Result<T, E>` task, the whole `Result`).
    pub output_rust_type: &'static str,
}

impl Interface {
    /// The input named `name`.
    pub fn input(&self, name: &str) -> Option<&Param> {
        self.inputs.iter().find(|p| p.name == name)
    }

    /// The input names, in declaration order.
    pub fn input_names(&self) -> Vec<&'static str> {
        self.inputs.iter().map(|p| p.name).collect()
    }
}

/// A task: a function with a typed interface and metadata.
///
/// `#[task]` implements this on a hidden type that shares the function's name (in the type
/// namespace), so `my_task` names both the function and the task. Write it by hand only for
/// tasks that do not come from a function.
pub trait Task: Send + Sync + 'static {
    /// The inputs as a tuple, in declaration order.
    type Inputs: Send + 'static;
    /// The output of a successful attempt (for a `Result<T, E>` task, `T`).
    type Output: Send + 'static;

    /// The task's name: its module path and function name, unless `name = "…"` overrides it.
    const NAME: &'static str;
    /// The parameter names, in declaration order.
    const PARAMS: &'static [&'static str];
    /// The function's doc comment.
    const DOC: &'static str;
    /// Retries, timeout, cache version, resources and the rest.
    const METADATA: Metadata;
    /// Whether the body is `async` or blocking.
    const EXECUTION: Execution;
    /// Whether this is a `#[workflow]` rather than a `#[task]`.
    const IS_WORKFLOW: bool = false;

    /// The typed interface.
    fn interface() -> Interface;

    /// Runs one attempt as a future. For a blocking task this runs the body when first polled;
    /// the runtime prefers [`Task::call_blocking`] on its compute pool.
    fn call(
        inputs: Self::Inputs,
    ) -> impl Future<Output = Result<Self::Output, TaskError>> + Send + 'static;

    /// Runs one attempt on the current thread. For an `async` task this blocks on the future.
    fn call_blocking(inputs: Self::Inputs) -> Result<Self::Output, TaskError>;

    /// How a cache keys this task's inputs and stores its output: `Some` for a task declared
    /// with `cache = "…"`, whose inputs and output are then serde types.
    fn cache_codec() -> Option<CacheCodec<Self::Inputs, Self::Output>> {
        None
    }
}

/// A `Result`-like return type of a task: `Ok` is the task's output and `Err` a failed attempt.
///
/// `#[task]` names the output of a task written `-> io::Result<T>` or `-> anyhow::Result<T>`
/// through this trait; the error is converted by the macro (see `maptask::task`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Result<T, E>` a task can return",
    note = "a task returns `T`, `()` or `Result<T, E>`, with `E` an error type such as `std::io::Error`, `anyhow::Error` or `maptask::TaskError`"
)]
pub trait TaskResult {
    /// The success type.
    type Ok;
    /// The error type.
    type Err;
}

impl<T, E> TaskResult for Result<T, E> {
    type Ok = T;
    type Err = E;
}
