//! The store: one redb file, a writer thread, `stats` and `clear`.
//!
//! # Where it lives
//!
//! [`Store::default_path`]: `$MAPTASK_CACHE_DIR/cache.redb` when that variable is set, else
//! `$XDG_CACHE_HOME/maptask/cache.redb`, else `$HOME/.cache/maptask/cache.redb`. Directories the
//! store creates are readable by their owner only (0700), and so is the file (0600).
//!
//! # Crash safety
//!
//! redb commits are atomic and durable (two-phase commit with fsync). A writer thread takes
//! entries from a channel and commits everything queued in one transaction as soon as it is
//! free, so the hot path only encodes and sends, and batches grow by themselves when results
//! arrive faster than commits finish. A kill -9 loses the entries of elements still running,
//! those of the commit under way and those queued behind it: the results of roughly the last
//! commit's duration (milliseconds for tasks that take milliseconds; about 0.2 s
//! for 100,000 no-op elements finishing at once). Everything committed before is kept, and redb
//! repairs the file on the next open.
//!
//! # Several processes
//!
//! The file is opened in redb's multi-writer mode: any number of processes may read and write it
//! at once; a write transaction waits while another process is in one (they are short). A
//! process of a redb version that opened the file for exclusive use makes [`Store::open`] fail
//! with [`CacheError::Locked`], naming the file.
//!
//! # A damaged file
//!
//! The file's checksums are verified when it is opened. A file that is not a redb database, or
//! whose checksums fail, is moved aside to `cache.redb.corrupt-<unix seconds>` with one warning,
//! and an empty store takes its place: a cache can always be rebuilt, a run should not fail for
//! it.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_channel::oneshot;
use redb::{
    ConcurrencyMode, Database, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableError, TableHandle,
};

use crate::key::{CacheKey, Digest};

/// The environment variable that overrides the store's directory.
pub const CACHE_DIR_ENV: &str = "MAPTASK_CACHE_DIR";

/// The store's file name inside its directory.
pub const FILE_NAME: &str = "cache.redb";

/// The entries of one task live in their own table, `entries.v2/<task name>`: element digest
/// (fixed width, so that the B-tree compares 32 bytes and stores no length) → entry bytes (see
/// [`crate::codec`]). Stats list the tables; clearing a task drops its table.
const TABLE_PREFIX: &str = "entries.v2/";

/// The layout before per-task tables: (task name, digest) → entry. Dropped when a store opens.
const OLD_ENTRIES: &str = "entries.v1";

type Entries<'a> = TableDefinition<'a, &'static [u8; 32], &'static [u8]>;

/// The table of `task`'s entries; `name` holds its name.
fn entries<'a>(name: &'a mut String, task: &str) -> Entries<'a> {
    name.clear();
    name.push_str(TABLE_PREFIX);
    name.push_str(task);
    TableDefinition::new(name)
}

/// From this many keys on, [`Store::lookup`] walks the table instead of descending it per key.
const JOIN_THRESHOLD: usize = 64;

/// The most entries one write transaction takes from the queue. Large: a B-tree commit rewrites
/// every leaf it touches, so one big batch costs far less than many small ones, and the queue
/// only grows while a commit is under way.
const MAX_BATCH: usize = 1 << 20;

/// What can go wrong with the store. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// No directory could be found for the store.
    #[error("no cache directory: set {CACHE_DIR_ENV}, XDG_CACHE_HOME or HOME")]
    NoLocation,
    /// The directory or file could not be created or opened.
    #[error("cache store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the file for its exclusive use.
    #[error("cache store {path} is locked by another process that opened it for exclusive use; close it or set {CACHE_DIR_ENV} to another directory")]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// redb failed.
    #[error("cache store {path}: {source}")]
    Store {
        /// The file.
        path: PathBuf,
        /// redb's error.
        #[source]
        source: Box<redb::Error>,
    },
    /// The writer thread stopped; entries sent to it were lost.
    #[error("cache store {path}: the writer thread stopped")]
    WriterGone {
        /// The file.
        path: PathBuf,
    },
}

