//! The compute pool: a fixed set of OS threads that run blocking work.
//!
//! The pool knows nothing of maps. It runs [`PoolJob`]s from one FIFO queue. A map with blocking
//! work is itself a job (see `engine::blocking`): each copy of it in the queue is one thread
//! draining that map's own element queue. A job that has run for a while asks to be requeued, so
//! maps running at the same time share the threads round-robin.

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
}

struct Shared {
    queue: Mutex<Queue>,
    available: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // No user code runs under this lock, so poisoning cannot leave it inconsistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fixed set of threads. Dropping the pool lets its threads finish the queued jobs and exit.
pub(crate) struct ComputePool {
    shared: Arc<Shared>,
    threads: usize,
}

impl ComputePool {
    /// Starts `threads` threads (at least one).
    pub(crate) fn new(threads: usize) -> ComputePool {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                jobs: VecDeque::new(),
                shutdown: false,
            }),
            available: Condvar::new(),
        });
        let mut started = 0;
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name(format!("maptask-compute-{i}"))
                .spawn(move || worker(&shared));
            match spawned {
                Ok(_) => started += 1,
                Err(error) => tracing::error!(%error, "could not start a compute thread"),
            }
        }
        ComputePool {
            shared,
            threads: started,
        }
    }

    /// The number of threads running.
    pub(crate) fn threads(&self) -> usize {
        self.threads
    }

    /// Queues `copies` copies of `job`.
    pub(crate) fn submit(&self, job: &Arc<dyn PoolJob>, copies: usize) {
        if self.threads == 0 {
            // No thread could be started: run on the caller rather than never.
            while job.run() > 0 {}
            return;
        }
        {
            let mut queue = self.shared.lock();
            for _ in 0..copies {
                queue.jobs.push_back(Arc::clone(job));
            }
        }
        for _ in 0..copies.min(self.threads) {
            self.shared.available.notify_one();
        }
    }
}

impl Drop for ComputePool {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.available.notify_all();
    }
}

fn worker(shared: &Shared) {
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break job;
                }
                if queue.shutdown {
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
