//! Quick blocking task calls run inline, on the thread that polls the call.
//!
//! A single call of blocking work (a `#[workflow]`'s task node, [`Runtime::run_task`]) that goes
//! through the compute pool costs two thread hand-offs, tens of microseconds on a busy machine.
//! A call known to be quick is cheaper to run where it is, even on an async worker thread. The
//! runtime learns which work is quick: the first call of each kind of work (its Rust type) runs
//! on the pool and is timed; the kind runs inline while its calls take under [`INLINE_LIMIT`].
//! A call that takes longer is a strike, and [`STRIKES`] strikes mark the kind slow for good.
//! One strike is not enough: on a busy machine a quick call is sometimes descheduled mid-way.
//! Nor may strikes add up for ever: over the thousands of calls of a long run such pauses
//! always reach `STRIKES`, and every quick kind would end up on the pool. So [`FORGIVEN_AFTER`]
//! quick calls in a row take one strike back. An async worker is thus blocked for longer than
//! the limit at most `STRIKES` times, plus once per `FORGIVEN_AFTER` quick calls, per kind of
//! work; a kind slow more often than that is marked slow.
//!
//! Maps on the fast path use the same record, per turn of a thread (the mean time per element
//! of the chunks it ran in a row): the caller
//! of a map of quick work runs its first elements itself, for a bounded time, before it wakes
//! the pool (see `fast`).
//!
//! [`Runtime::run_task`]: crate::Runtime::run_task

use std::any::TypeId;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
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

/// How many quick calls in a row take back one strike (of a kind not yet slow).
pub(crate) const FORGIVEN_AFTER: u32 = 100;

/// What is known of a kind of work.
#[derive(Clone, Copy)]
struct Kind {
    /// A call took under the limit.
    quick_seen: bool,
    /// Calls that took longer, less those forgiven.
    strikes: u8,
    /// Quick calls since the last strike (or forgiveness).
    quick_run: u32,
    /// The last quick call's time (a chunk's mean per element, for maps).
    mean: Duration,
}

/// Hashes a `TypeId`, which is a hash already, by keeping what it writes: the default
/// SipHash costs more than the rest of a lookup, done twice per quick map.
#[derive(Default)]
struct TypeIdHasher(u64);

impl std::hash::Hasher for TypeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not how a `TypeId` writes itself today (see `write_u64`), but correct for any.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
    }
}

type Kinds = HashMap<TypeId, Kind, std::hash::BuildHasherDefault<TypeIdHasher>>;

fn kinds() -> &'static Mutex<Kinds> {
    static KINDS: OnceLock<Mutex<Kinds>> = OnceLock::new();
    KINDS.get_or_init(|| Mutex::new(Kinds::default()))
}

/// Whether calls of `W` run inline.
pub(crate) fn is_quick<W: 'static>() -> bool {
    quick_mean::<W>().is_some()
}

/// The last quick call's time, when calls of `W` run inline.
pub(crate) fn quick_mean<W: 'static>() -> Option<Duration> {
    quick_mean_of(TypeId::of::<W>())
}

/// The last quick call's time, when calls of the kind of work `kind` run inline.
pub(crate) fn quick_mean_of(kind: TypeId) -> Option<Duration> {
    pace_of(kind).map(|pace| pace.mean)
}

/// What is known of the pace of a kind of work known to be quick.
#[derive(Clone, Copy)]
pub(crate) struct Pace {
    /// The last quick call's time (a chunk's mean per element, for maps).
    pub(crate) mean: Duration,
    /// Strikes not yet forgiven: every quick call counts towards their forgiveness.
    struck: bool,
}

impl Pace {
    /// Whether a call that took `took` would teach the record nothing it needs: it is quick,
    /// no strike waits for forgiveness, and the mean it would set lies within a factor of two
    /// of the known one (the mean only sizes a caller's first chunk, see `fast`). Such a call
    /// need not take the record's lock.
    pub(crate) fn holds(self, took: Duration) -> bool {
        !self.struck && took < INLINE_LIMIT && took <= 2 * self.mean && 2 * took >= self.mean
    }
}

/// Bumped (under the record's lock) whenever what [`pace_of`] reports may have changed, so that
/// a thread can keep its last answer without taking the lock.
static GENERATION: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's last answer of [`pace_of`]: the generation it was read at, the kind, and
    /// the pace. One entry is enough for the repeated calls of one kind that it is for.
    static LAST_PACE: Cell<Option<(u64, TypeId, Option<Pace>)>> = const { Cell::new(None) };
}

