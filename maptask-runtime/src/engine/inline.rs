//! Quick blocking task calls run inline, on the thread that polls the call.
//!
//! A single call of blocking work (a `#[workflow]`'s task node, [`Runtime::run_task`]) that goes
//! through the compute pool costs two thread hand-offs, tens of microseconds on a busy machine.
//! A call known to be quick is cheaper to run where it is, even on an async worker thread. The
//! runtime learns which work is quick: the first call of each kind of work (its Rust type) runs
//! on the pool and is timed; the kind runs inline while its calls take under [`INLINE_LIMIT`].
//! The [`STRIKES`]th call that takes longer marks the kind slow for good, so an async worker is
//! blocked for longer than the limit at most `STRIKES` times per kind of work. (One strike is
//! not enough: on a busy machine a quick call is sometimes descheduled mid-way.)
//!
//! Maps on the fast path use the same record, per chunk of elements (a chunk's mean): the caller
//! of a map of quick work runs its first elements itself, for a bounded time, before it wakes
//! the pool (see `fast`).
//!
//! [`Runtime::run_task`]: crate::Runtime::run_task

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use maptask_core::{ElementFailure, TaskError};

use super::inbox::lock;
use crate::panics;
use crate::work::Work;

/// The longest a call may take and still run inline.
pub(crate) const INLINE_LIMIT: Duration = Duration::from_micros(50);

/// How many slow calls make a kind of work slow for good.
pub(crate) const STRIKES: u8 = 3;

/// What is known of a kind of work.
#[derive(Clone, Copy)]
struct Kind {
    /// A call took under the limit.
    quick_seen: bool,
    /// Calls that took longer.
    strikes: u8,
    /// The last quick call's time (a chunk's mean per element, for maps).
    mean: Duration,
}

fn kinds() -> &'static Mutex<HashMap<TypeId, Kind>> {
    static KINDS: OnceLock<Mutex<HashMap<TypeId, Kind>>> = OnceLock::new();
    KINDS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether calls of `W` run inline.
pub(crate) fn is_quick<W: 'static>() -> bool {
    quick_mean::<W>().is_some()
}

/// The last quick call's time, when calls of `W` run inline.
pub(crate) fn quick_mean<W: 'static>() -> Option<Duration> {
    lock(kinds())
        .get(&TypeId::of::<W>())
        .filter(|k| k.quick_seen && k.strikes < STRIKES)
        .map(|k| k.mean)
}

/// Records how long a call of `W` took.
pub(crate) fn record<W: 'static>(took: Duration) {
    record_kind(TypeId::of::<W>(), took);
}

/// Records how long a call of the kind of work `kind` took.
pub(crate) fn record_kind(kind: TypeId, took: Duration) {
    let quick = took < INLINE_LIMIT;
    let mut kinds = lock(kinds());
    let entry = kinds.entry(kind).or_insert(Kind {
        quick_seen: false,
        strikes: 0,
        mean: Duration::ZERO,
    });
    if quick {
        entry.quick_seen = true;
        entry.mean = took;
    } else {
        entry.strikes = entry.strikes.saturating_add(1);
    }
}

/// Runs every attempt of one call of `work` on this thread, as the engine would: up to
/// `retries + 1` attempts, an `Err` retried unless permanent, a panic caught as a permanent
/// failure.
pub(crate) fn run<I, W>(
    name: &str,
    retries: u32,
    input: I,
    work: &W,
) -> Result<W::Output, ElementFailure>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    let mut errors = Vec::new();
    let mut input = Some(input);
    let mut attempt = 1;
    loop {
        let last = attempt > retries;
        let arg = if last {
            input.take()
        } else {
            match panics::catch(std::panic::AssertUnwindSafe(|| input.clone())) {
                Ok(arg) => arg,
                Err(payload) => {
                    errors.push(panics::element_panicked(name, 0, attempt, payload.as_ref()));
                    None
                }
            }
        };
        let Some(arg) = arg else {
            return Err(ElementFailure {
                index: 0,
                attempts: attempt,
                errors,
            });
        };
        let started = Instant::now();
        let result = panics::run_element(name, 0, attempt, || work.call_blocking(arg));
        record::<W>(started.elapsed());
        match result {
            Ok(output) => return Ok(output),
            Err(error) => {
                let retry = !error.is_permanent() && !last;
                tracing::debug!(index = 0, attempt, %error, will_retry = retry, "attempt failed");
                errors.push(error);
                if !retry {
                    return Err(ElementFailure {
                        index: 0,
                        attempts: attempt,
                        errors,
                    });
                }
                attempt += 1;
            }
        }
    }
}

/// The error of a call cancelled before it ran.
pub(crate) fn cancelled() -> ElementFailure {
    ElementFailure {
        index: 0,
        attempts: 0,
        errors: vec![TaskError::cancelled()],
    }
}
