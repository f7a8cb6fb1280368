//! Flyte for maptask: the flyteidl messages, the conversion between Rust values and Flyte
//! literals, and the serialization of tasks, map tasks and workflows to the templates that
//! flytekit 1.16.31 writes for its legacy map task (`container_array`).
#![warn(missing_docs)]

pub mod collect;
pub mod entrypoint;
pub mod literal;
pub mod proto;
pub mod serialize;
pub mod storage;

pub use prost;
pub use prost_types;
