//! Local directories readable by their owner only.

use std::path::Path;

use crate::error::StorageError;

/// Creates `path` and its missing parents with mode `0700` (on Unix).
///
/// Directories that already exist keep their mode: only what this call creates is restricted.
pub fn create_private_dir_all(path: &Path) -> Result<(), StorageError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|source| StorageError::CreateDir {
            path: path.to_owned(),
            source,
        })
}
