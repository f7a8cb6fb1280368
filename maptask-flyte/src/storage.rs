//! The only I/O of the entrypoint and the collector: read a whole object, write a whole object,
//! by URI, through `maptask-storage`.
//!
//! URIs are local paths, `file://` URIs and `s3://bucket/key` (S3 and compatibles, configured
//! from the environment: `AWS_ENDPOINT_URL`, `AWS_REGION`, credentials; see
//! `maptask_storage::S3Config::from_env`). A write is whole or absent: locally the bytes go to a
//! temporary file that is renamed over the target; on S3 a PUT is atomic.

use std::sync::OnceLock;

use maptask_storage::{BlockingStorage, Uri};

pub use maptask_storage::StorageError as StoreError;

/// Why an object could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The storage layer's error, which names the URI.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The storage client could not start.
    #[error("cannot start the storage client for `{uri}`: {source}")]
    Client {
        /// The URI that was to be accessed.
        uri: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    /// Whether the object was simply absent.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::Store(e) if e.is_not_found())
    }
}

/// The process's storage client, started on first use.
fn client(uri: &str) -> Result<&'static BlockingStorage, StorageError> {
    static CLIENT: OnceLock<BlockingStorage> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = BlockingStorage::from_env().map_err(|source| StorageError::Client {
        uri: uri.to_owned(),
        source,
    })?;
    Ok(CLIENT.get_or_init(|| client))
}

/// `prefix/name`, with exactly one `/` between them.
///
/// ```
/// use maptask_flyte::storage::join;
/// assert_eq!(join("s3://bucket/out/", "3"), "s3://bucket/out/3");
/// assert_eq!(join("/tmp/out", "outputs.pb"), "/tmp/out/outputs.pb");
/// ```
pub fn join(prefix: &str, name: &str) -> String {
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        name.trim_start_matches('/')
    )
}

/// Reads the whole object at `uri`.
pub fn read(uri: &str) -> Result<Vec<u8>, StorageError> {
    let parsed = Uri::parse(uri)?;
    Ok(client(uri)?.get(&parsed)?.to_vec())
}

/// Reads the whole object at `uri`, or `None` when it does not exist.
pub fn read_if_exists(uri: &str) -> Result<Option<Vec<u8>>, StorageError> {
    match read(uri) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Writes `bytes` as the whole object at `uri`, atomically: readers see either no object or all
/// of it, even if this process is killed half-way. Local parent directories are created.
pub fn write(uri: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let parsed = Uri::parse(uri)?;
    Ok(client(uri)?.put(&parsed, bytes.to_vec())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_whole_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("maptask-storage-{}", std::process::id()));
        let target = dir.join("a/b/outputs.pb");
        let uri = format!("file://{}", target.display());
        write(&uri, b"first").unwrap();
        write(&target.display().to_string(), b"second").unwrap();
        assert_eq!(read(&uri).unwrap(), b"second");
        assert_eq!(
            read_if_exists(&uri).unwrap().as_deref(),
            Some(&b"second"[..])
        );
        let names: Vec<_> = std::fs::read_dir(dir.join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["outputs.pb"]);
        let missing = format!("file://{}", dir.join("a/nope").display());
        let error = read(&missing).unwrap_err();
        assert!(error.is_not_found());
        assert_eq!(error.to_string(), format!("no object at {missing}"));
        assert_eq!(read_if_exists(&missing).unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_uris_and_unwritable_targets_name_the_uri() {
        let error = read("ftp://host/x").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("`ftp://host/x` is not a storage URI: "),
            "{error}"
        );
        let error = write("/proc/maptask-no/outputs.pb", b"x").unwrap_err();
        assert!(error.to_string().contains("/proc/maptask-no"), "{error}");
        assert!(!error.is_not_found());
    }
}
