//! Timeouts of blocking work free what the attempt held: its window slot and its share of the
//! compute pool, at the deadline. All on a pool of two threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maptask_core::{Criterion, MapError, MapSpec, Ratio, TaskError};
use maptask_runtime::{PoolStatus, RunOptions, Runtime, Work};

use crate::common::Warnings;

/// When each attempt started, and on which thread.
#[derive(Default)]
struct Starts(Mutex<Vec<(usize, u32, Instant, String)>>);

impl Starts {
    fn of(&self, index: usize, attempt: u32) -> (Instant, String) {
        let starts = self.0.lock().unwrap();
        let (_, _, at, thread) = starts
            .iter()
            .find(|s| s.0 == index && s.1 == attempt)
            .unwrap_or_else(|| panic!("attempt {attempt} of element {index} never started"));
        (*at, thread.clone())
    }
}

/// Blocking work: attempt `a` of element `i` sleeps `sleeps[i][a - 1]` ms (the last entry
/// repeats), then returns `100 × a + i`.
fn sleepy(starts: &Arc<Starts>, sleeps: Vec<Vec<u64>>) -> impl Work<usize, Output = usize> {
    let starts = Arc::clone(starts);
    let attempts: Arc<Vec<AtomicUsize>> =
        Arc::new(sleeps.iter().map(|_| AtomicUsize::new(0)).collect());
    maptask_runtime::work::blocking(move |i: usize| {
        let attempt = attempts[i].fetch_add(1, Ordering::SeqCst) + 1;
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        starts
            .0
            .lock()
            .unwrap()
            .push((i, attempt as u32, Instant::now(), thread));
        let plan = &sleeps[i];
        let ms = plan[(attempt - 1).min(plan.len() - 1)];
        std::thread::sleep(Duration::from_millis(ms));
        Ok::<_, TaskError>(100 * attempt + i)
    })
}

fn two_threads() -> Runtime {
    Runtime::builder().compute_threads(2).build()
}

