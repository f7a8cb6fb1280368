//! The fast path: blocking work without a timeout, a backoff, a runtime-wide cap or an
//! observer, run in contiguous chunks on the compute pool.
//!
//! Pool threads claim chunks of consecutive indices, lowest first, under the concurrency window
//! (a claimed element holds a slot until its chunk ends, so at most `concurrency` elements are
//! ever claimed and unfinished). Each thread runs its chunk in order, retries an element at once
//! on its own thread (an element waiting to retry keeps its slot, as everywhere), takes each
//! input out of the input buffer and writes each output in place: over the input when their
//! layouts agree, without an `Option` when every element must succeed (see [`Buffers`]).
//! Nothing is sent, allocated or recorded per element on the way: a chunk records one line
//! (where it starts, how many elements it ran, their mean time), and only final failures take a
//! lock (failed attempts that are retried are kept by the thread until its chunk ends).
//!
//! A chunk starts at one element and doubles while its elements take under 5 µs on average, up
//! to [`MAX_CHUNK`] and to a share of what is left, so slow elements are taken one at a time
//! (none waits behind another while a thread is free) and quick ones cost two locks and a clock
//! read per few thousand elements. The caller of a map of work known to be quick (see `inline`)
//! runs chunks itself for up to 100 µs before it wakes the pool, and a small map, which its
//! first chunk holds whole, runs entirely on it ([`solo`]): no pool, no shared state, and no
//! lock when every element succeeds at once. Nobody else can stop such a map, so its loop
//! looks at the map only after a failure (`ElementOps::run_alone`).
//!
//! The first failure that leaves too few possible successes stops the map at once: no element
//! starts afterwards (each thread checks before every element), and the map's future returns
//! without waiting for the elements still running, whose results are discarded. The report
//! says what each element did: a chunk that ends after the stop is recorded as late (its
//! elements that ran as they ended, its last one as cancelled unless it failed, the rest as not
//! started); the elements of a chunk still running when the future returns are cancelled.
//!
//! A pool thread inside a slow element (a chunk of one, of work not shown quick) is
//! *abandoned* when the map stops, as the general engine abandons its slow attempts: the pool
//! replaces it within its bound, and the thread goes back to the pool when the element
//! returns. Cancelling the map, or dropping its future, stops it the same way.
//!
//! Nothing here is generic: the scheduling ([`Core`]) and the buffers ([`Buffers`]) are
//! compiled once, and each map brings only its element loop and the functions that drop and
//! free its values (its `ElementOps`, see `typed`).

use std::any::TypeId;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::task::AtomicWaker;
use maptask_core::TaskError;
use tracing::Instrument;

use super::inbox::lock;
use super::inline;
use super::typed::{ElementOps, RawVec};
use crate::events::MapStatus;
use crate::panics;
use crate::pool::{PoolHandle, PoolJob};
use crate::report::{ElementErrors, ElementReport, ElementReports, ElementStatus};

/// The most elements one chunk holds.
const MAX_CHUNK: usize = 4096;
/// Elements quicker than this on average are taken in growing chunks.
const QUICK: Duration = Duration::from_micros(5);
/// How long a thread drains one map before it lets other jobs of the pool have its thread.
const QUANTUM: Duration = Duration::from_millis(2);
/// How long the caller of a map of work known to be quick runs its elements before it hands the
/// rest to the pool.
const INLINE_BUDGET: Duration = Duration::from_micros(100);

/// One chunk's record: elements `start..start + ran` ran (of `len` claimed), `each` long on
/// average; the others never started.
#[derive(Clone, Copy)]
struct ChunkLine {
    start: usize,
    len: usize,
    ran: usize,
    each: Duration,
    /// The chunk ended after the map stopped: its thread dropped its outputs (see
    /// [`RunChunk::discard`]), and its last element may have been running at the stop.
    late: bool,
}

/// An element whose report is not "succeeded at its first attempt".
#[derive(Clone, Copy)]
struct Exception {
    index: usize,
    attempts: u32,
    status: ElementStatus,
}

/// What the map records, kept in [`Claims`] under its lock (taken once per chunk, and once per
/// final failure).
///
/// Exceptions and errors come in segments, as each thread hands them in: a segment holds
/// elements of one chunk in index order (a chunk runs its elements in order), and chunks are
/// disjoint, so ordering the segments by their first index orders everything, without moving
/// or sorting each entry (for a map with many failures, that sort cost more than the map).
#[derive(Default)]
struct Record {
    /// Set when the map stopped (or, once every element ran, ended): later chunks are
    /// recorded as late (see [`ChunkLine::late`]).
    verdict: Option<MapStatus>,
    chunks: Vec<ChunkLine>,
    exceptions: Vec<Vec<Exception>>,
    errors: Vec<Vec<ElementErrors>>,
    failed: usize,
}

/// The map's shared state, under one lock: a chunk's end and the next claim take it once.
struct Claims {
    /// The lowest index not claimed yet.
    next: usize,
    /// Claimed elements whose chunk has not ended.
    active: usize,
    /// Copies of the job queued or running.
    drainers: usize,
    /// Pool drainers inside a chunk of one element of work not known to be quick: stopping the
    /// map abandons them (see [`Core::stop_locked`]).
    slow: usize,
    /// When the last recorded chunk ended: the end of a map that ran to its end (one clock
    /// read less per call, which a quick map notices).
    last_end: Option<Instant>,
    record: Record,
}

/// What a claim gave.
enum Claimed {
    Chunk(Range<usize>),
    /// Nothing to claim: the drainer retired (`last`: no drainer is left).
    Retired {
        last: bool,
    },
}

