//! Which store a cached map uses when it is not given one.

use std::sync::{Mutex, OnceLock};

use maptask_cache::Store;

use super::CacheChoice;

/// Set to `off` (or `0`, `false`) to run cached tasks without the cache.
pub const CACHE_ENV: &str = "MAPTASK_CACHE";

/// The default store: set by [`set_default_store`], or opened at
/// [`Store::default_path`] on first use; `None` when caching is off or the store cannot open.
static DEFAULT: OnceLock<Mutex<Option<Option<Store>>>> = OnceLock::new();

/// Makes `store` the store of every cached map and task node that is not given its own, in
/// place of the one at [`Store::default_path`]. `None` turns the default cache off.
pub fn set_default_store(store: Option<Store>) {
    *lock() = Some(store);
}

fn lock() -> std::sync::MutexGuard<'static, Option<Option<Store>>> {
    DEFAULT
        .get_or_init(|| Mutex::new(None))
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

impl CacheChoice {
    /// The store to use, if any. A default store that cannot be opened is reported once, and
    /// the process then runs without a cache.
    pub(crate) fn resolve(&self) -> Option<Store> {
        match self {
            CacheChoice::Off => None,
            CacheChoice::Store(store) => Some(store.clone()),
            CacheChoice::Default => {
                let mut default = lock();
                if default.is_none() {
                    *default = Some(open_default());
                }
                default.clone().flatten()
            }
        }
    }
}

fn open_default() -> Option<Store> {
    if let Some(value) = std::env::var_os(CACHE_ENV) {
        let value = value.to_string_lossy().to_ascii_lowercase();
        if matches!(value.as_str(), "off" | "0" | "false" | "no") {
            return None;
        }
    }
    match Store::open_default() {
        Ok(store) => Some(store),
        Err(error) => {
            tracing::warn!("maptask cache is off for this process: {error}");
            None
        }
    }
}