/// The pace of the kind of work `kind`, when its calls run inline.
///
/// Every map asks, so a thread keeps its last answer for as long as the record is unchanged:
/// an atomic load instead of a lock that every thread shares.
pub(crate) fn pace_of(kind: TypeId) -> Option<Pace> {
    let generation = GENERATION.load(Ordering::Acquire);
    if let Some((seen, last, pace)) = LAST_PACE.get() {
        if seen == generation && last == kind {
            return pace;
        }
    }
    let kinds = lock(kinds());
    // Read under the lock, which every change holds while it bumps the generation.
    let generation = GENERATION.load(Ordering::Relaxed);
    let pace = kinds
        .get(&kind)
        .filter(|k| k.quick_seen && k.strikes < STRIKES)
        .map(|k| Pace {
            mean: k.mean,
            struck: k.strikes > 0,
        });
    drop(kinds);
    LAST_PACE.set(Some((generation, kind, pace)));
    pace
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
        quick_run: 0,
        mean: Duration::ZERO,
    });
    if quick {
        entry.quick_seen = true;
        entry.mean = took;
        entry.quick_run = entry.quick_run.saturating_add(1);
        // Slow for good stays slow: its calls are no longer inline, so no longer a risk.
        if entry.strikes > 0 && entry.strikes < STRIKES && entry.quick_run >= FORGIVEN_AFTER {
            entry.strikes -= 1;
            entry.quick_run = 0;
        }
    } else {
        entry.strikes = entry.strikes.saturating_add(1);
        entry.quick_run = 0;
    }
    GENERATION.fetch_add(1, Ordering::Release);
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

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Duration = Duration::from_micros(1);
    const SLOW: Duration = Duration::from_millis(1);

    #[test]
    fn a_pace_holds_only_for_quick_calls_near_its_mean_without_strikes() {
        let mean = Duration::from_nanos(400);
        let clean = Pace {
            mean,
            struck: false,
        };
        assert!(clean.holds(mean));
        assert!(clean.holds(Duration::from_nanos(200)));
        assert!(clean.holds(Duration::from_nanos(800)));
        // More than twice off either way: the mean is recorded.
        assert!(!clean.holds(Duration::from_nanos(199)));
        assert!(!clean.holds(Duration::from_nanos(801)));
        // A slow call is a strike, and a strike waits for quick calls to be forgiven.
        let slow_mean = Pace {
            mean: INLINE_LIMIT,
            struck: false,
        };
        assert!(!slow_mean.holds(INLINE_LIMIT));
        let struck = Pace { mean, struck: true };
        assert!(!struck.holds(mean));

        // What `pace_of` reports.
        struct Kind;
        let kind = TypeId::of::<Kind>();
        assert!(pace_of(kind).is_none(), "never seen");
        record::<Kind>(mean);
        assert!(pace_of(kind).is_some_and(|p| p.mean == mean && !p.struck));
        record::<Kind>(SLOW);
        assert!(pace_of(kind).is_some_and(|p| p.struck));
    }

    #[test]
    fn a_thread_sees_what_another_records_after_it_last_asked() {
        struct Shared;
        struct Other;
        let kind = TypeId::of::<Shared>();
        record::<Shared>(QUICK);
        // This thread's answer is kept, and asking of another kind does not confuse it.
        assert!(pace_of(kind).is_some_and(|p| p.mean == QUICK));
        assert!(pace_of(TypeId::of::<Other>()).is_none());
        assert!(pace_of(kind).is_some_and(|p| p.mean == QUICK));
        // Another thread records a new mean, then enough strikes to make the kind slow.
        std::thread::spawn(|| record::<Shared>(2 * QUICK))
            .join()
            .unwrap();
        assert!(pace_of(kind).is_some_and(|p| p.mean == 2 * QUICK && !p.struck));
        std::thread::spawn(|| {
            for _ in 0..STRIKES {
                record::<Shared>(SLOW);
            }
        })
        .join()
        .unwrap();
        assert!(pace_of(kind).is_none(), "slow for good");
    }

    #[test]
    fn strikes_are_forgiven_after_a_run_of_quick_calls_until_the_kind_is_slow() {
        struct Paused;
        record::<Paused>(QUICK);
        record::<Paused>(SLOW);
        record::<Paused>(SLOW);
        assert!(is_quick::<Paused>(), "two strikes");
        // A long run of quick calls, each time one descheduled: never slow.
        for _ in 0..50 {
            for _ in 0..FORGIVEN_AFTER {
                record::<Paused>(QUICK);
            }
            record::<Paused>(SLOW);
            assert!(is_quick::<Paused>());
        }
        // Strikes closer together than that add up: slow for good.
        for _ in 0..FORGIVEN_AFTER - 1 {
            record::<Paused>(QUICK);
        }
        record::<Paused>(SLOW);
        assert!(!is_quick::<Paused>());
        for _ in 0..10 * FORGIVEN_AFTER {
            record::<Paused>(QUICK);
        }
        assert!(!is_quick::<Paused>(), "slow for good");
    }
}