/// The map's scheduling state, shared by the pool threads and the map's future.
pub(crate) struct Core {
    pub(crate) n: usize,
    cap: usize,
    pub(crate) min_successes: usize,
    pub(crate) retries: u32,
    threads: usize,
    pub(crate) name: String,
    span: tracing::Span,
    /// The kind of work (its type), for `inline`'s record of quick work.
    kind: TypeId,
    /// Whether that kind is known to be quick: then its pool drainers start with chunks that
    /// stopping the map does not abandon.
    known_quick: bool,
    /// The pool, told about the threads that a stopped map abandons.
    pool: Option<PoolHandle>,
    claims: Mutex<Claims>,
    /// Start nothing more: the map failed early, was cancelled, or its future was dropped.
    closed: AtomicBool,
    /// Every drainer retired: nothing runs, everything claimed was written.
    done: AtomicBool,
    waker: AtomicWaker,
}

/// What a chunk's elements did, for the record: kept by the thread and handed in when the
/// chunk ends (or at the first final failure), so that retried attempts take no lock.
#[derive(Default)]
pub(crate) struct ChunkEnd {
    /// Elements run (started), from the chunk's start.
    pub(crate) ran: usize,
    /// Leading elements of the chunk whose place in the output buffer holds a value.
    pub(crate) written: usize,
    /// Errors grouped by element as they come (an element's attempts run in a row on one
    /// thread), so that the map's end only concatenates the segments.
    errors: Vec<ElementErrors>,
    exceptions: Vec<Exception>,
    /// The chunk is counted in `Claims::slow`.
    tracked: bool,
}

/// Adds an error of element `index` to errors grouped by element, given in index order (and
/// attempt order per index): after the element's earlier errors, or as a new group.
pub(crate) fn add_error(grouped: &mut Vec<ElementErrors>, index: usize, error: TaskError) {
    match grouped.last_mut() {
        Some(last) if last.index == index => last.errors.push(error),
        _ => grouped.push(ElementErrors {
            index,
            errors: vec![error],
        }),
    }
}

impl ChunkEnd {
    /// Moves what was kept into the record, as a segment each: what an element did is
    /// reported even when the map stopped after it. At a chunk's end (`ended`), room is made
    /// for as many entries as this chunk had, since the next one likely fails as often;
    /// mid-chunk (a final failure), none is made until needed.
    fn hand_in(&mut self, record: &mut Record, ended: bool) {
        if !self.errors.is_empty() {
            let room = Vec::with_capacity(if ended { self.errors.len() } else { 0 });
            record
                .errors
                .push(std::mem::replace(&mut self.errors, room));
        }
        if !self.exceptions.is_empty() {
            let room = Vec::with_capacity(if ended { self.exceptions.len() } else { 0 });
            record
                .exceptions
                .push(std::mem::replace(&mut self.exceptions, room));
        }
    }
}

