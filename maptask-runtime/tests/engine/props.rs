//! Properties over random sizes, windows, criteria, retries and per-element failure plans.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use maptask_core::{Criterion, MapError, MapSpec, Ratio};
use maptask_runtime::{MapEvent, MapStatus, RunOptions};
use proptest::prelude::*;

use crate::common::{scripted, scripted_blocking, Probe, Recorder, Script, Step};

/// What happens to one element.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Fails `k` times (retryable), then succeeds.
    FailThenOk(u32),
    /// Fails permanently.
    Permanent,
    /// Panics.
    Panic,
}

impl Plan {
    fn script(self, delay: u64) -> Script {
        match self {
            Plan::FailThenOk(k) => {
                let mut s = vec![Step::Err(delay); k as usize];
                s.push(Step::Ok(delay));
                s
            }
            Plan::Permanent => vec![Step::Permanent],
            Plan::Panic => vec![Step::Panic],
        }
    }

    fn succeeds(self, retries: u32) -> bool {
        matches!(self, Plan::FailThenOk(k) if k <= retries)
    }
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![
        6 => (0u32..4).prop_map(Plan::FailThenOk),
        1 => Just(Plan::Permanent),
        1 => Just(Plan::Panic),
    ]
}

fn criterion() -> impl Strategy<Value = Criterion> {
    prop_oneof![
        Just(Criterion::All),
        (0usize..14).prop_map(Criterion::MinSuccesses),
        prop::sample::select(vec!["0", "0.1", "0.5", "0.75", "0.99", "1"])
            .prop_map(|r| Criterion::Ratio(Ratio::parse(r).unwrap())),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    plans: Vec<(Plan, u64)>,
    concurrency: usize,
    criterion: Criterion,
    retries: u32,
    blocking: bool,
    /// A runtime-wide cap on elements in flight.
    max_in_flight: Option<usize>,
    /// A timeout that never fires, which changes who schedules blocking attempts.
    timed: bool,
    /// An observer of events. Blocking work without one (nor a timeout or a cap) takes the
    /// fast path.
    observed: bool,
    /// Run with `run_map_all`, which needs every output (and keeps them without `Option`s
    /// on the fast path when the criterion needs every element).
    all: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((plan(), 0u64..3), 0..12),
        0usize..5,
        criterion(),
        0u32..3,
        any::<bool>(),
        prop::option::weighted(0.3, 1usize..4),
        prop::bool::weighted(0.3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(
                plans,
                concurrency,
                criterion,
                retries,
                blocking,
                max_in_flight,
                timed,
                observed,
                all,
            )| {
                Case {
                    all,
                    plans,
                    concurrency,
                    criterion,
                    retries,
                    blocking,
                    max_in_flight,
                    timed,
                    observed,
                }
            },
        )
}

fn check(case: Case) -> Result<(), TestCaseError> {
    let n = case.plans.len();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let probe = Probe::new(n);
    let recorder = Recorder::new();
    let scripts: Vec<Script> = case.plans.iter().map(|&(p, d)| p.script(d)).collect();
    let spec = MapSpec::new("prop")
        .concurrency(case.concurrency)
        .criterion(case.criterion)
        .retries(case.retries)
        .timeout(case.timed.then_some(std::time::Duration::from_secs(30)));
    let options = if case.observed {
        RunOptions::new().observer(recorder.clone())
    } else {
        RunOptions::new()
    };
    let rt = maptask_runtime::Runtime::builder()
        .compute_threads(2)
        .max_in_flight(case.max_in_flight)
        .build();
    let inputs: Vec<usize> = (0..n).collect();
    let (result, report) = tokio.block_on(async {
        if case.all {
            let (result, report) = if case.blocking {
                rt.run_map_all(&spec, inputs, scripted_blocking(&probe, scripts), options)
                    .await
            } else {
                rt.run_map_all(&spec, inputs, scripted(&probe, scripts), options)
                    .await
            };
            let result = result.map(|outputs| outputs.into_iter().map(Some).collect::<Vec<_>>());
            (result, report)
        } else {
            let outcome = if case.blocking {
                rt.run_map(&spec, inputs, scripted_blocking(&probe, scripts), options)
                    .await
            } else {
                rt.run_map(&spec, inputs, scripted(&probe, scripts), options)
                    .await
            };
            (outcome.result, outcome.report)
        }
    });
    // Let stragglers (uninterruptible blocking attempts) finish before reading the probe.
    drop(tokio);
    std::thread::sleep(std::time::Duration::from_millis(5));

    let min_successes = match case.criterion.min_successes(n) {
        Ok(m) => m,
        Err(_) => {
            let spec_error = matches!(result, Err(MapError::Spec { .. }));
            prop_assert!(spec_error);
            prop_assert_eq!(probe.total_starts.load(Ordering::SeqCst), 0);
            return Ok(());
        }
    };
    let would_succeed = case
        .plans
        .iter()
        .filter(|(p, _)| p.succeeds(case.retries))
        .count();

    // Success exactly when enough elements can succeed (every element, when every output is
    // needed); then every element has finished.
    let map_succeeds = would_succeed >= min_successes;
    prop_assert_eq!(
        result.is_ok(),
        map_succeeds && (!case.all || would_succeed == n)
    );
    let report = &report;
    prop_assert_eq!(report.status == MapStatus::Succeeded, map_succeeds);
    if let Ok(outputs) = &result {
        prop_assert_eq!(outputs.len(), n);
        for (i, (plan, _)) in case.plans.iter().enumerate() {
            let expected = plan.succeeds(case.retries).then_some(i * 10);
            prop_assert_eq!(outputs[i], expected);
        }
        prop_assert_eq!(report.totals.succeeded, would_succeed);
        prop_assert!(report.totals.succeeded >= min_successes);
        prop_assert_eq!(report.totals.finished(), n);
    } else {
        let too_many = matches!(result, Err(MapError::TooManyFailures { .. }));
        prop_assert!(too_many);
        if map_succeeds {
            // The map succeeded, but an output the caller needs is missing.
            prop_assert!(case.all && report.totals.failed > 0);
        } else {
            prop_assert!(n - report.totals.failed < min_successes);
        }
    }
    prop_assert_eq!(report.elements.len(), n);

    // The window (and the runtime-wide cap) is never exceeded.
    let mut limit = if case.concurrency == 0 {
        usize::MAX
    } else {
        case.concurrency
    };
    if let Some(max) = case.max_in_flight {
        limit = limit.min(max);
    }
    prop_assert!(probe.max_active.load(Ordering::SeqCst) <= limit);
    let events = recorder.events();
    prop_assert!(events.iter().all(|e| e.counts().running <= limit));

    // At most retries + 1 attempts per element.
    let attempts = probe.attempts();
    prop_assert!(attempts.iter().all(|&a| a <= case.retries + 1));
    // The report says what each element did: one reported as not started never started, and
    // one that ended (succeeded or failed) made as many attempts as reported. (One reported
    // as cancelled was running, or claimed, when the map stopped.)
    for (i, element) in report.elements.iter().enumerate() {
        match element.status {
            maptask_runtime::ElementStatus::NotStarted => {
                prop_assert_eq!(attempts[i], 0, "element {} never started", i);
            }
            maptask_runtime::ElementStatus::Succeeded | maptask_runtime::ElementStatus::Failed => {
                prop_assert_eq!(attempts[i], element.attempts, "attempts of element {}", i);
            }
            _ => {}
        }
    }
    prop_assert!(report
        .elements
        .iter()
        .all(|e| e.attempts <= case.retries + 1));

    // Results keep input order (checked above), and the report counts every element once.
    let t = report.totals;
    prop_assert_eq!(
        t.pending + t.running + t.succeeded + t.failed + t.cancelled,
        n
    );
    prop_assert_eq!(
        report
            .elements
            .iter()
            .filter(|e| e.status == maptask_runtime::ElementStatus::Failed)
            .count(),
        t.failed
    );
    if !case.observed {
        return Ok(());
    }
    // Nothing starts after the failing-early decision.
    if let Some(decision) = events.iter().position(|e| match e {
        MapEvent::Failed {
            will_retry, counts, ..
        }
        | MapEvent::TimedOut {
            will_retry, counts, ..
        } => !will_retry && n - counts.failed < min_successes,
        _ => false,
    }) {
        prop_assert!(result.is_err());
        let started_after = events[decision..]
            .iter()
            .filter(|e| matches!(e, MapEvent::Started { .. }))
            .count();
        prop_assert_eq!(started_after, 0);
    }
    // Only started elements ever ran.
    let started: BTreeSet<(usize, u32)> = events
        .iter()
        .filter_map(|e| match e {
            MapEvent::Started { index, attempt, .. } => Some((*index, *attempt)),
            _ => None,
        })
        .collect();
    let ran: BTreeSet<(usize, u32)> = probe.starts.lock().unwrap().iter().copied().collect();
    prop_assert!(ran.is_subset(&started));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn maps_keep_their_invariants(case in case()) {
        check(case)?;
    }
}
