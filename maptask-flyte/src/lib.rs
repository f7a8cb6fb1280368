//! Flyte for maptask: the flyteidl messages, the conversion between Rust values and Flyte
//! literals, and the serialization of tasks, map tasks and workflows to the templates that
//! flytekit 1.16.31 writes for its legacy map task (`container_array`).
//!
//! Where things are:
//! * [`proto`]: the flyteidl messages (generated, checked in);
//! * [`literal`]: Rust values to and from Flyte literals and literal types;
//! * [`serialize`]: TaskTemplates, WorkflowTemplates and `pyflyte serialize`-style files;
//! * [`entrypoint`]: the container entrypoint, `map-execute`, `execute` and `collect`;
//! * [`registry`]: the Flyte definitions of the `#[workflow]`s linked into a binary, and the
//!   files of any registered tasks and workflows;
//! * [`collect`]: a map's output assembled from its elements' files, as the k8s-array plugin;
//! * [`storage`]: whole-object reads and writes by URI (local paths, `file://`, `s3://`).
#![warn(missing_docs)]

pub mod collect;
pub mod entrypoint;
pub mod literal;
pub mod proto;
pub mod registry;
pub mod serialize;
pub mod storage;

pub use prost;
pub use prost_types;