impl Core {
    #[inline]
    pub(crate) fn new(
        n: usize,
        cap: usize,
        min_successes: usize,
        retries: u32,
        name: String,
        span: tracing::Span,
        kind: TypeId,
    ) -> Core {
        Core {
            kind,
            known_quick: false,
            pool: None,
            n,
            cap: cap.clamp(1, n.max(1)),
            min_successes,
            retries,
            // Set by `run`, from the pool.
            threads: 1,
            name,
            span,
            claims: Mutex::new(Claims {
                next: 0,
                active: 0,
                drainers: 0,
                slow: 0,
                last_end: None,
                record: Record::default(),
            }),
            closed: AtomicBool::new(false),
            done: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    /// The claims of a map nobody shares yet.
    fn claims_mut(&mut self) -> &mut Claims {
        self.claims
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// The span of one attempt, when a subscriber wants element spans.
    pub(crate) fn element_span(&self, index: usize, attempt: u32) -> tracing::Span {
        tracing::debug_span!(parent: &self.span, "element", map = %self.name, index, attempt)
    }

    /// How many copies of the job to start with.
    pub(crate) fn start(&self) -> usize {
        let mut claims = lock(&self.claims);
        let wanted = self.threads.min(self.cap).min(self.n);
        claims.drainers += wanted;
        wanted
    }

    /// The map's caller joins in as a drainer (see [`Core::drain_inline`]).
    fn join_caller(&self) {
        lock(&self.claims).drainers += 1;
    }

    /// The caller stops draining. Returns how many pool copies must start to run what is left.
    fn retire_caller(&self) -> usize {
        let mut claims = lock(&self.claims);
        claims.drainers -= 1;
        let startable = if self.is_closed() {
            0
        } else {
            (self.cap - claims.active).min(self.n - claims.next)
        };
        let missing = self.threads.min(startable).saturating_sub(claims.drainers);
        claims.drainers += missing;
        if claims.drainers == 0 {
            drop(claims);
            self.done.store(true, Ordering::Release);
            self.waker.wake();
        }
        missing
    }

    /// Stops the map with `status`, unless it has stopped already.
    pub(crate) fn stop(&self, status: MapStatus) {
        self.stop_locked(&mut lock(&self.claims), status);
    }

    /// Stops the map with `status`, unless it has stopped already, and abandons the pool
    /// threads inside a slow element, whose result nobody waits for now. Like the general
    /// engine's (see `blocking`), their threads stop counting as the pool's, which replaces
    /// them; each calls `unstuck` when its element returns (see [`Core::chunk_ended`]).
    ///
    /// The pool hears of them before the map's future is woken, under the map's lock (the
    /// pool's lock is never held while a map's is taken): whoever sees the map end sees the
    /// pool's replacements.
    fn stop_locked(&self, claims: &mut Claims, status: MapStatus) {
        if claims.record.verdict.is_some() {
            return;
        }
        claims.record.verdict = Some(status);
        self.closed.store(true, Ordering::Release);
        let abandoned = std::mem::take(&mut claims.slow);
        if let Some(pool) = &self.pool {
            for _ in 0..abandoned {
                pool.abandon();
            }
        }
        self.waker.wake();
    }

    /// An attempt failed. Returns false when the map has stopped (the element then counts as
    /// cancelled and must not retry). A failure that another attempt follows is kept in
    /// `local` until the chunk ends; a final one is recorded at once, since it may decide the
    /// map.
    #[cold]
    pub(crate) fn attempt_failed(
        &self,
        local: &mut ChunkEnd,
        index: usize,
        attempt: u32,
        error: TaskError,
        will_retry: bool,
    ) -> bool {
        if will_retry {
            if self.is_closed() {
                return false;
            }
            add_error(&mut local.errors, index, error);
            return true;
        }
        let mut claims = lock(&self.claims);
        if claims.record.verdict.is_some() {
            return false;
        }
        let record = &mut claims.record;
        // After this element's earlier attempts (and the elements before it in the chunk):
        // errors stay in attempt order, segments in index order.
        add_error(&mut local.errors, index, error);
        local.exceptions.push(Exception {
            index,
            attempts: attempt,
            status: ElementStatus::Failed,
        });
        local.hand_in(record, false);
        record.failed += 1;
        if self.n - record.failed < self.min_successes {
            // This thread is done with its element: it is not one to abandon.
            if local.tracked {
                local.tracked = false;
                claims.slow -= 1;
            }
            self.stop_locked(&mut claims, MapStatus::Failed);
        }
        true
    }

    /// An element succeeded after `attempts` attempts (more than one).
    #[cold]
    pub(crate) fn retried_ok(&self, local: &mut ChunkEnd, index: usize, attempts: u32) {
        local.exceptions.push(Exception {
            index,
            attempts,
            status: ElementStatus::Succeeded,
        });
    }

    /// Claims the next chunk of at most `want` elements, or retires this drainer. A chunk of
    /// one element is counted in `Claims::slow` when `track`.
    fn claim(&self, want: usize, alone: bool, track: bool) -> Option<Range<usize>> {
        let mut claims = lock(&self.claims);
        let claimed = self.claim_locked(&mut claims, want, alone, track);
        drop(claims);
        self.claimed(claimed)
    }

    /// What a claim gave: the chunk, or `None` when this drainer retired (the last one marks
    /// the map done and wakes its future, outside the lock).
    fn claimed(&self, claimed: Claimed) -> Option<Range<usize>> {
        match claimed {
            Claimed::Chunk(range) => Some(range),
            Claimed::Retired { last } => {
                if last {
                    self.done.store(true, Ordering::Release);
                    self.waker.wake();
                }
                None
            }
        }
    }

    fn claim_locked(&self, claims: &mut Claims, want: usize, alone: bool, track: bool) -> Claimed {
        let left = self.n - claims.next;
        let free = self.cap - claims.active;
        if left == 0 || free == 0 || self.is_closed() {
            claims.drainers -= 1;
            return Claimed::Retired {
                last: claims.drainers == 0,
            };
        }
        // Leave work for the other threads: a share of what is left, and of the window.
        // (The caller, before the pool joins in, is alone.)
        let share = if alone {
            left
        } else {
            (left / (2 * self.threads)).max(1)
        };
        let window = if alone {
            self.cap
        } else {
            (self.cap / self.threads).max(1)
        };
        let k = want.min(share).min(window).min(free).min(left).max(1);
        let start = claims.next;
        claims.next += k;
        claims.active += k;
        if track && k == 1 {
            claims.slow += 1;
        }
        Claimed::Chunk(start..start + k)
    }

    /// A chunk ended: frees its slots and records it, and claims the next chunk (`next`: at
    /// most `want` elements, `alone`) unless more drainers are wanted, all under one lock.
    ///
    /// Returns how many more drainers can start (none asked for without `company`: the caller
    /// asks when it retires), whether the chunk was recorded (a chunk that ends after the map
    /// stopped is not, and its thread drops its outputs itself, see [`RunChunk::discard`]), and
    /// the next claim's result when one was made (`Some(None)`: this drainer retired).
    fn chunk_ended(
        &self,
        range: Range<usize>,
        local: &mut ChunkEnd,
        (took, now): (Duration, Instant),
        company: bool,
        next: Option<(usize, bool, bool)>,
    ) -> (usize, bool, Option<Option<Range<usize>>>) {
        let len = range.len();
        let ran = local.ran;
        let mut claims = lock(&self.claims);
        // A tracked chunk that outlived the map's stop was abandoned: its thread went back to
        // the pool's count of stuck ones, and now returns.
        let mut unstuck = false;
        if std::mem::take(&mut local.tracked) {
            if claims.record.verdict.is_some() {
                unstuck = true;
            } else {
                claims.slow -= 1;
            }
        }
        if claims.record.verdict.is_none() {
            // Threads hand in their chunks in any order: the latest end wins.
            claims.last_end = Some(claims.last_end.map_or(now, |end| end.max(now)));
        }
        let record = &mut claims.record;
        local.hand_in(record, true);
        let recorded = record.verdict.is_none();
        let each = took / u32::try_from(ran.max(1)).unwrap_or(u32::MAX);
        record.chunks.push(ChunkLine {
            start: range.start,
            len,
            ran,
            each,
            late: !recorded,
        });
        claims.active -= len;
        let mut missing = 0;
        if !self.is_closed() && company {
            let startable = (self.cap - claims.active).min(self.n - claims.next);
            let wanted = self.threads.min(startable);
            missing = wanted.saturating_sub(claims.drainers);
            claims.drainers += missing;
        }
        // A drainer that asks for company goes back to the pool's queue instead (see
        // `drain_for`); one whose chunk was not recorded first drops its outputs, outside the
        // lock, and then retires.
        let claimed = match next {
            Some((want, alone, track)) if missing == 0 && recorded => {
                Some(self.claim_locked(&mut claims, want, alone, track))
            }
            _ => None,
        };
        drop(claims);
        if unstuck {
            if let Some(pool) = &self.pool {
                pool.unstuck();
            }
        }
        (missing, recorded, claimed.map(|c| self.claimed(c)))
    }

    /// One turn of a pool thread: claims and runs chunks for a while. Returns the copies of the
    /// job to queue again (see [`PoolJob::run`]).
    pub(crate) fn drain(&self, elements: &dyn RunChunk) -> usize {
        self.drain_for(elements, QUANTUM, 1, None).unwrap_or(0)
    }

    /// The map's caller runs chunks itself for up to `budget`, before any pool thread is woken:
    /// a quick map ends without a thread hand-off. Returns the pool copies to start for what is
    /// left. Only for work known to be quick (see `inline`), so that the caller, an async
    /// worker, is never held much longer than `budget`.
    pub(crate) fn drain_inline(
        &self,
        elements: &dyn RunChunk,
        budget: Duration,
        mean: Duration,
        started_at: Instant,
    ) -> usize {
        self.join_caller();
        let first = first_chunk(budget, mean);
        if self
            .drain_for(elements, budget, first, Some(started_at))
            .is_none()
        {
            // Retired through `claim`: nothing was left to start.
            return 0;
        }
        self.retire_caller()
    }

    /// Claims and runs chunks until nothing is left (`None`, retired) or `limit` has passed
    /// (the copies to queue again). The map's caller (`called_at`: when the map started) asks
    /// for no company while it drains: it asks for the pool's copies when it retires.
    fn drain_for(
        &self,
        elements: &dyn RunChunk,
        limit: Duration,
        first: usize,
        called_at: Option<Instant>,
    ) -> Option<usize> {
        let caller = called_at.is_some();
        let mut began = None;
        // When the last chunk ended; for the caller, its first chunk starts with the map (the
        // few hundred nanoseconds of setup go into that chunk's mean, not a clock read).
        let mut ended: Option<Instant> = called_at;
        let mut want = first;
        let mut local = ChunkEnd::default();
        // The turn's elements and time, recorded once for `inline` (a global lock that every
        // chunk of every map would otherwise take).
        let mut turn = (0usize, Duration::ZERO);
        let record_turn = |(ran, took): (usize, Duration)| {
            if ran > 0 {
                inline::record_kind(self.kind, took / u32::try_from(ran).unwrap_or(u32::MAX));
            }
        };
        // The caller drains before any pool thread is asked to: it is alone.
        let alone = caller;
        // A pool thread's chunk of one element may be slow: until this turn's chunks show the
        // work quick (or it is known to be), such a chunk is counted, so that stopping the map
        // abandons it and the pool replaces its thread. The caller is no pool thread.
        let mut track = !caller && !self.known_quick;
        let Some(mut range) = self.claim(want, alone, track) else {
            record_turn(turn);
            return None;
        };
        loop {
            local.tracked = track && range.len() == 1;
            // No element span when no subscriber can take a DEBUG span (checked per chunk).
            let traced = super::blocking::debug_spans_enabled();
            // A clock read costs as much as dozens of quick elements: a chunk of several starts
            // when the last one ended (their mean then includes this thread's bookkeeping in
            // between, a lock or two); a chunk of one, whose time is reported exactly, reads
            // the clock.
            let started = match ended {
                Some(ended) if range.len() > 1 => ended,
                _ => Instant::now(),
            };
            let began = *began.get_or_insert(started);
            {
                // Element panics skip the panic hook (see `panics`).
                let _quiet = panics::InElement::enter();
                elements.run_chunk(self, range.clone(), traced, &mut local);
            }
            let ran = local.ran;
            let now = Instant::now();
            ended = Some(now);
            let took = now.saturating_duration_since(started);
            let quick = ran > 0 && took < QUICK * u32::try_from(ran).unwrap_or(u32::MAX);
            want = if quick { (want * 2).min(MAX_CHUNK) } else { 1 };
            track = !caller && !quick;
            turn = (turn.0 + ran, turn.1 + took);
            let written = range.start..range.start + local.written;
            // The next chunk is claimed with this one's end, while the turn lasts.
            let next =
                (now.saturating_duration_since(began) < limit).then_some((want, alone, track));
            let (extra, recorded, claimed) =
                self.chunk_ended(range, &mut local, (took, now), !alone, next);
            if !recorded {
                elements.discard(written);
                // The map stopped: this claim retires the drainer.
                if let Some(claimed) = self.claim(want, alone, track) {
                    range = claimed;
                    continue;
                }
                record_turn(turn);
                return None;
            }
            match claimed {
                Some(Some(claimed)) => range = claimed,
                Some(None) => {
                    // Retired: nothing left to claim.
                    record_turn(turn);
                    return None;
                }
                None => {
                    record_turn(turn);
                    return Some(if caller {
                        // The caller's budget is spent; it retires (see `drain_inline`).
                        0
                    } else {
                        // Come back at the end of the pool's queue, with company if more can
                        // start.
                        1 + extra
                    });
                }
            }
        }
    }

    /// Polls for the end of the map: its verdict once it stopped, or `Succeeded` once every
    /// element ran and enough succeeded (`Failed` otherwise, which the failure that decided it
    /// has set already).
    pub(crate) fn poll_end(&self, cx: &mut Context<'_>) -> Poll<MapStatus> {
        self.waker.register(cx.waker());
        if let Some(verdict) = lock(&self.claims).record.verdict {
            return Poll::Ready(verdict);
        }
        if self.done.load(Ordering::Acquire) {
            let mut claims = lock(&self.claims);
            let status = claims.record.verdict.unwrap_or(MapStatus::Succeeded);
            claims.record.verdict = Some(status);
            return Poll::Ready(status);
        }
        Poll::Pending
    }

    /// The report's parts once the map ended: per element reports, errors by element in
    /// attempt order, and whether every claimed element's output was written (the map ran to
    /// its end).
    /// `keep_lines` keeps the chunk lines in the record, for a buffer that still needs them
    /// to drop its outputs (see [`Buffers`]'s `Drop`).
    pub(crate) fn outcome(
        &self,
        keep_lines: bool,
    ) -> (ElementReports, Vec<ElementErrors>, Option<Instant>) {
        let (mut chunks, exceptions, errors, claimed, last_end) = {
            let mut claims = lock(&self.claims);
            let last_end = claims.last_end;
            let claimed = claims.next.min(self.n);
            let record = &mut claims.record;
            (
                if keep_lines {
                    record.chunks.clone()
                } else {
                    std::mem::take(&mut record.chunks)
                },
                std::mem::take(&mut record.exceptions),
                std::mem::take(&mut record.errors),
                claimed,
                last_end,
            )
        };
        chunks.sort_unstable_by_key(|c| c.start);
        // Segments are never empty (see `ChunkEnd::hand_in`).
        let mut exceptions = exceptions;
        exceptions.sort_unstable_by_key(|segment| segment.first().map_or(0, |e| e.index));
        let mut errors = errors;
        errors.sort_unstable_by_key(|segment| segment.first().map_or(0, |e| e.index));
        // Sized once: at most two runs per exception and four per chunk line, plus the two
        // after the lines.
        let runs = 2 * exceptions.iter().map(Vec::len).sum::<usize>() + 4 * chunks.len() + 2;
        // One list (moved, not copied, when there is one segment or none).
        let exceptions = if exceptions.len() <= 1 {
            exceptions.into_iter().next().unwrap_or_default()
        } else {
            exceptions.concat()
        };
        let mut builder = Runs {
            reports: ElementReports::with_capacity(runs),
            exceptions,
            at: 0,
        };
        // Claimed elements outside every chunk line were running (or about to) when the map
        // stopped: cancelled, like the elements the map was running.
        let running = ElementReport {
            status: ElementStatus::Cancelled,
            attempts: 1,
            duration: Duration::ZERO,
        };
        let not_started = ElementReport {
            status: ElementStatus::NotStarted,
            attempts: 0,
            duration: Duration::ZERO,
        };
        let mut at = 0;
        for chunk in chunks {
            builder.fill(at..chunk.start, running, Duration::ZERO);
            let ok = ElementReport {
                status: ElementStatus::Succeeded,
                attempts: 1,
                duration: chunk.each,
            };
            let ran_end = chunk.start + chunk.ran;
            // A late chunk's last element may have been running when the map stopped (unless
            // an exception says what it did: the failure that stopped the map, say).
            let finished_end = if chunk.late {
                ran_end.saturating_sub(1).max(chunk.start)
            } else {
                ran_end
            };
            builder.fill(chunk.start..finished_end, ok, chunk.each);
            builder.fill(finished_end..ran_end, running, chunk.each);
            builder.fill(
                ran_end..chunk.start + chunk.len,
                not_started,
                Duration::ZERO,
            );
            at = chunk.start + chunk.len;
        }
        builder.fill(at..claimed.max(at), running, Duration::ZERO);
        builder.fill(claimed.max(at)..self.n, not_started, Duration::ZERO);
        // One list (moved, not copied, when there is one segment or none). An element's
        // errors are never split between segments: a segment is handed in after an element's
        // last error, or at its chunk's end.
        let errors = if errors.len() <= 1 {
            errors.into_iter().next().unwrap_or_default()
        } else {
            let mut all = Vec::with_capacity(errors.iter().map(Vec::len).sum());
            for segment in errors {
                all.extend(segment);
            }
            all
        };
        (builder.reports, errors, last_end)
    }
}

/// The caller's first chunk: as many elements as the known mean time per element fits in a
/// quarter of its `budget`.
fn first_chunk(budget: Duration, mean: Duration) -> usize {
    let per = mean.as_nanos().max(1);
    usize::try_from(budget.as_nanos() / 4 / per)
        .unwrap_or(MAX_CHUNK)
        .clamp(1, MAX_CHUNK)
}

/// Builds element reports run by run, with the exceptions laid over them.
struct Runs {
    reports: ElementReports,
    /// By index.
    exceptions: Vec<Exception>,
    /// The first exception not laid yet.
    at: usize,
}

impl Runs {
    /// Reports `range` as `base`, except the exceptions in it, whose attempts each took `each`.
    fn fill(&mut self, range: Range<usize>, base: ElementReport, each: Duration) {
        let mut i = range.start;
        while let Some(&e) = self.exceptions.get(self.at).filter(|e| e.index < range.end) {
            self.at += 1;
            if e.index < i {
                continue;
            }
            self.reports.push_run(e.index - i, base);
            self.reports.push_run(
                1,
                ElementReport {
                    status: e.status,
                    attempts: e.attempts,
                    duration: each * e.attempts,
                },
            );
            i = e.index + 1;
        }
        self.reports.push_run(range.end.saturating_sub(i), base);
    }
}

/// The typed part of a fast map: runs one chunk of elements.
pub(crate) trait RunChunk: Send + Sync {
    /// Runs the elements of `range` in order, stopping before an element once the map is
    /// closed; sets `local.ran` and `local.written`, and keeps retried failures in `local`.
    fn run_chunk(&self, core: &Core, range: Range<usize>, traced: bool, local: &mut ChunkEnd);

    /// Drops the outputs that a chunk which ended after the map stopped wrote at `range`:
    /// nobody takes them then. Only the thread that ran the chunk calls it.
    fn discard(&self, range: Range<usize>);
}

/// How a map keeps its outputs: what each element's place in the output buffer holds.
pub(crate) trait Form<O>: Send + Sync + 'static {
    /// One element's place.
    type Slot: Send;
    /// The place of an element that produced `output`.
    fn ok(output: O) -> Self::Slot;
    /// What the place of an element without an output holds, if anything.
    fn gap() -> Option<Self::Slot>;
}

/// `Option<O>` per element, `None` where an element failed or never ran: the outputs of
/// [`Runtime::run_map`](crate::Runtime::run_map).
pub(crate) struct Optional;

impl<O: Send> Form<O> for Optional {
    type Slot = Option<O>;

    #[inline]
    fn ok(output: O) -> Option<O> {
        Some(output)
    }

    #[inline]
    fn gap() -> Option<Option<O>> {
        Some(None)
    }
}

/// The outputs themselves, for a map whose every element must succeed (`min_successes == n`,
/// see [`Runtime::run_map_all`](crate::Runtime::run_map_all)). An element without an output
/// stops such a map, whose outputs are then never handed over; so no place ever needs a
/// `None`, and the buffer is handed over as it lies, a `Vec<O>`, without a pass over it.
pub(crate) struct Whole;

impl<O: Send> Form<O> for Whole {
    type Slot = O;

    #[inline]
    fn ok(output: O) -> O {
        output
    }

    #[inline]
    fn gap() -> Option<O> {
        None
    }
}

/// The buffers of a fast map: inputs moved out and outputs written in place, index by index.
///
/// The outputs are written over the inputs, in the inputs' own allocation, when an output's
/// place has the size and alignment of an input (an `i64` mapped to an `i64` by a map whose
/// every element must succeed): element `i`'s input is moved out before its output is written
/// at the same address. Such a map allocates nothing for its outputs, and touches no fresh
/// page: for a quick map, the page faults of a new output buffer cost more than the elements
/// (about 1 µs per 4 KiB page here, so 2 ns per 8-byte output). Otherwise the outputs get a
/// buffer of their own.
///
/// Which places hold what: each index below `claimed` (`Core::claims.next`) holds an output or
/// nothing, each index above it still holds its input. With [`Optional`] every claimed place
/// holds a value (`None` for a failure or an element that never ran). With [`Whole`], the
/// places of the chunks recorded in `Claims::record` before the map stopped (not
/// [`late`](ChunkLine::late)) hold outputs and no other does: a chunk that ends after the map
/// stopped drops its outputs itself (see [`RunChunk::discard`]), and every element of a chunk
/// recorded in time succeeded (a failure in it would have stopped the map first).
///
/// The buffers are untyped: the map's [`ElementOps`] runs, drops and frees what they hold.
pub(crate) struct Buffers {
    pub(crate) core: Core,
    ops: Box<dyn ElementOps>,
    /// The inputs' allocation: its start and capacity (its values are tracked as above).
    inputs: *mut u8,
    input_capacity: usize,
    /// The outputs' places: over the inputs (`output_capacity` is `None`), or an allocation of
    /// their own.
    outputs: *mut u8,
    output_capacity: Option<usize>,
    /// Whether the outputs were handed over (then only the inputs are left to free).
    taken: AtomicBool,
}

// SAFETY: each index of the buffers is used by one thread at a time: the pool thread that
// claimed it (under `Core::claims`), or the map's future after every drainer retired (`done`,
// read with `Acquire` after the drainers' `Release`). Values cross threads (`Work`'s inputs
// and outputs are `Send`), and `ops` is `Send + Sync`.
unsafe impl Sync for Buffers {}
unsafe impl Send for Buffers {}

impl Buffers {
    /// The buffers of `inputs`, with the core that `core` makes (where it stays: it is a few
    /// hundred bytes, which a small map would notice being copied).
    #[inline]
    pub(crate) fn new(
        core: impl FnOnce() -> Core,
        ops: Box<dyn ElementOps>,
        inputs: RawVec,
    ) -> Buffers {
        // The same layout per element, so the allocation is freed the same way whichever type
        // it holds (zero-sized values have no allocation to share).
        let (outputs, output_capacity) = if ops.slots_over_inputs() {
            (inputs.ptr, None)
        } else {
            let own = ops.alloc_slots(inputs.len);
            (own.ptr, Some(own.cap))
        };
        let buffers = Buffers {
            core: core(),
            ops,
            inputs: inputs.ptr,
            input_capacity: inputs.cap,
            outputs,
            output_capacity,
            taken: AtomicBool::new(false),
        };
        debug_assert!(
            buffers.ops.has_gaps() || buffers.core.min_successes == buffers.core.n,
            "outputs without gaps need every element to succeed"
        );
        buffers
    }

    /// The outputs, when every element ran (`done`, never stopped): `n` slots of the map's
    /// form.
    pub(crate) fn take_outputs(&self) -> Option<RawVec> {
        if !self.core.done.load(Ordering::Acquire) || self.taken.load(Ordering::Acquire) {
            return None;
        }
        let n = self.core.n;
        let mut claims = lock(&self.core.claims);
        // Unclaimed places (none, unless the map stopped) need a gap, which `Whole` lacks.
        let complete = claims.next == n;
        if !complete && !self.ops.has_gaps() {
            return None;
        }
        // SAFETY: every drainer retired, so every claimed place holds its output and nobody
        // runs; unclaimed ones get a gap, input dropped first since the two may share the
        // place.
        unsafe {
            if !complete {
                for i in claims.next..n {
                    self.ops.drop_inputs(self.inputs, i..i + 1);
                    self.ops.write_gaps(self.outputs, i..i + 1);
                }
                claims.next = n;
            }
        }
        self.taken.store(true, Ordering::Release);
        Some(RawVec {
            ptr: self.outputs,
            len: n,
            cap: self.output_capacity.unwrap_or(self.input_capacity),
        })
    }
}

impl RunChunk for Buffers {
    fn run_chunk(&self, core: &Core, range: Range<usize>, traced: bool, local: &mut ChunkEnd) {
        // SAFETY: the drainer claimed `range` (see `Buffers` for what each place holds).
        unsafe {
            self.ops
                .run_chunk(core, self.inputs, self.outputs, range, traced, local);
        }
    }

    fn discard(&self, range: Range<usize>) {
        // With gaps, every claimed place holds a value and `Drop` drops them all.
        if !self.ops.has_gaps() {
            // SAFETY: the caller ran the chunk and wrote these outputs; nobody takes them.
            unsafe { self.ops.drop_slots(self.outputs, range) };
        }
    }
}

impl PoolJob for Buffers {
    fn run(&self) -> usize {
        self.core.drain(self)
    }
}

impl Drop for Buffers {
    fn drop(&mut self) {
        // Nobody else holds the buffers now (see `Buffers` for what each place holds).
        let n = self.core.n;
        let claims = self.core.claims_mut();
        let claimed = claims.next;
        let taken = *self.taken.get_mut();
        let ops = &self.ops;
        // SAFETY: see above.
        unsafe {
            ops.drop_inputs(self.inputs, claimed..n);
            if !taken {
                if ops.has_gaps() {
                    ops.drop_slots(self.outputs, 0..claimed);
                } else {
                    for line in claims.record.chunks.iter().filter(|line| !line.late) {
                        ops.drop_slots(self.outputs, line.start..line.start + line.ran);
                    }
                }
            }
            // Free the allocations (their values were dropped above or handed over).
            if let Some(capacity) = self.output_capacity {
                if !taken {
                    ops.free_slots(self.outputs, capacity);
                }
                ops.free_inputs(self.inputs, self.input_capacity);
            } else if !taken {
                ops.free_inputs(self.inputs, self.input_capacity);
            }
        }
    }
}

/// Stops the map when its future is dropped, so that nothing more starts.
struct StopOnDrop<'a>(&'a Core);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop(MapStatus::Cancelled);
    }
}

