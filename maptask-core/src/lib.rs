//! The model behind `maptask`, free of I/O.
//!
//! * [`task`]: the [`Task`] trait that `#[task]` implements, and its [`Interface`].
//! * [`meta`]: task [`Metadata`] (retries, timeout, cache version, resources, env).
//! * [`types`]: [`TypeDesc`], the description of a value's type, derived through [`Describe`].
//! * [`spec`]: map specifications: concurrency and success criteria, with exact decimal ratios.
//! * [`error`] and [`workflow`]: the errors of a task attempt, of a map and of a workflow.
//! * [`graph`]: the static graph of a workflow, and its renderings.
#![warn(missing_docs)]

pub mod cache;
mod duration;
pub mod error;
pub mod graph;
pub mod meta;
pub mod spec;
pub mod task;
pub mod types;
pub mod workflow;

pub use cache::{CacheCodec, CodecError};
pub use error::{ElementFailure, FailureKind, MapError, SpecError, TaskError};
pub use graph::{Graph, GraphNode, NodeKind};
pub use meta::{Metadata, Resources};
pub use spec::{Criterion, MapSpec, Ratio};
pub use task::{Execution, Interface, Param, Task, TaskResult};
pub use types::{Describe, FieldDesc, TypeDesc, VariantDesc};
pub use workflow::{NodeFailure, WorkflowError};
