//! The only file I/O of the entrypoint and the collector: read a whole object, write a whole
//! object atomically, by URI.
//!
//! Supported now: plain local paths and `file://` URIs (what the fixtures were run with). Object
//! stores (`s3://`, `gs://`, …) are reported as unsupported here; this module is the one place to
//! swap for an `object_store`-based implementation.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Why an object could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The URI names a scheme this build cannot reach.
    #[error(
        "`{uri}`: the `{scheme}://` scheme is not supported; use a local path or a file:// URI"
    )]
    UnsupportedScheme {
        /// The URI as given.
        uri: String,
        /// Its scheme.
        scheme: String,
    },
    /// A `file://` URI with a host other than `localhost`.
    #[error("`{uri}`: a file:// URI must name a local path (file:///path)")]
    RemoteFile {
        /// The URI as given.
        uri: String,
    },
    /// The object does not exist.
    #[error("`{uri}` does not exist")]
    NotFound {
        /// The URI as given.
        uri: String,
    },
    /// Reading failed.
    #[error("cannot read `{uri}`: {source}")]
    Read {
        /// The URI as given.
        uri: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Writing failed.
    #[error("cannot write `{uri}`: {source}")]
    Write {
        /// The URI as given.
        uri: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl StorageError {
    /// Whether the object was simply absent.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }
}

/// The local path a URI names.
fn local_path(uri: &str) -> Result<PathBuf, StorageError> {
    if let Some(rest) = uri.strip_prefix("file://") {
        // file:///abs/path has an empty host; file://localhost/abs/path names the same file.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            return Err(StorageError::RemoteFile {
                uri: uri.to_owned(),
            });
        }
        return Ok(PathBuf::from(path));
    }
    if let Some((scheme, _)) = uri.split_once("://") {
        let is_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if is_scheme {
            return Err(StorageError::UnsupportedScheme {
                uri: uri.to_owned(),
                scheme: scheme.to_owned(),
            });
        }
    }
    Ok(PathBuf::from(uri))
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
    let path = local_path(uri)?;
    std::fs::read(&path).map_err(|source| {
        if source.kind() == ErrorKind::NotFound {
            StorageError::NotFound {
                uri: uri.to_owned(),
            }
        } else {
            StorageError::Read {
                uri: uri.to_owned(),
                source,
            }
        }
    })
}

/// Reads the whole object at `uri`, or `None` when it does not exist.
pub fn read_if_exists(uri: &str) -> Result<Option<Vec<u8>>, StorageError> {
    match read(uri) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.is_not_found() => Ok(None),
        Err(error) => Err(error),
    }
}

/// Whether an object exists at `uri`.
pub fn exists(uri: &str) -> Result<bool, StorageError> {
    let path = local_path(uri)?;
    path.try_exists().map_err(|source| StorageError::Read {
        uri: uri.to_owned(),
        source,
    })
}

/// Writes `bytes` as the whole object at `uri`, atomically: readers see either no object or all
/// of it, even if this process is killed half-way. Parent directories are created.
///
/// Locally the bytes go to a temporary file beside the target, which is then renamed over it.
pub fn write(uri: &str, bytes: &[u8]) -> Result<(), StorageError> {
    let path = local_path(uri)?;
    let fail = |source| StorageError::Write {
        uri: uri.to_owned(),
        source,
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = temporary_sibling(&path);
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(source) = written {
        // Best effort: the temporary name is ours alone, and a leftover one is never read.
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(source));
    }
    Ok(())
}

/// A name beside `path` that no other process picks: `.<name>.tmp-<pid>`.
fn temporary_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_and_paths_name_the_same_file() {
        assert_eq!(local_path("/a/b").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(local_path("file:///a/b").unwrap(), PathBuf::from("/a/b"));
        assert_eq!(
            local_path("file://localhost/a/b").unwrap(),
            PathBuf::from("/a/b")
        );
        assert_eq!(local_path("rel/x").unwrap(), PathBuf::from("rel/x"));
        assert_eq!(
            local_path("file://host/a").unwrap_err().to_string(),
            "`file://host/a`: a file:// URI must name a local path (file:///path)"
        );
        assert_eq!(
            local_path("s3://bucket/key").unwrap_err().to_string(),
            "`s3://bucket/key`: the `s3://` scheme is not supported; use a local path or a file:// URI"
        );
    }

    #[test]
    fn writes_are_whole_and_leave_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("maptask-storage-{}", std::process::id()));
        let target = dir.join("a/b/outputs.pb");
        let uri = format!("file://{}", target.display());
        write(&uri, b"first").unwrap();
        write(&uri, b"second").unwrap();
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
        assert!(read(&missing).unwrap_err().is_not_found());
        assert_eq!(read_if_exists(&missing).unwrap(), None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unwritable_target_names_the_uri() {
        let error = write("/proc/maptask-no/outputs.pb", b"x").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot write `/proc/maptask-no/outputs.pb`: "),
            "{error}"
        );
    }
}