/// Waits (up to 5 s) for the pool to be back to `threads` threads, none stuck.
async fn pool_settles(rt: &Runtime, threads: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = rt.pool_status();
        if status == (PoolStatus { threads, stuck: 0 }) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the pool never settled: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const TIMEOUT: Duration = Duration::from_millis(100);
/// How soon after a deadline the freed capacity must be used.
const PROMPT: Duration = Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_starts_at_the_deadline_on_another_thread_and_the_late_result_is_dropped() {
    let rt = two_threads();
    let starts = Arc::new(Starts::default());
    let spec = MapSpec::new("retry").timeout(Some(TIMEOUT)).retries(1);
    let began = Instant::now();
    let outcome = rt
        .run_map(
            &spec,
            vec![0],
            sleepy(&starts, vec![vec![1000, 0]]),
            RunOptions::new(),
        )
        .await;
    // The second attempt's output, never the first's late one.
    assert_eq!(outcome.result, Ok(vec![Some(200)]));
    assert!(
        began.elapsed() < Duration::from_millis(600),
        "{:?}",
        began.elapsed()
    );
    let (first, stuck_thread) = starts.of(0, 1);
    let (second, retry_thread) = starts.of(0, 2);
    let after = second.duration_since(first);
    assert!(
        after >= TIMEOUT && after <= TIMEOUT + PROMPT,
        "the retry started after {after:?}"
    );
    assert_ne!(stuck_thread, retry_thread);
    // The stuck attempt's thread goes back when its call returns; the pool shrinks to two.
    pool_settles(&rt, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_concurrency_one_the_next_element_starts_at_the_deadline() {
    let rt = two_threads();
    let starts = Arc::new(Starts::default());
    let spec = MapSpec::new("window")
        .concurrency(1)
        .timeout(Some(TIMEOUT))
        .criterion(Criterion::Ratio(Ratio::parse("0.5").unwrap()));
    let outcome = rt
        .run_map(
            &spec,
            vec![0, 1],
            sleepy(&starts, vec![vec![1000], vec![0]]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![None, Some(101)]));
    let (first, _) = starts.of(0, 1);
    let (next, _) = starts.of(1, 1);
    let after = next.duration_since(first);
    assert!(
        after >= TIMEOUT && after <= TIMEOUT + PROMPT,
        "element 1 started after {after:?}"
    );
    pool_settles(&rt, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_attempts_do_not_delay_other_maps() {
    let rt = two_threads();
    // Both threads get stuck for 800 ms: one attempt times out and fails the map, the other is
    // abandoned when the map stops.
    let starts = Arc::new(Starts::default());
    let spec = MapSpec::new("stuck").timeout(Some(Duration::from_millis(50)));
    let began = Instant::now();
    let outcome = rt
        .run_map(
            &spec,
            vec![0, 1],
            sleepy(&starts, vec![vec![800], vec![800]]),
            RunOptions::new(),
        )
        .await;
    assert!(matches!(
        outcome.result,
        Err(MapError::TooManyFailures { .. })
    ));
    assert!(began.elapsed() < Duration::from_millis(400));
    assert_eq!(
        rt.pool_status(),
        PoolStatus {
            threads: 4,
            stuck: 2
        }
    );

    // An ordinary map right after runs on the replacements: 4 × 20 ms on two threads.
    let began = Instant::now();
    let starts = Arc::new(Starts::default());
    let outcome = rt
        .run_map(
            &MapSpec::new("ordinary"),
            vec![0, 1, 2, 3],
            sleepy(&starts, vec![vec![20]; 4]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(
        outcome.result,
        Ok(vec![Some(100), Some(101), Some(102), Some(103)])
    );
    let took = began.elapsed();
    assert!(
        took < Duration::from_millis(400),
        "the ordinary map took {took:?}"
    );
    pool_settles(&rt, 2).await;
}

// A current-thread runtime: the map is driven on this thread, where the subscriber is set.
#[tokio::test]
async fn replacements_stop_at_the_bound_with_one_warning() {
    let warnings = Warnings::default();
    let _guard = tracing::subscriber::set_default(warnings.clone());
    let rt = Runtime::builder()
        .compute_threads(2)
        .max_replacement_threads(1)
        .build();
    let starts = Arc::new(Starts::default());
    let spec = MapSpec::new("bounded")
        .timeout(Some(Duration::from_millis(50)))
        .criterion(Criterion::Ratio(Ratio::parse("0").unwrap()));
    let outcome = rt
        .run_map(
            &spec,
            vec![0, 1, 2, 3],
            sleepy(&starts, vec![vec![500]; 4]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![None; 4]));
    // Two threads, plus one replacement: three stuck. The fourth element waited for a thread.
    let warned = warnings.0.lock().unwrap().clone();
    assert_eq!(warned.len(), 1, "{warned:?}");
    assert!(
        warned[0].contains("bound of replacement threads"),
        "{warned:?}"
    );
    pool_settles(&rt, 2).await;
    // After the stuck threads came back, the pool works at full size again.
    let outcome = rt
        .run_map(
            &MapSpec::new("after"),
            vec![0, 1],
            sleepy(&starts, vec![vec![0]; 2]),
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result.map(|v| v.len()), Ok(2));
    assert_eq!(warnings.0.lock().unwrap().len(), 1);
}

/// A map stopped by a failure while another element is stuck for 800 ms returns at once, the
/// pool replaces the stuck thread, and two elements that can only end together (a barrier of
/// two, so they need two free threads) then end long before the stuck one returns. The map
/// runs on the general engine when `observed` (an observer keeps it there), on the fast path
/// otherwise.
///
/// Each caller brings its own `K`: the closures here are then of their own types, so each test
/// has its own kinds of work. Shared with another test, the barrier's kind could be known to
/// be quick, and a map of quick work starts on its caller, one element after the other: the
/// first element would wait at the barrier for ever.
async fn a_stopped_map_gives_back_its_stuck_thread<K: 'static>(observed: bool) {
    use std::sync::atomic::AtomicBool;
    let rt = two_threads();
    let running = Arc::new(AtomicBool::new(false));
    // Element 1 sleeps 800 ms; element 0 fails for good once element 1 runs, which stops the
    // map with element 1 still running.
    let work = {
        let running = Arc::clone(&running);
        maptask_runtime::work::blocking(move |i: usize| {
            let _kind = std::marker::PhantomData::<K>;
            if i == 0 {
                let deadline = Instant::now() + Duration::from_secs(2);
                while !running.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(1));
                }
                return Err(TaskError::permanent_msg("stop"));
            }
            running.store(true, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(800));
            Ok(i)
        })
    };
    let options = if observed {
        RunOptions::new().observer(crate::common::Recorder::new())
    } else {
        RunOptions::new()
    };
    let began = Instant::now();
    let outcome = rt
        .run_map(&MapSpec::new("stops"), vec![0, 1], work, options)
        .await;
    assert!(matches!(
        outcome.result,
        Err(MapError::TooManyFailures { .. })
    ));
    assert!(began.elapsed() < Duration::from_millis(400));
    // The stuck element's thread was replaced; the failing element's was not (it had
    // returned).
    assert_eq!(
        rt.pool_status(),
        PoolStatus {
            threads: 3,
            stuck: 1
        }
    );

    let barrier = Arc::new(std::sync::Barrier::new(2));
    let together = {
        let barrier = Arc::clone(&barrier);
        maptask_runtime::work::blocking(move |i: usize| {
            let _kind = std::marker::PhantomData::<K>;
            barrier.wait();
            Ok::<_, TaskError>(i)
        })
    };
    let began = Instant::now();
    let outcome = rt
        .run_map(
            &MapSpec::new("together"),
            vec![0, 1],
            together,
            RunOptions::new(),
        )
        .await;
    assert_eq!(outcome.result, Ok(vec![Some(0), Some(1)]));
    let took = began.elapsed();
    assert!(took < Duration::from_millis(500), "took {took:?}");
    // The stuck thread returns, its late output is dropped, and the pool shrinks back to two.
    pool_settles(&rt, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_map_without_a_timeout_gives_back_the_threads_of_its_slow_attempts() {
    struct General;
    a_stopped_map_gives_back_its_stuck_thread::<General>(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_fast_map_gives_back_the_threads_of_its_slow_elements() {
    struct Fast;
    a_stopped_map_gives_back_its_stuck_thread::<Fast>(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_map_cancelled_mid_element_gives_back_the_thread() {
    let rt = two_threads();
    let token = maptask_runtime::CancellationToken::new();
    let work = maptask_runtime::work::blocking(move |i: usize| {
        std::thread::sleep(Duration::from_millis(600));
        Ok::<_, TaskError>(i)
    });
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let began = Instant::now();
    let outcome = rt
        .run_map(
            &MapSpec::new("cancelled").concurrency(1),
            vec![0, 1, 2],
            work,
            RunOptions::new().cancel(token),
        )
        .await;
    assert!(matches!(outcome.result, Err(MapError::Cancelled { .. })));
    assert!(began.elapsed() < Duration::from_millis(400));
    assert_eq!(
        rt.pool_status(),
        PoolStatus {
            threads: 3,
            stuck: 1
        }
    );
    pool_settles(&rt, 2).await;
}
