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

mod cached;
mod mapped;
#[cfg(feature = "registry")]
mod registered;
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
/// Every `#[task]` and `#[workflow]` linked into this binary, by name (feature `registry`).
#[cfg(feature = "registry")]
pub use maptask_runtime::registry;

/// The per-element result cache (feature `cache`): the store, keys, `stats` and `clear`.
///
/// A task declared with `#[task(cache = "1.0")]` keeps each element's output, keyed by the
/// task's name, its cache version and the element's inputs (mapped and bound, minus those named
/// in `cache_ignore = [...]`), never by the map's concurrency, criterion, retries, timeout or
/// name. A rerun takes stored outputs instead of running those elements; the event stream
/// reports them as [`MapEvent::Cached`](runtime::MapEvent::Cached) and the report as
/// [`ElementStatus::Cached`](runtime::ElementStatus::Cached). Only successes are stored.
///
/// The store is a redb file at [`Store::default_path`](cache::Store::default_path)
/// (`$MAPTASK_CACHE_DIR/cache.redb`, else `$XDG_CACHE_HOME/maptask/cache.redb`, else
/// `~/.cache/maptask/cache.redb`), opened on first use. [`cache::set_default_store`] replaces it
/// for the process, [`MapTask::with_cache`] for one map, [`MapTask::without_cache`] turns it off
/// for one map, and `MAPTASK_CACHE=off` for the process.
///
/// Without this feature a cached task runs uncached, with one warning per task.
#[cfg(feature = "cache")]
pub mod cache {
    pub use crate::cached::{set_default_store, CACHE_ENV};
    pub use maptask_cache::*;
}
pub use maptask_runtime::Runtime;
pub use workflow::{Workflow, WorkflowCtx};

/// The command line, the process backend and progress bars (feature `cli`):
/// `fn main() -> std::process::ExitCode { maptask::cli::main() }`.
#[cfg(feature = "cli")]
pub use maptask_cli as cli;

/// Object storage: local directories and S3-compatible buckets (feature `storage`).
#[cfg(feature = "storage")]
pub use maptask_storage as storage;

/// Kubernetes Indexed Jobs and AWS Batch array jobs (feature `cluster`).
#[cfg(feature = "cluster")]
pub use maptask_cluster as cluster;

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

#[doc = include_str!("docs/map_task.md")]
pub use maptask_macros::map_task;

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
