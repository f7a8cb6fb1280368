//! Flyte-style map tasks for Rust: typed, checked at compile time, run on tokio.
//!
//! ```
//! use maptask::prelude::*;
//!
//! /// Multiplies.
//! #[task]
//! fn scale(x: i64, factor: i64) -> i64 {
//!     x * factor
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), MapError> {
//! assert_eq!(scale(3, 2), 6); // still a plain function
//! let ys = map_task!(scale, concurrency = 4, factor = 10).call(vec![1, 2, 3]).await?;
//! assert_eq!(ys, vec![10, 20, 30]);
//! # Ok(()) }
//! ```
//!
//! Where things live:
//! * `#[task]` and `map_task!` are parsed, validated and expanded in `maptask-macros`;
//! * the model (the [`Task`] trait, metadata, type descriptions, errors) is `maptask-core`;
//! * [`MapTask`], the typed mapped node that `map_task!` builds, is in this crate;
//! * elements run in `maptask-runtime`'s engine.
#![warn(missing_docs)]

mod mapped;
pub mod workflow;

#[doc(hidden)]
pub mod __private;

pub use mapped::{Bound, MapTask, Strict, Tolerance, Tolerant};
pub use maptask_core::{
    describe_serde, error, meta, spec, task, types, Criterion, Describe, ElementFailure, Execution,
    FailureKind, FieldDesc, Graph, GraphNode, Interface, MapError, MapSpec, Metadata, NodeFailure,
    NodeKind, Param, Ratio, Resources, SpecError, Task, TaskError, TypeDesc, VariantDesc,
    WorkflowError,
};
pub use maptask_runtime as runtime;
pub use maptask_runtime::Runtime;
pub use workflow::{Workflow, WorkflowCtx};

/// Turns a function into a task.
///
/// The function stays callable exactly as written. Next to it, under the same name, the macro
/// adds a description that implements [`Task`] (name, parameters, output, doc comment,
/// metadata) and lets [`map_task!`] learn the signature from the path alone, from any module or
/// crate.
///
/// ```
/// use maptask::prelude::*;
/// use std::time::Duration;
///
/// /// Fetches a page.
/// #[task(retries = 2, timeout = "30s", cache = "1.0", interruptible = true,
///        requests(cpu = "500m", mem = "1Gi"), limits(mem = "2Gi"), env(RUST_LOG = "info"))]
/// async fn fetch(url: String) -> Result<String, std::io::Error> {
///     Ok(format!("<html>{url}</html>"))
/// }
///
/// assert_eq!(<fetch as Task>::PARAMS, &["url"]);
/// assert_eq!(<fetch as Task>::METADATA.retries, 2);
/// assert_eq!(<fetch as Task>::METADATA.timeout, Some(Duration::from_secs(30)));
/// assert_eq!(<fetch as Task>::DOC, "Fetches a page.");
/// ```
///
/// Options:
/// * `retries = 2`: extra attempts after a failed one.
/// * `timeout = "30s"`: the bound on each attempt (`ns`, `us`, `ms`, `s`, `m`, `h`, `d`, combinable
///   as `"1m30s"`), checked at compile time.
/// * `cache = "1.0"`: the cache version.
/// * `interruptible = true`: the task may run on preemptible capacity.
/// * `name = "etl.clean"`: overrides the name, which is otherwise `module::path::fn_name`.
/// * `requests(cpu = "…", mem = "…", gpu = "…")` and `limits(…)`: Kubernetes quantities.
/// * `env(KEY = "value", …)`: environment variables.
/// * `crate = path`: where `maptask` is, when it is used behind a re-export.
///
/// A task returns `T`, `()` or a `Result` whose `Err` is a failed attempt. The error may be any
/// `std::error::Error + Send + Sync + 'static`, an `anyhow::Error` (`anyhow::Result<T>`), a
/// `Box<dyn Error + Send + Sync>`, a `String` or a [`TaskError`]; inside a task that returns
/// `Result<T, TaskError>`, `?` converts any std error. Return [`TaskError::permanent`] (or turn
/// one into an anyhow error or a box with `?`) to fail without retries. The macro recognizes a
/// `Result` by its spelling: a type whose name ends in `Result` (`io::Result<T>`,
/// `anyhow::Result<T>`, `MyResult<T>`); an alias named otherwise is taken for a plain value.
/// Tasks take owned, named parameters and cannot be methods, generic, `const`, `unsafe`,
/// `extern` or variadic.
pub use maptask_macros::task;

#[doc = include_str!("docs/describe.md")]
pub use maptask_macros::Describe;

#[doc = include_str!("docs/workflow.md")]
pub use maptask_macros::workflow;

// A `macro_rules!` around the procedural macro, for its `$crate`: the path of this crate as the
// caller's crate knows it, even when the dependency is renamed.
#[doc = include_str!("docs/map_task.md")]
#[macro_export]
macro_rules! map_task {
    // Written by `#[workflow]` for each `map_task!` in its body, which it reads itself: this
    // marks the user's import of `map_task` as used.
    (@used) => {};
    ($($input:tt)*) => {
        $crate::__private::map_task! { krate = { $crate }, $($input)* }
    };
}

/// The names most programs need: `use maptask::prelude::*;`.
pub mod prelude {
    pub use crate::{
        map_task, task, workflow, Describe, MapError, MapTask, Runtime, Task, TaskError,
        WorkflowError,
    };
}

/// The README's examples, compiled and run as doc tests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
