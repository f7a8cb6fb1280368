//! [`Uri`]: where an object lives, parsed once and joined segment by segment.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use crate::error::StorageError;

/// The location of an object or of a prefix: a local file path or a key in an S3 bucket.
///
/// Parsed from `s3://bucket/key`, `file:///absolute/path` or a plain path (a relative path is
/// made absolute against the current directory). [`Uri::join`] appends `/`-separated segments.
///
/// ```
/// use maptask_storage::Uri;
/// let out: Uri = "s3://runs/map-1/out".parse().unwrap();
/// assert_eq!(out.join("3/outputs.pb").unwrap().to_string(), "s3://runs/map-1/out/3/outputs.pb");
/// let local: Uri = "file:///tmp/run/inputs.pb".parse().unwrap();
/// assert_eq!(local.to_string(), "file:///tmp/run/inputs.pb");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Uri {
    /// A path on the local file system; always absolute and free of `.` and `..`.
    Local(PathBuf),
    /// A key in an S3 (or S3-compatible) bucket; the key has no leading or trailing `/`.
    S3 {
        /// The bucket's name.
        bucket: String,
        /// The key (or key prefix) inside the bucket; empty for the bucket's root.
        key: String,
    },
}

impl Uri {
    /// Parses a URI or a plain local path.
    pub fn parse(text: &str) -> Result<Uri, StorageError> {
        let invalid = |reason: &str| StorageError::InvalidUri {
            uri: text.to_owned(),
            reason: reason.to_owned(),
        };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return local_from_path(Path::new(text)).map_err(|reason| invalid(&reason));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "s3" | "s3a" => {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(invalid("it names no bucket (write s3://bucket/key)"));
                }
                let key = key.trim_end_matches('/');
                check_key(key).map_err(|reason| invalid(&reason))?;
                Ok(Uri::S3 {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                })
            }
            "file" => {
                let url = url::Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
                match url.host_str() {
                    None | Some("") | Some("localhost") => {}
                    Some(host) => {
                        return Err(invalid(&format!(
                            "a file URI must be local, but it names host `{host}`"
                        )))
                    }
                }
                let path = url
                    .to_file_path()
                    .map_err(|()| invalid("it is not an absolute file path"))?;
                local_from_path(&path).map_err(|reason| invalid(&reason))
            }
            other => Err(invalid(&format!(
                "the scheme `{other}` is not supported; use s3://, file:// or a plain path"
            ))),
        }
    }

    /// This location with `/`-separated `segments` appended.
    ///
    /// Segments may not be empty, `.` or `..`: a join never leaves its prefix.
    pub fn join(&self, segments: &str) -> Result<Uri, StorageError> {
        let parts: Vec<&str> = segments.trim_matches('/').split('/').collect();
        for part in &parts {
            if part.is_empty() || *part == "." || *part == ".." {
                return Err(StorageError::InvalidUri {
                    uri: format!("{self}/{segments}"),
                    reason: format!("the segment `{part}` is empty, `.` or `..`"),
                });
            }
        }
        Ok(match self {
            Uri::Local(path) => {
                let mut path = path.clone();
                path.extend(&parts);
                Uri::Local(path)
            }
            Uri::S3 { bucket, key } => {
                let tail = parts.join("/");
                Uri::S3 {
                    bucket: bucket.clone(),
                    key: if key.is_empty() {
                        tail
                    } else {
                        format!("{key}/{tail}")
                    },
                }
            }
        })
    }

    /// Whether this is a location on the local file system.
    pub fn is_local(&self) -> bool {
        matches!(self, Uri::Local(_))
    }
}

impl FromStr for Uri {
    type Err = StorageError;

    fn from_str(text: &str) -> Result<Uri, StorageError> {
        Uri::parse(text)
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Local(path) => write!(f, "file://{}", path.display()),
            Uri::S3 { bucket, key } if key.is_empty() => write!(f, "s3://{bucket}"),
            Uri::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// An absolute, normalized local path; `..` may not climb above the root.
fn local_from_path(path: &Path) -> Result<Uri, String> {
    let absolute =
        std::path::absolute(path).map_err(|e| format!("it cannot be made absolute ({e})"))?;
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    return Err("it climbs above the root with `..`".into());
                }
            }
            other => normal.push(other),
        }
    }
    Ok(Uri::Local(normal))
}

/// S3 keys here are `/`-separated segments, none empty, `.` or `..`.
fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Ok(());
    }
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!("its key `{key}` has an empty, `.` or `..` segment"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_parse_and_print_back() {
        let uri = Uri::parse("s3://bucket/a/b/").unwrap();
        assert_eq!(
            uri,
            Uri::S3 {
                bucket: "bucket".into(),
                key: "a/b".into()
            }
        );
        assert_eq!(uri.to_string(), "s3://bucket/a/b");
        assert_eq!(
            Uri::parse("s3://bucket").unwrap().to_string(),
            "s3://bucket"
        );
        assert_eq!(
            Uri::parse("s3://bucket")
                .unwrap()
                .join("x")
                .unwrap()
                .to_string(),
            "s3://bucket/x"
        );
    }

    #[test]
    fn local_paths_and_file_uris_agree() {
        let a = Uri::parse("/tmp/run/../run/inputs.pb").unwrap();
        let b = Uri::parse("file:///tmp/run/inputs.pb").unwrap();
        let c = Uri::parse("file://localhost/tmp/run/inputs.pb").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a, Uri::Local(PathBuf::from("/tmp/run/inputs.pb")));
        let relative = Uri::parse("some/dir").unwrap();
        assert_eq!(
            relative,
            Uri::Local(std::env::current_dir().unwrap().join("some/dir"))
        );
        assert_eq!(
            Uri::parse("file:///tmp/with%20space").unwrap(),
            Uri::Local(PathBuf::from("/tmp/with space"))
        );
    }

    #[test]
    fn joins_stay_under_their_prefix() {
        let out = Uri::parse("/tmp/out").unwrap();
        assert_eq!(
            out.join("2/outputs.pb").unwrap(),
            Uri::Local(PathBuf::from("/tmp/out/2/outputs.pb"))
        );
        for bad in ["..", "a/../b", "a//b", "./x", ""] {
            let err = out.join(bad).unwrap_err().to_string();
            assert!(err.contains("file:///tmp/out/"), "{err}");
        }
    }

    #[test]
    fn bad_uris_name_themselves_and_the_reason() {
        let cases = [
            ("gs://bucket/x", "the scheme `gs` is not supported"),
            ("s3:///key", "names no bucket"),
            ("s3://b/a//c", "empty, `.` or `..` segment"),
            ("s3://b/a/../c", "empty, `.` or `..` segment"),
            ("file://elsewhere/x", "names host `elsewhere`"),
            ("", "it is empty"),
        ];
        for (text, reason) in cases {
            let err = Uri::parse(text).unwrap_err().to_string();
            assert!(err.contains(&format!("`{text}`")), "{err}");
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}