/// A map's outcome: its outputs (`n` slots of the map's form) or its error, and its report.
pub(crate) type Outcome = (
    Result<RawVec, maptask_core::MapError>,
    crate::report::MapReport,
);

/// What starting a map on the fast path gave.
// `Done` is the outcome itself: boxing it would cost the allocation that a small map avoids.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Started<F> {
    /// The map ran whole on its caller (see [`solo`]).
    Done(Outcome),
    /// The map runs; the future waits for its end.
    Running(F),
}

/// Runs a map on the fast path (see the module's documentation): its `inputs` and the
/// operations of their types, and its `core` (made on the way), inside the map's `span`
/// (entered by the caller).
///
/// The map starts when this is called (the caller's elements run inline now, when the work is
/// known to be quick: a small map ends here). The future of a map that runs on holds only the
/// shared buffers; call this only where that future is awaited at once.
///
/// The future comes back boxed, in the type every layer above returns as it is: a small map's
/// outcome is then written once, where the caller keeps it, not copied at each layer.
pub(crate) fn run(
    runtime: &crate::runtime::RuntimeInner,
    core: impl FnOnce() -> Core,
    ops: Box<dyn ElementOps>,
    inputs: RawVec,
    cancel: Option<tokio_util::sync::CancellationToken>,
    started_at: Instant,
    span: &tracing::Span,
) -> Started<BoxFuture<'static, Outcome>> {
    let pace = inline::pace_of(ops.kind());
    let quick = pace.map(|pace| pace.mean);
    let mut buffers = Buffers::new(core, ops, inputs);
    buffers.core.known_quick = pace.is_some();
    // A map cancelled before it starts goes the long way, which sees the cancellation.
    let cancelled = cancel.as_ref().is_some_and(|c| c.is_cancelled());
    if let Some(pace) =
        pace.filter(|pace| !cancelled && buffers.core.n <= first_chunk(INLINE_BUDGET, pace.mean))
    {
        return Started::Done(solo(&mut buffers, pace, started_at));
    }
    // The pool (its handle costs two atomic operations, which a small map notices).
    let pool = runtime.pool();
    buffers.core.threads = pool.size();
    buffers.core.pool = Some(pool.handle());
    let buffers = Arc::new(buffers);
    let job: Arc<dyn PoolJob> = buffers.clone();
    let copies = if let Some(mean) = quick {
        // Work known to be quick: the caller starts, and the pool joins only for what is left
        // after the budget.
        buffers
            .core
            .drain_inline(&*buffers, INLINE_BUDGET, mean, started_at)
    } else {
        buffers.core.start()
    };
    if copies > 0 {
        pool.submit(&job, copies);
    }
    drop(job);
    Started::Running(Box::pin(
        finish(buffers, cancel, started_at).instrument(span.clone()),
    ))
}

