//! What a cached task hands a cache: how to encode its inputs and its output.
//!
//! `#[task(cache = "…")]` implements [`Task::cache_codec`](crate::Task::cache_codec) with
//! functions generated for the task's own types, so that code generic over any task (the map
//! runner, a backend) can key and store a cached task's elements without naming their types.
//! The encodings themselves live in the `maptask-cache` crate; this module holds only the
//! function table, and does no I/O.

use std::any::Any;
use std::fmt;

/// Why a value could not be encoded or decoded for the cache.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub String);

impl CodecError {
    /// The error of asking for the key encoding of parameter `index`, which is not part of the
    /// key (it is ignored, or there is no such parameter).
    pub fn not_keyed(index: usize) -> CodecError {
        CodecError(format!(
            "parameter #{index} is not part of the task's cache key"
        ))
    }
}

/// A visitor of a task's inputs: called with each parameter's index and value.
pub type InputVisitor<'a> = &'a mut dyn FnMut(usize, &dyn Any);

/// The cache functions of one task, with inputs tuple `I` and output `O`.
pub struct CacheCodec<I, O> {
    /// The parameters left out of the key (`cache_ignore = [...]`), by name.
    pub ignore: &'static [&'static str],
    /// Appends the canonical encoding of the value of parameter `index` (in declaration order),
    /// passed as `&dyn Any` of the parameter's own type, to `out`.
    pub encode_input:
        fn(index: usize, value: &dyn Any, out: &mut Vec<u8>) -> Result<(), CodecError>,
    /// Calls `visit` with each parameter's index and value, in declaration order.
    pub each_input: fn(inputs: &I, visit: InputVisitor<'_>),
    /// Appends the stored form of an output to `out`.
    pub encode_output: fn(output: &O, out: &mut Vec<u8>) -> Result<(), CodecError>,
    /// Reads an output back from its stored form.
    pub decode_output: fn(bytes: &[u8]) -> Result<O, CodecError>,
}

impl<I, O> Clone for CacheCodec<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, O> Copy for CacheCodec<I, O> {}

impl<I, O> fmt::Debug for CacheCodec<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheCodec")
            .field("ignore", &self.ignore)
            .finish_non_exhaustive()
    }
}
