//! The per-element result cache of `maptask`.
//!
//! A task declared with `#[task(cache = "1.0")]` keeps the output of every element that
//! succeeds. A later run with the same task, cache version and element inputs takes the stored
//! output instead of running the element, so a map that died at element 9,000 of 10,000 reruns
//! only what had not finished.
//!
//! Where things are:
//! * [`canonical`]: the canonical encoding of an input value, stable across runs, processes and
//!   machines (sorted maps and hash sets, fixed-width little-endian numbers);
//! * [`key`]: [`CacheKey`], the digest of task name, cache version and the element's inputs
//!   (minus `cache_ignore`d ones), never the map's configuration;
//! * [`codec`]: an entry's bytes: a header with the format version and the output's type
//!   description, then the output in MessagePack;
//! * `store` (feature `store`, on by default): [`Store`], the redb file, its writer thread,
//!   [`Store::stats`] and [`Store::clear`], with [`stats`] and [`clear`] on the default store.
//!
//! For backends that run elements elsewhere (a process array, a Flyte container): compute the
//! key with [`CacheKey::for_element`] from [`Input`]s, look it up with [`Store::get`], decode with
//! [`codec::decode_entry`], and store a success with [`codec::encode_entry`] and [`Store::put`]
//! followed by [`Store::flush`].
#![warn(missing_docs)]

pub mod canonical;
pub mod codec;
pub mod key;
#[cfg(feature = "store")]
pub mod store;

pub use canonical::EncodeError;
pub use codec::DecodeError;
pub use key::{CacheKey, Digest, Input};
#[cfg(feature = "store")]
pub use store::{CacheError, Stats, Store, TaskStats};

/// The cache of one `maptask` runtime, kept in its extension slot
/// (`maptask_runtime::RuntimeBuilder::extension`): it overrides the process's default store for
/// every cached map and task node that runtime runs, unless the map names its own store.
///
/// Set it with `maptask::cache::RuntimeCacheExt` (`Runtime::builder().cache_store(store)`).
#[cfg(feature = "store")]
#[derive(Debug, Clone)]
pub enum RuntimeCache {
    /// Keep results in this store.
    Store(Store),
    /// Run cached tasks without a cache.
    Off,
}

/// The entries of the default store ([`Store::default_path`]), per task.
#[cfg(feature = "store")]
pub fn stats() -> Result<Stats, CacheError> {
    Store::open_default()?.stats()
}

/// Removes the entries of `task` (every entry when `None`) from the default store; returns how
/// many were removed.
#[cfg(feature = "store")]
pub fn clear(task: Option<&str>) -> Result<u64, CacheError> {
    Store::open_default()?.clear(task)
}
