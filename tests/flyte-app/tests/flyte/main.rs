//! The Flyte entrypoint, end to end: this crate's binary is run as a container would run it.
//!
//! * `registry`: every task is found by name and runs from serialized inputs.
//! * `fixtures`: each run of flytekit's `pyflyte-map-execute` in the fixtures, repeated with this
//!   binary: the same files, exit codes and decoded outputs; and the aggregate.
//! * `bad_input`: each malformed input is named, exits non-zero and writes no `outputs.pb`.
//! * `element_failures`: how a failed element is recorded; `execute` for a plain task.
//! * `decode_fuzz`: decoding any bytes as `inputs.pb` never panics.
//! * `s3`: inputs and outputs in an S3-compatible store (needs a server).
//! * `cluster`: the Kubernetes Job and the Batch submission, run by the process-array backend.
//! * `interop`: flytekit writes inputs and reads back what this binary wrote (needs flytekit).

// Linking the app registers its tasks in this test binary, for the in-process tests.
extern crate flyte_app;

mod bad_input;
mod cluster;
mod common;
mod decode_fuzz;
mod element_failures;
mod fixtures;
mod interop;
mod registry;
mod s3;
