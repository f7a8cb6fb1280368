//! Which store a cached map uses when it is not given one.

use std::sync::{Mutex, OnceLock};

use maptask_cache::{RuntimeCache, Store};
use maptask_runtime::{Runtime, RuntimeBuilder};

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

/// The cache of a [`Runtime`]: `Runtime::builder().cache_store(store)` keeps the results of every
/// cached map and task node the runtime runs in `store`, in place of the process's default store
/// (a map's own [`MapTask::with_cache`](crate::MapTask::with_cache) or
/// [`without_cache`](crate::MapTask::without_cache) still wins).
///
/// ```
/// use maptask::cache::{RuntimeCacheExt, Store};
/// use maptask::Runtime;
/// # let dir = std::env::temp_dir().join(format!("maptask-doc-{}", std::process::id()));
/// let store = Store::open(dir.join("cache.redb"))?;
/// let runtime = Runtime::builder().cache_store(store).build();
/// let uncached = Runtime::builder().without_cache().build();
/// # drop((runtime, uncached)); std::fs::remove_dir_all(dir).ok();
/// # Ok::<(), maptask::cache::CacheError>(())
/// ```
pub trait RuntimeCacheExt {
    /// Keeps the results of cached tasks in `store`.
    fn cache_store(self, store: Store) -> Self;
    /// Runs cached tasks without a cache.
    fn without_cache(self) -> Self;
}

impl RuntimeCacheExt for RuntimeBuilder {
    fn cache_store(self, store: Store) -> Self {
        self.extension(RuntimeCache::Store(store))
    }

    fn without_cache(self) -> Self {
        self.extension(RuntimeCache::Off)
    }
}

impl CacheChoice {
    /// The store to use, if any: the map's own choice, else `runtime`'s
    /// ([`RuntimeCacheExt`]), else the process's default. A default store that cannot be opened
    /// is reported once, and the process then runs without a cache.
    pub(crate) fn resolve(&self, runtime: &Runtime) -> Option<Store> {
        match self {
            CacheChoice::Off => None,
            CacheChoice::Store(store) => Some(store.clone()),
            CacheChoice::Default => {
                match runtime.extension::<RuntimeCache>() {
                    Some(RuntimeCache::Store(store)) => return Some(store.clone()),
                    Some(RuntimeCache::Off) => return None,
                    None => {}
                }
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
