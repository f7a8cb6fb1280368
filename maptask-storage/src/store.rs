//! [`Storage`]: whole-object reads and writes, and listings, on local paths and S3 buckets.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpError, HttpErrorKind};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use crate::config::{scrub, S3Config};
use crate::error::StorageError;
use crate::local::create_private_dir_all;
use crate::uri::Uri;

/// One object found by [`Storage::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Where the object is.
    pub uri: Uri,
    /// Its size in bytes.
    pub size: u64,
}

/// Reads, writes and lists whole objects at [`Uri`]s.
///
/// * A write is atomic: readers see the old object or the new one, never part of one. On S3 a
///   single `PUT` is atomic by itself; on a local file system the bytes go to a temporary file
///   beside the target, which is then renamed over it.
/// * Local directories that a write creates are readable by their owner only (mode `0700`).
/// * Errors name the URI and never contain a secret of the configuration.
///
/// One S3 client is built per bucket and reused.
pub struct Storage {
    s3: S3Config,
    secrets: Vec<String>,
    local: Arc<LocalFileSystem>,
    buckets: Mutex<HashMap<String, Arc<AmazonS3>>>,
}

impl Storage {
    /// Storage whose S3 stores use `s3`.
    pub fn new(s3: S3Config) -> Storage {
        let secrets = s3.secrets();
        Storage {
            s3,
            secrets,
            local: Arc::new(LocalFileSystem::new()),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Storage configured by the environment ([`S3Config::from_env`]).
    pub fn from_env() -> Storage {
        Storage::new(S3Config::from_env())
    }

    /// The whole object at `uri`.
    pub async fn get(&self, uri: &Uri) -> Result<Bytes, StorageError> {
        let (store, path) = self.resolve(uri)?;
        let result = async { store.get(&path).await?.bytes().await }.await;
        result.map_err(|e| self.error("read", uri, e))
    }

    /// Writes `bytes` as the whole object at `uri`, replacing any object there.
    pub async fn put(&self, uri: &Uri, bytes: impl Into<Bytes>) -> Result<(), StorageError> {
        if let Uri::Local(path) = uri {
            if let Some(parent) = path.parent() {
                create_private_dir_all(parent)?;
            }
        }
        let (store, path) = self.resolve(uri)?;
        store
            .put(&path, PutPayload::from_bytes(bytes.into()))
            .await
            .map(drop)
            .map_err(|e| self.error("write", uri, e))
    }

    /// Whether an object exists at `uri`.
    pub async fn exists(&self, uri: &Uri) -> Result<bool, StorageError> {
        let (store, path) = self.resolve(uri)?;
        match store.head(&path).await {
            Ok(_) => Ok(true),
            Err(e) => match self.error("read", uri, e) {
                StorageError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Every object under `prefix`, sorted by URI.
    ///
    /// The prefix is a directory-like prefix: `s3://b/out` lists `s3://b/out/0/outputs.pb` but
    /// not `s3://b/output`. A prefix with nothing under it lists nothing.
    pub async fn list(&self, prefix: &Uri) -> Result<Vec<ObjectInfo>, StorageError> {
        let (store, path) = self.resolve(prefix)?;
        let root = (!path.as_ref().is_empty()).then_some(&path);
        let metas: Vec<_> = store
            .list(root)
            .try_collect()
            .await
            .map_err(|e| self.error("list", prefix, e))?;
        let mut found = Vec::with_capacity(metas.len());
        for meta in metas {
            let uri = match prefix {
                Uri::Local(_) => Uri::Local(
                    self.local
                        .path_to_filesystem(&meta.location)
                        .map_err(|e| self.error("list", prefix, e))?,
                ),
                Uri::S3 { bucket, .. } => Uri::S3 {
                    bucket: bucket.clone(),
                    key: meta.location.to_string(),
                },
            };
            found.push(ObjectInfo {
                uri,
                size: meta.size,
            });
        }
        found.sort_by(|a, b| a.uri.cmp(&b.uri));
        Ok(found)
    }

    /// The store that holds `uri`, and the object's path in it.
    fn resolve(&self, uri: &Uri) -> Result<(Arc<dyn ObjectStore>, ObjectPath), StorageError> {
        let invalid = |reason: String| StorageError::InvalidUri {
            uri: uri.to_string(),
            reason,
        };
        match uri {
            Uri::Local(path) => {
                let object =
                    ObjectPath::from_absolute_path(path).map_err(|e| invalid(e.to_string()))?;
                Ok((self.local.clone(), object))
            }
            Uri::S3 { bucket, key } => {
                let object = ObjectPath::parse(key).map_err(|e| invalid(e.to_string()))?;
                Ok((self.bucket(uri, bucket)?, object))
            }
        }
    }

    fn bucket(&self, uri: &Uri, bucket: &str) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = buckets.get(bucket) {
            return Ok(store.clone());
        }
        let config = &self.s3;
        let mut builder = if config.env_credential_sources {
            AmazonS3Builder::from_env()
        } else {
            AmazonS3Builder::new()
        }
        .with_bucket_name(bucket)
        .with_region(config.region.as_deref().unwrap_or("us-east-1"))
        .with_allow_http(config.allow_http)
        .with_retry(RetryConfig {
            max_retries: config.max_retries,
            ..RetryConfig::default()
        })
        .with_client_options(
            ClientOptions::new()
                .with_allow_http(config.allow_http)
                .with_connect_timeout(config.connect_timeout),
        );
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if let Some(id) = &config.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose());
        }
        if let Some(token) = &config.session_token {
            builder = builder.with_token(token.expose());
        }
        let store = Arc::new(builder.build().map_err(|e| StorageError::Config {
            uri: uri.to_string(),
            detail: scrub(e.to_string(), &self.secrets),
        })?);
        buckets.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// Turns a client error into the variant a caller can act on; secrets are scrubbed.
    fn error(
        &self,
        operation: &'static str,
        uri: &Uri,
        error: object_store::Error,
    ) -> StorageError {
        let detail = scrub(error.to_string(), &self.secrets);
        let uri_text = uri.to_string();
        // Some S3 calls (listings) surface the server's answer only as text: its error code
        // decides then.
        let s3_code = |code: &str| detail.contains(&format!("<Code>{code}</Code>"));
        let denied = [
            "AccessDenied",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
        ];
        match (&error, uri) {
            (_, Uri::S3 { bucket, .. }) if s3_code("NoSuchBucket") => {
                StorageError::BucketNotFound {
                    uri: uri_text,
                    bucket: bucket.clone(),
                }
            }
            (object_store::Error::NotFound { .. }, _) => StorageError::NotFound { uri: uri_text },
            (
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. },
                _,
            ) => StorageError::Denied {
                uri: uri_text,
                detail,
            },
            (_, Uri::S3 { .. }) if denied.iter().any(|code| s3_code(code)) => {
                StorageError::Denied {
                    uri: uri_text,
                    detail,
                }
            }
            (_, Uri::S3 { bucket, .. }) if is_connection_failure(&error) => {
                StorageError::Unreachable {
                    uri: uri_text,
                    endpoint: self.s3.endpoint_for(bucket),
                    detail,
                }
            }
            _ => StorageError::Other {
                operation,
                uri: uri_text,
                detail,
            },
        }
    }
}

/// Whether the error chain holds a failure to connect (refused, DNS, TLS) or a timeout.
fn is_connection_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(http) = e.downcast_ref::<HttpError>() {
            if matches!(http.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout) {
                return true;
            }
        }
        current = e.source();
    }
    false
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The clients' own `Debug` shows their credentials; only the scrubbed config is shown.
        f.debug_struct("Storage")
            .field("s3", &self.s3)
            .finish_non_exhaustive()
    }
}

impl Default for Storage {
    fn default() -> Self {
        Storage::from_env()
    }
}
