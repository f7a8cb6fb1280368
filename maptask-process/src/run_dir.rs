//! The run directory: private to the user, created fresh, holding inputs, outputs and logs.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A directory created for one run, readable by its owner only (mode `0700`).
///
/// It is never reused: [`RunDir::create`] fails rather than adopt a directory that exists. It is
/// not removed on drop, so that logs stay for inspection; call [`RunDir::remove`] for that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `path` (its parents as needed, the directory itself with mode `0700`).
    pub fn create(path: impl Into<PathBuf>) -> io::Result<RunDir> {
        let path = path.into();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        // Not recursive: the leaf must be new, and gets exactly this mode.
        fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(RunDir { path })
    }

    /// Creates a fresh directory with a unique name under `parent`:
    /// `maptask-<pid>-<time>-<counter>`.
    pub fn create_in(parent: impl AsRef<Path>) -> io::Result<RunDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "maptask-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        RunDir::create(parent.as_ref().join(name))
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the directory and everything in it.
    pub fn remove(self) -> io::Result<()> {
        fs::remove_dir_all(&self.path)
    }
}

/// The last `lines` lines of the file at `path` (at most its last 64 KiB), or `None` when it
/// cannot be read or is empty.
pub(crate) fn tail(path: &Path, lines: usize) -> Option<String> {
    const MAX_BYTES: u64 = 64 * 1024;
    if lines == 0 {
        return None;
    }
    let mut file = fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(MAX_BYTES);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_end_matches('\n');
    if text.trim().is_empty() {
        return None;
    }
    let all: Vec<&str> = text.split('\n').collect();
    // When the read started mid-file, its first line may be partial; drop it.
    let skip = usize::from(start > 0 && all.len() > 1);
    let kept = &all[skip..];
    let from = kept.len().saturating_sub(lines);
    Some(kept[from..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "maptask-process-unit-{}-{name}",
            std::process::id()
        ))
    }

    #[test]
    fn run_dirs_are_private_and_fresh() {
        let parent = scratch("rundir");
        let dir = RunDir::create_in(&parent).unwrap();
        let mode = fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(
            RunDir::create(dir.path()).is_err(),
            "an existing directory is not reused"
        );
        dir.remove().unwrap();
        fs::remove_dir_all(parent).unwrap();
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let parent = scratch("tail");
        fs::create_dir_all(&parent).unwrap();
        let path = parent.join("log");
        fs::write(&path, "a\nb\nc\nd\n").unwrap();
        assert_eq!(tail(&path, 2).as_deref(), Some("c\nd"));
        assert_eq!(tail(&path, 10).as_deref(), Some("a\nb\nc\nd"));
        fs::write(&path, "\n").unwrap();
        assert_eq!(tail(&path, 2), None);
        assert_eq!(tail(&parent.join("missing"), 2), None);
        fs::remove_dir_all(parent).unwrap();
    }
}
