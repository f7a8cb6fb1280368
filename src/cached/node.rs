//! A `#[workflow]` task node of a cached task: one element, looked up before it runs and stored
//! after it succeeds.

use std::sync::Arc;
use std::time::Duration;

use maptask_cache::{codec, key, Digest, Input};
use maptask_core::{ElementFailure, Task};
use maptask_runtime::{Counts, MapEvent, RunOptions, Runtime, TaskWork};

use super::CacheChoice;

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

/// Runs task node `node` with the cache of the process's default store.
pub(crate) async fn run<T>(
    runtime: &Runtime,
    node: &str,
    retries: u32,
    timeout: Option<Duration>,
    inputs: T::Inputs,
    options: RunOptions,
) -> Result<T::Output, ElementFailure>
where
    T: Task,
    T::Inputs: Clone,
{
    let plan = super::codec_of::<T>().zip(T::METADATA.cache_version);
    let store = plan.as_ref().and_then(|_| CacheChoice::Default.resolve());
    let (Some((codec, version)), Some(store)) = (plan, store) else {
        return runtime
            .run_task(
                node,
                retries,
                timeout,
                inputs,
                TaskWork::<T>::new(),
                options,
            )
            .await;
    };
    let digest = match digest::<T>(&codec, version, &inputs) {
        Ok(digest) => digest,
        Err(error) => {
            tracing::warn!("maptask cache: node `{node}` runs without the cache: {error}");
            return runtime
                .run_task(
                    node,
                    retries,
                    timeout,
                    inputs,
                    TaskWork::<T>::new(),
                    options,
                )
                .await;
        }
    };
    let header = codec::header(&T::interface().output.to_string());
    let key = maptask_cache::CacheKey {
        task: Arc::from(T::NAME),
        digest,
    };
    match store.get(&key) {
        Ok(Some(entry)) => {
            let decoded = codec::payload(&entry, &header)
                .map_err(|e| e.to_string())
                .and_then(|payload| (codec.decode_output)(payload).map_err(|e| e.to_string()));
            match decoded {
                Ok(output) => {
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
                Err(reason) => tracing::warn!(
                    "maptask cache: the stored result of node `{node}` cannot be used ({reason}); it runs again"
                ),
            }
        }
        Ok(None) => {}
        Err(error) => tracing::warn!("maptask cache: lookup for node `{node}` failed: {error}"),
    }
    let output = runtime
        .run_task(
            node,
            retries,
            timeout,
            inputs,
            TaskWork::<T>::new(),
            options,
        )
        .await?;
    let mut entry = header;
    let stored = (codec.encode_output)(&output, &mut entry)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            store
                .put(key.task, digest, entry)
                .map_err(|e| e.to_string())
        });
    match stored {
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