/// Runs a whole map of work known to be quick on its caller, as one chunk, when the chunk
/// that the caller would run first (see [`Core::drain_inline`]) holds every element: the
/// same chunk, recorded the same way, without waking the pool, sharing the buffers or taking
/// a lock when every element succeeds at once, so that a small map costs little more than
/// its elements.
fn solo(buffers: &mut Buffers, pace: inline::Pace, started_at: Instant) -> Outcome {
    let n = buffers.core.n;
    {
        // The caller claims every element, as `drain_for` would for its first chunk.
        let claims = buffers.core.claims_mut();
        claims.drainers = 1;
        claims.next = n;
        claims.active = n;
    }
    let mut local = ChunkEnd::default();
    let traced = super::blocking::debug_spans_enabled();
    {
        let _quiet = panics::InElement::enter();
        // SAFETY: the caller claimed every element above, and nobody else holds the buffers.
        unsafe {
            buffers.ops.run_alone(
                &buffers.core,
                buffers.inputs,
                buffers.outputs,
                0..n,
                traced,
                &mut local,
            );
        }
    }
    let now = Instant::now();
    // The chunk starts with the map, as the caller's first chunk does.
    let took = now.saturating_duration_since(started_at);
    let ran = local.ran;
    let each = took / u32::try_from(ran.max(1)).unwrap_or(u32::MAX);
    let core = &mut buffers.core;
    if ran > 0 && !pace.holds(each) {
        inline::record_kind(core.kind, each);
    }
    let claims = core.claims_mut();
    let all_at_once = ran == n
        && local.errors.is_empty()
        && local.exceptions.is_empty()
        && claims.record.failed == 0
        && claims.record.verdict.is_none();
    if all_at_once {
        // The report is one run, and the outputs are whole.
        claims.drainers = 0;
        claims.active = 0;
        let elements = crate::report::ElementReports::uniform(
            n,
            ElementReport {
                status: ElementStatus::Succeeded,
                attempts: 1,
                duration: each,
            },
        );
        *buffers.taken.get_mut() = true;
        let outputs = RawVec {
            ptr: buffers.outputs,
            len: n,
            cap: buffers.output_capacity.unwrap_or(buffers.input_capacity),
        };
        return super::finish_report(
            std::mem::take(&mut buffers.core.name),
            buffers.core.min_successes,
            MapStatus::Succeeded,
            elements,
            Vec::new(),
            Some(outputs),
            took,
        );
    }
    // A failure or a retry: recorded as the shared path records a chunk, and ended as it ends.
    let written = 0..local.written;
    let (_, recorded, _) = buffers
        .core
        .chunk_ended(0..n, &mut local, (took, now), false, None);
    if !recorded {
        buffers.discard(written);
    }
    let claims = buffers.core.claims_mut();
    claims.drainers = 0;
    let status = claims.record.verdict.unwrap_or(MapStatus::Succeeded);
    claims.record.verdict = Some(status);
    buffers.core.done.store(true, Ordering::Release);
    conclude(buffers, status, started_at)
}

