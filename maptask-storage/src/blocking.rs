//! [`BlockingStorage`]: the same operations for synchronous callers such as the entrypoint.

use bytes::Bytes;

use crate::config::S3Config;
use crate::error::StorageError;
use crate::store::{ObjectInfo, Storage};
use crate::uri::Uri;

/// [`Storage`] for synchronous code: each call runs on a private single-threaded runtime.
///
/// Calling it from a thread that is already running an async runtime is an error
/// ([`StorageError::InsideRuntime`]), not a panic.
#[derive(Debug)]
pub struct BlockingStorage {
    storage: Storage,
    // An `Option` only so that `Drop` can take it: dropping a runtime normally blocks, which
    // panics on a thread that runs another runtime.
    runtime: Option<tokio::runtime::Runtime>,
}

impl BlockingStorage {
    /// Blocking storage whose S3 stores use `s3`.
    pub fn new(s3: S3Config) -> std::io::Result<BlockingStorage> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(BlockingStorage {
            storage: Storage::new(s3),
            runtime: Some(runtime),
        })
    }

    /// Blocking storage configured by the environment ([`S3Config::from_env`]).
    pub fn from_env() -> std::io::Result<BlockingStorage> {
        BlockingStorage::new(S3Config::from_env())
    }

    /// See [`Storage::get`].
    pub fn get(&self, uri: &Uri) -> Result<Bytes, StorageError> {
        self.block_on(uri, self.storage.get(uri))?
    }

    /// See [`Storage::put`].
    pub fn put(&self, uri: &Uri, bytes: impl Into<Bytes>) -> Result<(), StorageError> {
        let bytes = bytes.into();
        self.block_on(uri, self.storage.put(uri, bytes))?
    }

    /// See [`Storage::exists`].
    pub fn exists(&self, uri: &Uri) -> Result<bool, StorageError> {
        self.block_on(uri, self.storage.exists(uri))?
    }

    /// See [`Storage::list`].
    pub fn list(&self, prefix: &Uri) -> Result<Vec<ObjectInfo>, StorageError> {
        self.block_on(prefix, self.storage.list(prefix))?
    }

    /// The async storage inside.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    fn block_on<F: std::future::Future>(
        &self,
        uri: &Uri,
        future: F,
    ) -> Result<F::Output, StorageError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(StorageError::InsideRuntime {
                uri: uri.to_string(),
            });
        }
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        Ok(runtime.block_on(future))
    }
}

impl Drop for BlockingStorage {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
