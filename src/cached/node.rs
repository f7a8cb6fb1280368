//! A `#[workflow]` task node of a cached task: one element, looked up before it runs and stored
//! after it succeeds.

use std::sync::Arc;
use std::time::Duration;

use maptask_cache::{codec, key, CacheKey, Digest, Input, Store};
use maptask_core::{CodecError, ElementFailure, Task};
use maptask_runtime::{Counts, MapEvent, RunOptions, Runtime};

use super::CacheChoice;
use crate::workflow::{NodeInputs, NodeWork};

/// The key of a node's inputs, or why there is none.
fn digest<T: Task>(
    codec: &maptask_core::CacheCodec<T::Inputs, T::Output>,
    version: &str,
    inputs: &T::Inputs,
) -> Result<Digest, String> {
    let mut kept: Vec<(&'static str, Digest)> = Vec::new();
    let mut scratch = Vec::new();
    let mut failure = None;
    (codec.each_input)(inputs, &mut |index, value| {
        let Some(&name) = T::PARAMS.get(index) else {
            return;
        };
        if codec.ignore.contains(&name) || failure.is_some() {
            return;
        }
        scratch.clear();
        match (codec.encode_input)(index, value, &mut scratch) {
            Ok(()) => kept.push((name, Input::from_canonical(name, &scratch).digest)),
            Err(e) => failure = Some(format!("input `{name}`: {e}")),
        }
    });
    if let Some(failure) = failure {
        return Err(failure);
    }
    kept.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Ok(key::element_digest(
        T::NAME,
        version,
        kept.iter().map(|(n, d)| (*n, d)),
    ))
}

/// The cache key of one call of task `T` with `inputs`: `Ok(None)` when `T` is not cached (no
/// `cache = "…"`), an error when an input cannot be encoded.
///
/// For backends that run a typed task elsewhere (a process array, a Flyte container): look the
/// key up with [`get_output`] before running, and store a success with [`put_output`].
pub fn task_key<T: Task>(inputs: &T::Inputs) -> Result<Option<CacheKey>, CodecError> {
    let (Some(codec), Some(version)) = (T::cache_codec(), T::METADATA.cache_version) else {
        return Ok(None);
    };
    digest::<T>(&codec, version, inputs)
        .map(|digest| {
            Some(CacheKey {
                task: Arc::from(T::NAME),
                digest,
            })
        })
        .map_err(CodecError)
}

/// The stored output of task `T` under `key`, if there is one that can be used. An entry of an
/// older format or another output type is `None`, with one warning.
pub fn get_output<T: Task>(store: &Store, key: &CacheKey) -> Option<T::Output> {
    let codec = T::cache_codec()?;
    let entry = match store.get(key) {
        Ok(entry) => entry?,
        Err(error) => {
            tracing::warn!(
                "maptask cache: lookup of task `{}` failed: {error}",
                T::NAME
            );
            return None;
        }
    };
    let header = codec::header(&T::interface().output.to_string());
    let decoded = codec::payload(&entry, &header)
        .map_err(|e| e.to_string())
        .and_then(|payload| (codec.decode_output)(payload).map_err(|e| e.to_string()));
    match decoded {
        Ok(output) => Some(output),
        Err(reason) => {
            tracing::warn!(
                "maptask cache: a stored result of task `{}` cannot be used ({reason}); it runs again",
                T::NAME
            );
            None
        }
    }
}

/// Stores `output` of task `T` under `key` and waits until it is committed.
pub fn put_output<T: Task>(
    store: &Store,
    key: &CacheKey,
    output: &T::Output,
) -> Result<(), CodecError> {
    let codec =
        T::cache_codec().ok_or_else(|| CodecError(format!("task `{}` is not cached", T::NAME)))?;
    let mut entry = codec::header(&T::interface().output.to_string());
    (codec.encode_output)(output, &mut entry)?;
    store
        .put(Arc::clone(&key.task), key.digest, entry)
        .and_then(|()| store.flush())
        .map_err(|e| CodecError(e.to_string()))
}

/// Runs task node `node` with the cache of the process's default store.
pub(crate) async fn run<T>(
    runtime: &Runtime,
    node: &str,
    retries: u32,
    timeout: Option<Duration>,
    inputs: NodeInputs<T::Inputs>,
    options: RunOptions,
) -> Result<T::Output, ElementFailure>
where
    T: Task,
{
    let cached = super::codec_of::<T>().is_some();
    let store = if cached {
        CacheChoice::Default.resolve(runtime)
    } else {
        None
    };
    let key = match store.as_ref().map(|_| task_key::<T>(&inputs.value)) {
        Some(Ok(Some(key))) => Some(key),
        Some(Err(error)) => {
            tracing::warn!("maptask cache: node `{node}` runs without the cache: {error}");
            None
        }
        _ => None,
    };
    let (Some(store), Some(key)) = (store, key) else {
        return runtime
            .run_task(
                node,
                retries,
                timeout,
                inputs,
                NodeWork::<T>::new(),
                options,
            )
            .await;
    };
    if let Some(output) = get_output::<T>(&store, &key) {
        if let Some(observer) = &options.observer {
            let event = MapEvent::Cached {
                map: Arc::from(node),
                index: 0,
                counts: Counts {
                    total: 1,
                    succeeded: 1,
                    cached: 1,
                    ..Counts::default()
                },
            };
            super::map::deliver(observer.as_ref(), &event);
        }
        return Ok(output);
    }
    let output = runtime
        .run_task(
            node,
            retries,
            timeout,
            inputs,
            NodeWork::<T>::new(),
            options,
        )
        .await?;
    let mut entry = codec::header(&T::interface().output.to_string());
    let stored = T::cache_codec()
        .ok_or_else(|| CodecError("not cached".to_owned()))
        .and_then(|codec| (codec.encode_output)(&output, &mut entry))
        .map_err(|e| e.to_string())
        .and_then(|()| {
            store
                .put(Arc::clone(&key.task), key.digest, entry)
                .map_err(|e| e.to_string())
        });
    match stored {
        // Committed off this thread; the node waits for it without blocking the runtime.
        Ok(()) => {
            if let Err(error) = store.flush_async().await {
                tracing::warn!(
                    "maptask cache: the result of node `{node}` may not be stored: {error}"
                );
            }
        }
        Err(error) => {
            tracing::warn!("maptask cache: the result of node `{node}` was not stored: {error}")
        }
    }
    Ok(output)
}
