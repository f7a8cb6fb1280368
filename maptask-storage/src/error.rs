//! [`StorageError`]: one variant per cause a caller can act on, each naming the URI at fault.
//!
//! Details taken from the underlying client are plain strings, scrubbed of every configured
//! secret (see [`crate::S3Config`]), so neither `Display` nor `Debug` can print a key.

use std::path::PathBuf;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The text is not a URI this crate can use.
    #[error("`{uri}` is not a storage URI: {reason}")]
    InvalidUri {
        /// The text as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No object exists at the URI.
    #[error("no object at {uri}")]
    NotFound {
        /// The object's URI.
        uri: String,
    },
    /// The bucket named by the URI does not exist.
    #[error("the bucket `{bucket}` of {uri} does not exist")]
    BucketNotFound {
        /// The URI that was accessed.
        uri: String,
        /// The missing bucket.
        bucket: String,
    },
    /// The server refused the request: wrong or missing credentials, or no permission.
    #[error("access to {uri} was denied: {detail}")]
    Denied {
        /// The URI that was accessed.
        uri: String,
        /// The server's answer, with secrets removed.
        detail: String,
    },
    /// The storage endpoint could not be reached.
    #[error("cannot reach the storage endpoint {endpoint} for {uri}: {detail}")]
    Unreachable {
        /// The URI that was accessed.
        uri: String,
        /// The endpoint tried.
        endpoint: String,
        /// The client's error, with secrets removed.
        detail: String,
    },
    /// The store for the URI could not be configured (e.g. a malformed endpoint).
    #[error("cannot open a store for {uri}: {detail}")]
    Config {
        /// The URI whose store was being opened.
        uri: String,
        /// What went wrong, with secrets removed.
        detail: String,
    },
    /// A local directory could not be created.
    #[error("cannot create the directory {}: {source}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Any other failure of an operation.
    #[error("cannot {operation} {uri}: {detail}")]
    Other {
        /// `read`, `write` or `list`.
        operation: &'static str,
        /// The URI that was accessed.
        uri: String,
        /// The client's error, with secrets removed.
        detail: String,
    },
    /// The blocking API was called on a thread that runs an async runtime.
    #[error("the blocking storage API was called from inside an async runtime; use `Storage` (async) there, for {uri}")]
    InsideRuntime {
        /// The URI that was accessed.
        uri: String,
    },
}

impl StorageError {
    /// Whether the error says that the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }
}
