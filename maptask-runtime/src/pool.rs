//! The compute pool: a set of OS threads that run blocking work.
//!
//! The pool knows nothing of maps. It runs [`PoolJob`]s from one FIFO queue. A map with blocking
//! work is itself a job (see `engine::blocking`): each copy of it in the queue is one thread
//! draining that map's own element queue. A job that has run for a while asks to be requeued, so
//! maps running at the same time share the threads round-robin.
//!
//! # Threads stuck in abandoned attempts
//!
//! A blocking attempt cannot be interrupted. When a map gives up on one (its timeout passed, or
//! the map stopped), it tells the pool through [`PoolHandle::abandon`]: the thread is now *stuck*,
//! and the pool starts a replacement so that it keeps `threads` threads free for other work.
//! Replacements are bounded by `max_replacements`: past that, the pool warns once (through
//! `tracing`) and runs with fewer free threads until a stuck one returns. A stuck thread that
//! returns calls [`PoolHandle::unstuck`]; whichever thread next finds the pool above its size
//! then ends, so the pool shrinks back to `threads`.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// A unit of work for the pool.
pub(crate) trait PoolJob: Send + Sync + 'static {
    /// Runs for a while. Returns how many copies of the job to put back at the end of the
    /// queue: 0 when it is done, more than 1 when more threads should join in.
    fn run(&self) -> usize;
}

struct Queue {
    jobs: VecDeque<Arc<dyn PoolJob>>,
    shutdown: bool,
    /// Threads alive, stuck ones included.
    live: usize,
    /// Threads inside an abandoned attempt.
    stuck: usize,
    /// Threads started so far (for their names).
    spawned: usize,
    /// Whether the warning about the replacement bound was given.
    warned: bool,
}

pub(crate) struct Shared {
    queue: Mutex<Queue>,
    available: Condvar,
    /// The number of threads the pool keeps free for work.
    threads: usize,
    /// The most threads beyond `threads` started to replace stuck ones.
    max_replacements: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // No user code runs under this lock, so poisoning cannot leave it inconsistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The pool's threads, as [`Runtime::pool_status`](crate::Runtime::pool_status) reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Threads alive, including those stuck in abandoned attempts.
    pub threads: usize,
    /// Threads running an attempt that its map abandoned (timed out, or the map stopped).
    pub stuck: usize,
}

/// Lets a map tell the pool about attempts it abandons. Cheap to clone.
#[derive(Clone)]
pub(crate) struct PoolHandle(Arc<Shared>);

impl PoolHandle {
    /// One thread is now stuck in an attempt whose result nobody waits for: start a
    /// replacement, within the bound.
    pub(crate) fn abandon(&self) {
        let shared = &self.0;
        let mut queue = shared.lock();
        queue.stuck += 1;
        if queue.shutdown || queue.live - queue.stuck >= shared.threads {
            return;
        }
        if queue.live < shared.threads + shared.max_replacements {
            let id = queue.spawned;
            if spawn_worker(shared, id) {
                queue.spawned += 1;
                queue.live += 1;
            }
        } else if !queue.warned {
            queue.warned = true;
            tracing::warn!(
                threads = shared.threads,
                stuck = queue.stuck,
                max_replacements = shared.max_replacements,
                "the compute pool reached its bound of replacement threads: {} threads are stuck \
                 in abandoned blocking attempts (timed out or stopped), and blocking work now \
                 runs on fewer threads until they return",
                queue.stuck
            );
        }
    }

    /// A stuck thread returned from its abandoned attempt. If the pool now has more threads than
    /// it needs, one of them ends when it next looks for work.
    pub(crate) fn unstuck(&self) {
        let shared = &self.0;
        let mut queue = shared.lock();
        queue.stuck = queue.stuck.saturating_sub(1);
        if queue.live > shared.threads + queue.stuck {
            // An idle thread may be the one to go.
            shared.available.notify_one();
        }
    }
}

/// Dropping the pool lets its threads finish the queued jobs and exit.
pub(crate) struct ComputePool {
    shared: Arc<Shared>,
}

impl ComputePool {
    /// Starts `threads` threads (at least one), and allows up to `max_replacements` more to
    /// replace threads stuck in abandoned attempts.
    pub(crate) fn new(threads: usize, max_replacements: usize) -> ComputePool {
        let threads = threads.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                shutdown: false,
                live: 0,
                stuck: 0,
                spawned: 0,
                warned: false,
            }),
            available: Condvar::new(),
            threads,
            max_replacements,
        });
        {
            let mut queue = shared.lock();
            for i in 0..threads {
                if spawn_worker(&shared, i) {
                    queue.live += 1;
                }
            }
            queue.spawned = threads;
        }
        ComputePool { shared }
    }

    /// The number of threads the pool keeps for work, or 0 when none could be started.
    pub(crate) fn threads(&self) -> usize {
        if self.shared.lock().live == 0 {
            0
        } else {
            self.shared.threads
        }
    }

    /// The number of threads the pool keeps for work, read without its lock (a quick map asks
    /// once per call). When no thread could be started, jobs run on their submitter instead.
    pub(crate) fn size(&self) -> usize {
        self.shared.threads
    }

    pub(crate) fn handle(&self) -> PoolHandle {
        PoolHandle(Arc::clone(&self.shared))
    }

    pub(crate) fn status(&self) -> PoolStatus {
        let queue = self.shared.lock();
        PoolStatus {
            threads: queue.live,
            stuck: queue.stuck,
        }
    }

    /// Queues `copies` copies of `job`.
    pub(crate) fn submit(&self, job: &Arc<dyn PoolJob>, copies: usize) {
        {
            let mut queue = self.shared.lock();
            if queue.live > 0 {
                for _ in 0..copies {
                    queue.jobs.push_back(Arc::clone(job));
                }
                drop(queue);
                for _ in 0..copies.min(self.shared.threads) {
                    self.shared.available.notify_one();
                }
                return;
            }
        }
        // No thread could be started: run on the caller rather than never.
        while job.run() > 0 {}
    }
}

impl Drop for ComputePool {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.available.notify_all();
    }
}

/// Starts one worker thread; false (after logging) when the OS refuses.
fn spawn_worker(shared: &Arc<Shared>, id: usize) -> bool {
    let shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name(format!("maptask-compute-{id}"))
        .spawn(move || worker(&shared));
    match spawned {
        Ok(_) => true,
        Err(error) => {
            tracing::error!(%error, "could not start a compute thread");
            false
        }
    }
}

fn worker(shared: &Shared) {
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                // More threads than needed (a stuck one came back): this one ends.
                if queue.live > shared.threads + queue.stuck {
                    queue.live -= 1;
                    return;
                }
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                if queue.shutdown {
                    queue.live -= 1;
                    return;
                }
                queue = shared
                    .available
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        // Jobs catch the panics of user code themselves; this only keeps the thread alive if
        // something else (a panicking `Drop` of a user value) unwinds.
        let copies = catch_unwind(AssertUnwindSafe(|| job.run())).unwrap_or(0);
        if copies > 0 {
            {
                let mut queue = shared.lock();
                for _ in 1..copies {
                    queue.jobs.push_back(Arc::clone(&job));
                }
                queue.jobs.push_back(job);
            }
            // This thread takes one; wake others for the rest.
            for _ in 1..copies {
                shared.available.notify_one();
            }
        }
    }
}