/// The counts of one task's entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskStats {
    /// The number of entries.
    pub entries: u64,
    /// Their total size in bytes: 32 per key (the digest) plus the entries' bytes.
    pub bytes: u64,
}

/// What a store holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// The store's file.
    pub path: PathBuf,
    /// The file's size on disk.
    pub file_bytes: u64,
    /// Per task name, sorted by name.
    pub tasks: BTreeMap<String, TaskStats>,
}

impl Stats {
    /// The number of entries of every task.
    pub fn entries(&self) -> u64 {
        self.tasks.values().map(|t| t.entries).sum()
    }
}

/// A handle on one store file. Cloning is cheap and shares the file and its writer thread.
///
/// Dropping the last handle waits for the writer thread to commit what it was sent.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    db: Arc<Database>,
    /// The sending half of the writer's queue (a `Sender` is `Sync`: threads storing results
    /// at once do not take turns on a lock); `None` once dropped.
    queue: Option<Sender<Message>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Write transactions the writer thread has committed.
    commits: Arc<AtomicU64>,
}

enum Message {
    Put {
        task: Arc<str>,
        digest: Digest,
        entry: Vec<u8>,
    },
    Flush(oneshot::Sender<Result<(), String>>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl Store {
    /// Where the store lives unless told otherwise: see the [module docs](self).
    pub fn default_path() -> Result<PathBuf, CacheError> {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(dir) = non_empty(CACHE_DIR_ENV) {
            return Ok(PathBuf::from(dir).join(FILE_NAME));
        }
        if let Some(dir) = non_empty("XDG_CACHE_HOME").map(PathBuf::from) {
            if dir.is_absolute() {
                return Ok(dir.join("maptask").join(FILE_NAME));
            }
        }
        match non_empty("HOME") {
            Some(home) => Ok(PathBuf::from(home)
                .join(".cache")
                .join("maptask")
                .join(FILE_NAME)),
            None => Err(CacheError::NoLocation),
        }
    }

    /// Opens the store at [`Store::default_path`].
    pub fn open_default() -> Result<Store, CacheError> {
        Store::open(Store::default_path()?)
    }

    /// Opens the store file at `path`, creating it and its directories when missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, CacheError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|source| CacheError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = Arc::new(open_or_replace(&path)?);
        let (queue, receiver) = mpsc::channel();
        let commits = Arc::new(AtomicU64::new(0));
        let writer = {
            let db = Arc::clone(&db);
            let thread_path = path.clone();
            let commits = Arc::clone(&commits);
            std::thread::Builder::new()
                .name("maptask-cache-writer".into())
                .spawn(move || write_loop(&db, &thread_path, receiver, &commits))
                .map_err(|source| CacheError::Io {
                    path: path.clone(),
                    source,
                })?
        };
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                db,
                queue: Some(queue),
                writer: Mutex::new(Some(writer)),
                commits,
            }),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// How many write transactions this handle's writer thread has committed so far. Each takes
    /// everything queued while the previous one ran, so under load this stays far below the
    /// number of entries stored.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// Looks up many digests of one task in one read transaction, and calls `found` with the
    /// position in `digests` and the entry's bytes of each one present, in key order.
    pub fn lookup<'d>(
        &self,
        task: &str,
        digests: impl IntoIterator<Item = &'d Digest>,
        mut found: impl FnMut(usize, &[u8]),
    ) -> Result<(), CacheError> {
        let digests: Vec<&Digest> = digests.into_iter().collect();
        // Visiting the tree in key order is several times faster than in input order, whose
        // digests are random. Digests are uniformly random, so their first 8 bytes order them
        // but for ties that (almost) never happen: sorting `u64`s (and the whole digests only on
        // a tie) is several times cheaper than sorting by 32 bytes.
        let mut order: Vec<(u64, u32)> = digests
            .iter()
            .zip(0u32..)
            .map(|(d, i)| (d.prefix(), i))
            .collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| digests[a.1 as usize].cmp(digests[b.1 as usize]))
        });
        let key = |k: usize| -> &[u8; 32] { &digests[order[k].1 as usize].0 };
        let txn = self.inner.db.begin_read().map_err(|e| self.error(e))?;
        let mut name = String::new();
        let table = match txn.open_table(entries(&mut name, task)) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => return Ok(()),
            Err(e) => return Err(self.error(e)),
        };
        // Many keys: walk the task's entries in order from the first key asked for and join,
        // which reads each leaf once instead of descending the tree per key. Should the walk
        // pass over many more entries than were asked for (a few keys in a big store), the
        // remaining keys are fetched one by one.
        let mut next = 0;
        if order.len() >= JOIN_THRESHOLD {
            let mut skipped = 0usize;
            let budget = 2 * order.len() + 1024;
            for row in table
                .range::<&[u8; 32]>(key(0)..)
                .map_err(|e| self.error(e))?
            {
                let (stored, value) = row.map_err(|e| self.error(e))?;
                let stored = stored.value();
                while next < order.len() && key(next) < stored {
                    next += 1;
                }
                if next == order.len() {
                    break;
                }
                if key(next) == stored {
                    // Equal inputs give equal digests: every element asking for it is found.
                    while next < order.len() && key(next) == stored {
                        found(order[next].1 as usize, value.value());
                        next += 1;
                    }
                } else {
                    skipped += 1;
                    if skipped > budget {
                        break;
                    }
                }
            }
            if skipped <= budget {
                return Ok(());
            }
        }
        for &(_, i) in &order[next..] {
            if let Some(value) = table
                .get(&digests[i as usize].0)
                .map_err(|e| self.error(e))?
            {
                found(i as usize, value.value());
            }
        }
        Ok(())
    }

    /// The entry stored under `key`, if any.
    pub fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        let mut out = None;
        self.lookup(&key.task, [&key.digest], |_, bytes| {
            out = Some(bytes.to_vec())
        })?;
        Ok(out)
    }

    /// Queues an entry for the writer thread, which commits it soon, with whatever else is
    /// queued. Returns at once.
    pub fn put(&self, task: Arc<str>, digest: Digest, entry: Vec<u8>) -> Result<(), CacheError> {
        self.send(Message::Put {
            task,
            digest,
            entry,
        })
    }

    /// Waits until every entry queued before this call is committed.
    pub fn flush(&self) -> Result<(), CacheError> {
        futures_executor_block_on(self.flush_async())
    }

    /// Like [`Store::flush`], without blocking the thread.
    pub async fn flush_async(&self) -> Result<(), CacheError> {
        let (tx, rx) = oneshot::channel();
        self.send(Message::Flush(tx))?;
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(CacheError::Io {
                path: self.inner.path.clone(),
                source: std::io::Error::other(message),
            }),
            Err(_) => Err(CacheError::WriterGone {
                path: self.inner.path.clone(),
            }),
        }
    }

    /// The entries per task and the file's size.
    pub fn stats(&self) -> Result<Stats, CacheError> {
        let mut tasks: BTreeMap<String, TaskStats> = BTreeMap::new();
        let txn = self.inner.db.begin_read().map_err(|e| self.error(e))?;
        let names: Vec<String> = txn
            .list_tables()
            .map_err(|e| self.error(e))?
            .filter_map(|t| t.name().strip_prefix(TABLE_PREFIX).map(str::to_owned))
            .collect();
        let mut name = String::new();
        for task in names {
            let table = txn
                .open_table(entries(&mut name, &task))
                .map_err(|e| self.error(e))?;
            let mut stats = TaskStats::default();
            for row in table.iter().map_err(|e| self.error(e))? {
                let (_, value) = row.map_err(|e| self.error(e))?;
                stats.entries += 1;
                stats.bytes += (32 + value.value().len()) as u64;
            }
            if stats.entries > 0 {
                tasks.insert(task, stats);
            }
        }
        let file_bytes = fs::metadata(&self.inner.path).map(|m| m.len()).unwrap_or(0);
        Ok(Stats {
            path: self.inner.path.clone(),
            file_bytes,
            tasks,
        })
    }

    /// Removes the entries of `task`, or every entry when `None`, after committing what is
    /// queued. Returns how many were removed.
    pub fn clear(&self, task: Option<&str>) -> Result<u64, CacheError> {
        self.flush()?;
        let txn = self.inner.db.begin_write().map_err(|e| self.error(e))?;
        let tasks: Vec<String> = match task {
            Some(task) => vec![task.to_owned()],
            None => txn
                .list_tables()
                .map_err(|e| self.error(e))?
                .filter_map(|t| t.name().strip_prefix(TABLE_PREFIX).map(str::to_owned))
                .collect(),
        };
        let mut removed = 0u64;
        let mut name = String::new();
        for task in tasks {
            let definition = entries(&mut name, &task);
            match txn.open_table(definition) {
                Ok(table) => removed += table.len().map_err(|e| self.error(e))?,
                Err(TableError::TableDoesNotExist(_)) => continue,
                Err(e) => return Err(self.error(e)),
            }
            txn.delete_table(definition).map_err(|e| self.error(e))?;
        }
        txn.commit().map_err(|e| self.error(e))?;
        Ok(removed)
    }

    fn send(&self, message: Message) -> Result<(), CacheError> {
        match self.inner.queue.as_ref().map(|q| q.send(message)) {
            Some(Ok(())) => Ok(()),
            _ => Err(CacheError::WriterGone {
                path: self.inner.path.clone(),
            }),
        }
    }

    fn error(&self, e: impl Into<redb::Error>) -> CacheError {
        store_error(&self.inner.path, e)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer's loop once it has committed what it holds.
        self.queue.take();
        if let Some(writer) = lock(&self.writer).take() {
            let _ = writer.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn store_error(path: &Path, e: impl Into<redb::Error>) -> CacheError {
    CacheError::Store {
        path: path.to_path_buf(),
        source: Box::new(e.into()),
    }
}

/// Blocks on a future without a runtime; used only by [`Store::flush`].
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The writer thread: commits whatever is queued, one transaction at a time.
fn write_loop(db: &Database, path: &Path, queue: Receiver<Message>, commits: &AtomicU64) {
    let mut warned = false;
    let mut batch: Vec<(Arc<str>, Digest, Vec<u8>)> = Vec::new();
    let mut waiters: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
    while let Ok(first) = queue.recv() {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Put {
                    task,
                    digest,
                    entry,
                } => batch.push((task, digest, entry)),
                Message::Flush(waiter) => waiters.push(waiter),
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        // Grouped by task (one table each), in key order within a task: each leaf of a tree is
        // then written once per batch, not once per entry. Sorting small (task, prefix,
        // position) triples moves far less than sorting the entries themselves.
        let order = commit_order(&batch);
        let result = if batch.is_empty() {
            Ok(())
        } else {
            let result = commit(db, &batch, &order);
            commits.fetch_add(1, Ordering::Relaxed);
            result.map_err(|e| store_error(path, e).to_string())
        };
        if let Err(message) = &result {
            if !warned {
                tracing::warn!(
                    "maptask cache: {message}; {} results were not stored",
                    batch.len()
                );
                warned = true;
            }
        }
        batch.clear();
        for waiter in waiters.drain(..) {
            let _ = waiter.send(result.clone());
        }
    }
}

/// The order in which to insert `batch`: positions grouped by task, and in key order within a
/// task.
fn commit_order(batch: &[(Arc<str>, Digest, Vec<u8>)]) -> Vec<(u32, u64, u32)> {
    // A map's entries share one `Arc` for their task name: a pointer check finds its group.
    let mut tasks: Vec<&Arc<str>> = Vec::new();
    let mut order: Vec<(u32, u64, u32)> = Vec::with_capacity(batch.len());
    for ((task, digest, _), position) in batch.iter().zip(0u32..) {
        let group = match tasks
            .iter()
            .position(|t| Arc::ptr_eq(t, task) || ***t == **task)
        {
            Some(group) => group,
            None => {
                tasks.push(task);
                tasks.len() - 1
            }
        };
        order.push((group as u32, digest.prefix(), position));
    }
    order.sort_unstable_by(|a, b| {
        (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
            // Equal prefixes (almost never): order by the whole digest.
            batch[a.2 as usize].1.cmp(&batch[b.2 as usize].1)
        })
    });
    order
}

fn commit(
    db: &Database,
    batch: &[(Arc<str>, Digest, Vec<u8>)],
    order: &[(u32, u64, u32)],
) -> Result<(), redb::Error> {
    let txn = db.begin_write()?;
    let mut name = String::new();
    for group in order.chunk_by(|a, b| a.0 == b.0) {
        let task = &batch[group[0].2 as usize].0;
        let mut table = txn.open_table(entries(&mut name, task))?;
        for &(_, _, position) in group {
            let (_, digest, entry) = &batch[position as usize];
            table.insert(&digest.0, entry.as_slice())?;
        }
    }
    txn.commit()?;
    Ok(())
}

/// Creates `dir` and its missing parents, readable by the owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens (or creates, 0600) the file for reading and writing.
fn open_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Opens the database, or moves a damaged file aside and starts an empty one.
fn open_or_replace(path: &Path) -> Result<Database, CacheError> {
    match open_database(path) {
        Ok(db) => Ok(db),
        Err(Opened::Locked) => Err(CacheError::Locked {
            path: path.to_path_buf(),
        }),
        Err(Opened::Failed(e)) => Err(e),
        Err(Opened::Damaged(reason)) => {
            let stamp = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO)
                .as_secs();
            let aside = path.with_extension(format!("redb.corrupt-{stamp}"));
            fs::rename(path, &aside).map_err(|source| CacheError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            tracing::warn!(
                "maptask cache: {} is damaged ({reason}); moved it to {} and started an empty cache",
                path.display(),
                aside.display()
            );
            match open_database(path) {
                Ok(db) => Ok(db),
                Err(Opened::Locked) => Err(CacheError::Locked {
                    path: path.to_path_buf(),
                }),
                Err(Opened::Failed(e)) => Err(e),
                Err(Opened::Damaged(reason)) => Err(CacheError::Io {
                    path: path.to_path_buf(),
                    source: std::io::Error::other(format!(
                        "a new, empty store could not be opened: {reason}"
                    )),
                }),
            }
        }
    }
}

enum Opened {
    Locked,
    Damaged(String),
    Failed(CacheError),
}

fn open_database(path: &Path) -> Result<Database, Opened> {
    // Create the file ourselves so that it is private from the start; redb then opens it.
    open_file(path).map_err(|source| {
        Opened::Failed(CacheError::Io {
            path: path.to_path_buf(),
            source,
        })
    })?;
    // redb panics on some damage in debug builds; a cache must never take the program down.
    let opened = catch_unwind(AssertUnwindSafe(|| {
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .set_check_integrity_on_open(true)
            .create(path)?;
        // Entries of the older layout can never be found again: free their space.
        let txn = db.begin_write()?;
        let old: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new(OLD_ENTRIES);
        if txn.delete_table(old)? {
            txn.commit()?;
        } else {
            txn.abort()?;
        }
        Ok::<Database, redb::Error>(db)
    }));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(redb::Error::DatabaseAlreadyOpen)) => Err(Opened::Locked),
        Ok(Err(redb::Error::Corrupted(reason))) => Err(Opened::Damaged(reason)),
        Ok(Err(redb::Error::UpgradeRequired(version))) => Err(Opened::Damaged(format!(
            "written by an older redb file format {version}"
        ))),
        Ok(Err(redb::Error::Io(e))) if e.kind() == std::io::ErrorKind::InvalidData => {
            Err(Opened::Damaged(e.to_string()))
        }
        Ok(Err(e)) => Err(Opened::Failed(store_error(path, e))),
        Err(panic) => Err(Opened::Damaged(panic_message(panic.as_ref()))),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "redb panicked".to_owned()
    }
}
