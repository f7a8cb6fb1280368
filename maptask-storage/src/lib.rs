//! Object storage for maptask: inputs, element outputs and aggregates as whole objects in a local
//! directory or an S3-compatible bucket, through [`object_store`].
//!
//! ```
//! use maptask_storage::{BlockingStorage, Uri};
//! # let dir = std::env::temp_dir().join(format!("maptask-storage-doc-{}", std::process::id()));
//! let storage = BlockingStorage::from_env()?;
//! let out: Uri = dir.to_str().unwrap().parse()?;
//! storage.put(&out.join("0/outputs.pb")?, b"bytes".to_vec())?;
//! assert_eq!(&storage.get(&out.join("0/outputs.pb")?)?[..], b"bytes");
//! assert_eq!(storage.list(&out)?.len(), 1);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Where things are:
//! * `uri.rs`: [`Uri`], parsing `s3://bucket/key`, `file:///path` and plain paths, and joining;
//! * `config.rs`: [`S3Config`] from the `AWS_*` variables, and [`Secret`];
//! * `store.rs`: [`Storage`], the async operations and the mapping of client errors;
//! * `blocking.rs`: [`BlockingStorage`] for synchronous callers;
//! * `local.rs`: owner-only directories;
//! * `error.rs`: [`StorageError`].
#![warn(missing_docs)]

mod blocking;
mod config;
mod error;
mod local;
mod store;
mod uri;

pub use blocking::BlockingStorage;
pub use config::{S3Config, Secret};
pub use error::StorageError;
pub use local::create_private_dir_all;
pub use store::{ObjectInfo, Storage};
pub use uri::Uri;

pub use bytes::Bytes;