/// Waits for the end of a started map, and makes its outcome.
async fn finish(
    buffers: Arc<Buffers>,
    cancel: Option<tokio_util::sync::CancellationToken>,
    started_at: Instant,
) -> Outcome {
    let status = {
        let core = &buffers.core;
        let _stop = StopOnDrop(core);
        let mut cancelled = cancel.map(|token| Box::pin(token.cancelled_owned()));
        std::future::poll_fn(|cx| {
            if let Some(cancelled) = &mut cancelled {
                if std::future::Future::poll(cancelled.as_mut(), cx).is_ready() {
                    core.stop(MapStatus::Cancelled);
                }
            }
            core.poll_end(cx)
        })
        .await
    };
    conclude(&buffers, status, started_at)
}

/// The outcome of a map that ended with `status`, every drainer retired.
fn conclude(buffers: &Buffers, status: MapStatus, started_at: Instant) -> Outcome {
    let outputs = match status {
        MapStatus::Succeeded => buffers.take_outputs(),
        MapStatus::Failed | MapStatus::Cancelled => None,
    };

    // Without gaps, the buffer still needs the chunk lines to drop outputs not handed over.
    let (elements, errors, last_end) = buffers
        .core
        .outcome(outputs.is_none() && !buffers.ops.has_gaps());
    // A map that ran to its end took until its last chunk ended; a stopped one until now.
    let elapsed = match (status, last_end) {
        (MapStatus::Succeeded, Some(end)) => end.saturating_duration_since(started_at),
        _ => started_at.elapsed(),
    };
    super::finish_report(
        buffers.core.name.clone(),
        buffers.core.min_successes,
        status,
        elements,
        errors,
        outputs,
        elapsed,
    )
}
