//! Flyte-style map tasks for Rust: typed, checked at compile time, run on tokio.
//!
//! You write ordinary functions and mark them [`#[task]`](macro@task). [`map_task!`] runs one
//! over lists, and [`#[workflow]`](macro@workflow) wires tasks, maps and other workflows into a
//! graph whose independent nodes run at once. Whatever Flyte checks late, at registration or at
//! run time, is checked here when the code compiles.
//!
//! ```
//! use maptask::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! /// How to render.
//! #[derive(Clone, Serialize, Deserialize, Describe)]
//! struct Style {
//!     prefix: String,
//! }
//!
//! /// Renders one number; fails on multiples of five.
//! #[task(retries = 1, timeout = "30s")]
//! fn render(x: i64, style: Style) -> anyhow::Result<String> {
//!     anyhow::ensure!(x % 5 != 0, "{x} is a multiple of five");
//!     Ok(format!("{}{x}", style.prefix))
//! }
//!
//! /// Keeps what rendered.
//! #[task]
//! fn keep(lines: Vec<Option<String>>) -> Vec<String> {
//!     lines.into_iter().flatten().collect()
//! }
//!
//! /// Renders every number, tolerating one failure in two.
//! #[workflow]
//! fn report(xs: Vec<i64>, style: Style) -> Vec<String> {
//!     let lines = map_task!(render, min_success_ratio = 0.5, concurrency = 8, style = style)(x = xs);
//!     keep(lines)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> anyhow::Result<()> {
//! let style = Style { prefix: "#".into() };
//! assert_eq!(render(3, style.clone())?, "#3"); // a task stays a plain function
//! let lines = map_task!(render, style = style.clone()).call(vec![1, 2]).await?;
//! assert_eq!(lines, ["#1", "#2"]);
//! assert_eq!(report(vec![4, 5, 6], style).await?, ["#4", "#6"]); // a workflow is an async fn
//! # Ok(()) }
//! ```
//!
//! # Tasks
//!
//! A task is a free function, sync or `async`, with named, owned parameters. It stays callable
//! as written; [`#[task]`](macro@task) adds its typed description ([`Task`]) under the same name,
//! with metadata: `retries`, `timeout`, `cache`, resources and more.
//!
//! # Maps
//!
//! [`map_task!`] binds some parameters and maps the others: each unbound `p: T` becomes a
//! `Vec<T>` input, zipped with the others. The output is `Vec<T>`, or `Vec<Option<T>>` when the
//! map tolerates failures (`min_success_ratio` below 1, or `min_successes`), with `None` where
//! an element failed. Outputs keep input order. Elements *start* in index order, as a sliding
//! window of `concurrency`; on a multi-threaded runtime their bodies may begin out of index
//! order, since each runs on whichever thread picks it up. An empty input returns `[]` at once
//! and never runs the task; with `min_successes = k > 0` it fails at once, since `k` successes
//! cannot happen. A strict map stops at its first failure and cancels what runs: its
//! [`MapError::TooManyFailures`] lists the failures seen until then, not every element that
//! would have failed.
//!
//! # Workflows
//!
//! A [`#[workflow]`](macro@workflow) body is a declarative graph of task, map and sub-workflow
//! calls; calling the workflow, `my_wf(inputs).await`, runs it. Wiring mistakes are rustc's type
//! errors at your tokens.
//!
//! # Errors
//!
//! A task returns `T`, `()` or a `Result` whose `Err` fails the attempt: any
//! `std::error::Error + Send + Sync + 'static`, `anyhow::Error`, a boxed error, a `String`, or a
//! [`TaskError`], which controls retries ([`TaskError::permanent`]) and takes `?` on any std
//! error. Failed maps return a [`MapError`] and failed workflows a [`WorkflowError`] naming the
//! node; each error's message holds every cause once, so `{}`, anyhow's `{:#}` and a walk of
//! `source()` never print a cause twice.
//!
//! # Types
//!
//! Inputs and outputs have a type description ([`Describe`], [`TypeDesc`]): the std scalars,
//! strings, `char`, `PathBuf`, `Duration`, `SystemTime`, `Vec`, `HashSet`/`BTreeSet`, `Option`,
//! string-keyed maps, tuples, `Box` and `Arc`, and your own types through
//! [`#[derive(Describe)]`](macro@Describe) next to serde's derives. A type of another crate
//! comes in through a newtype with `#[describe(opaque)]`.
//!
//! Values are cloned where they are shared: a value bound in `map_task!` is cloned for each
//! element, and a workflow node's output is cloned for each node that uses it, so both must be
//! `Clone` (wrap a large value in an `Arc`); a type that is not is reported once, at the call
//! that makes the value. A retried node makes its inputs again from fresh copies of the values
//! it uses, and of its constants (each still evaluated once). Nodes run on several threads, so
//! outputs are also `Send + Sync`.
//!
//! # Running
//!
//! Maps and workflows run on [`Runtime::global`] by default, a tokio-based engine that keeps sync
//! tasks off the async threads; `MapTask::with_runtime` and `my_wf::run_on` choose another.
//! Under a renamed dependency, write `#[task(crate = name)]`, `#[workflow(crate = name)]` and
//! `#[describe(crate = name)]`; `map_task!` finds the crate by itself.
//!
//! # Where things live (for contributors)
//!
//! * `#[task]`, `#[workflow]`, `map_task!` and `#[derive(Describe)]` are parsed, validated and
//!   expanded in `maptask-macros`;
//! * the model (the [`Task`] trait, metadata, type descriptions, errors) is `maptask-core`;
//! * [`MapTask`], the typed mapped node that `map_task!` builds, and workflow execution are in
//!   this crate;
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

#[cfg(feature = "flyte")]
pub mod flyte;

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
/// `~/.cache/maptask/cache.redb`), opened on first use. From the narrowest to the widest, a
/// store is chosen by [`MapTask::with_cache`] (or [`MapTask::without_cache`]) for one map,
/// [`RuntimeCacheExt::cache_store`](cache::RuntimeCacheExt::cache_store) (or `without_cache`) for
/// every map and task node of one [`Runtime`], [`cache::set_default_store`] for the process,
/// and the environment: `MAPTASK_CACHE_DIR` moves the default store, `MAPTASK_CACHE=off` turns
/// it off.
///
/// On the process backend (`--backend process`), the parent process looks every element up
/// before it starts any child: a hit starts no child, and each success is stored as soon as its
/// child has exited (through [`RemoteMap::on_output`](runtime::RemoteMap::on_output)).
///
/// A backend that runs a typed task elsewhere (a process array, a Flyte container) keys one call
/// with [`cache::task_key`], looks it up with [`cache::get_output`] and stores a success with
/// [`cache::put_output`]; untyped code uses [`cache::CacheKey::for_element`] and
/// [`cache::Store`] directly.
///
/// Without this feature a cached task runs uncached, with one warning per task.
#[cfg(feature = "cache")]
pub mod cache {
    pub use crate::cached::{
        get_output, put_output, set_default_store, task_key, RuntimeCacheExt, CACHE_ENV,
    };
    pub use maptask_cache::*;
}
pub use maptask_runtime::Runtime;
pub use workflow::{Workflow, WorkflowCtx};

/// The command line, the process backend and progress bars (feature `cli`):
/// `fn main() -> std::process::ExitCode { maptask::cli::main!() }`.
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
/// * `cache = "1.0"`: the cache version. With the `cache` feature, each element's output is kept
///   and reused (see `maptask::cache`); inputs and output must then be serde types.
/// * `cache_ignore = ["param", …]`: parameters left out of the cache key.
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
