//! Caching of task elements: what generated code calls, and (feature `cache`) the runners.
//!
//! * this file: the functions `#[task(cache = "…")]` puts in its [`CacheCodec`], the traits
//!   that turn a missing serde impl into an error at the `cache` option, and how a map chooses
//!   its store;
//! * `map.rs` (feature `cache`): the seam between [`MapTask`](crate::MapTask) and the engine. It
//!   looks every element up in one read transaction *before* the engine runs, hands the engine
//!   only the misses (each carrying its key), stores each success as it completes, and merges
//!   hits and the engine's outcome back in input order, with `Cached` events and report
//!   entries. The engine itself knows nothing of the cache.
//! * `node.rs` (feature `cache`): the same for a `#[workflow]` task node.

use std::any::Any;

use maptask_core::{CacheCodec, CodecError};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg(feature = "cache")]
pub(crate) mod map;
#[cfg(feature = "cache")]
pub(crate) mod node;
#[cfg(feature = "cache")]
pub use node::{get_output, put_output, task_key};
#[cfg(feature = "cache")]
mod store;

#[cfg(feature = "cache")]
pub use store::{set_default_store, RuntimeCacheExt, CACHE_ENV};

/// An input of a cached task: a serde type, so that it can be part of the cache key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key: it does not implement `serde::Serialize`",
    label = "this task is cached, so every input in its key must be `Serialize`",
    note = "derive `serde::Serialize` for `{Self}`, or leave the parameter out of the key with `cache_ignore = [\"name\"]`"
)]
pub trait CacheInput: Serialize + 'static {}

impl<T: Serialize + 'static> CacheInput for T {}

/// The output of a cached task: a serde type, so that it can be stored and read back.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in the cache: it does not implement `serde::Serialize` and `serde::de::DeserializeOwned`",
    label = "this task is cached, so its output must be `Serialize + DeserializeOwned`",
    note = "derive `serde::Serialize` and `serde::Deserialize` for `{Self}`, or remove `cache = \"…\"`"
)]
pub trait CacheOutput: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> CacheOutput for T {}

/// [`CacheCodec::encode_input`] for a parameter of type `P`.
pub fn cache_encode_input<P: CacheInput>(
    value: &dyn Any,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let value = value.downcast_ref::<P>().ok_or_else(|| {
        CodecError(format!(
            "a cache input is not a `{}`",
            std::any::type_name::<P>()
        ))
    })?;
    maptask_cache::canonical::encode(value, out).map_err(|e| CodecError(e.to_string()))
}

/// [`CacheCodec::encode_output`] for an output of type `O`.
pub fn cache_encode_output<O: CacheOutput>(
    output: &O,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    maptask_cache::codec::encode_output(output, out).map_err(|e| CodecError(e.to_string()))
}

/// [`CacheCodec::decode_output`] for an output of type `O`.
pub fn cache_decode_output<O: CacheOutput>(bytes: &[u8]) -> Result<O, CodecError> {
    maptask_cache::codec::decode_output(bytes).map_err(|e| CodecError(e.to_string()))
}

/// Which store a map of a cached task uses.
#[derive(Debug, Clone, Default)]
pub(crate) enum CacheChoice {
    /// The process's default store (see `maptask::cache`), unless `MAPTASK_CACHE=off`.
    #[default]
    Default,
    /// No cache for this map.
    Off,
    /// This store.
    #[cfg(feature = "cache")]
    Store(maptask_cache::Store),
}

/// The task's codec when caching applies to it: it has a cache version and a codec. Without the
/// `cache` feature a cached task runs uncached; say so once per task.
#[cfg_attr(feature = "cache", allow(dead_code))]
pub(crate) fn codec_of<T: maptask_core::Task>() -> Option<CacheCodec<T::Inputs, T::Output>> {
    T::METADATA.cache_version?;
    let codec = T::cache_codec()?;
    #[cfg(not(feature = "cache"))]
    {
        let _ = codec;
        warn_once_without_feature(T::NAME);
        None
    }
    #[cfg(feature = "cache")]
    Some(codec)
}

#[cfg(not(feature = "cache"))]
fn warn_once_without_feature(task: &'static str) {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static WARNED: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut warned = WARNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if warned.insert(task) {
        tracing::warn!(
            "task `{task}` has `cache = \"…\"`, but maptask was built without its `cache` feature; it runs without the cache"
        );
    }
}

/// The components of a tuple of values, as `&dyn Any`, in order.
pub trait Components {
    /// Calls `visit` with each component's position and value.
    fn visit(&self, visit: &mut dyn FnMut(usize, &dyn Any));
}

/// The values of a tuple of [`Bound`](crate::Bound)s, as `&dyn Any`, in order.
pub trait BoundValues {
    /// Calls `visit` with each bound value's position and value.
    fn visit(&self, visit: &mut dyn FnMut(usize, &dyn Any));
}

macro_rules! tuple_components {
    ($($ty:ident $idx:tt),*) => {
        impl<$($ty: 'static),*> Components for ($($ty,)*) {
            #[allow(unused_variables)]
            fn visit(&self, visit: &mut dyn FnMut(usize, &dyn Any)) {
                $(visit($idx, &self.$idx);)*
            }
        }

        impl<$($ty: 'static),*> BoundValues for ($(crate::Bound<$ty>,)*) {
            #[allow(unused_variables)]
            fn visit(&self, visit: &mut dyn FnMut(usize, &dyn Any)) {
                $(visit($idx, self.$idx.value());)*
            }
        }
    };
}

tuple_components!(A0 0);
tuple_components!(A0 0, A1 1);
tuple_components!(A0 0, A1 1, A2 2);
tuple_components!(A0 0, A1 1, A2 2, A3 3);
tuple_components!(A0 0, A1 1, A2 2, A3 3, A4 4);
tuple_components!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);
tuple_components!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6);
tuple_components!(A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7);

impl BoundValues for () {
    fn visit(&self, _: &mut dyn FnMut(usize, &dyn Any)) {}
}

/// Runs a `#[workflow]` task node: through the cache when its task is cached (feature `cache`),
/// else as a plain task call.
pub(crate) async fn run_task_node<T>(
    runtime: &maptask_runtime::Runtime,
    node: &str,
    retries: u32,
    timeout: Option<std::time::Duration>,
    inputs: crate::workflow::NodeInputs<T::Inputs>,
    options: maptask_runtime::RunOptions,
) -> Result<T::Output, maptask_core::ElementFailure>
where
    T: maptask_core::Task,
{
    #[cfg(feature = "cache")]
    {
        node::run::<T>(runtime, node, retries, timeout, inputs, options).await
    }
    #[cfg(not(feature = "cache"))]
    {
        let _ = codec_of::<T>();
        runtime
            .run_task(
                node,
                retries,
                timeout,
                inputs,
                crate::workflow::NodeWork::<T>::new(),
                options,
            )
            .await
    }
}
