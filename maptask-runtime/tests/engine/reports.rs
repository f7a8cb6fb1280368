//! `ElementReports` (runs of equal entries, the first kept apart) reads like the `Vec` of one
//! entry per element that it stands for.

use std::time::Duration;

use maptask_runtime::{ElementReport, ElementReports, ElementStatus};
use proptest::prelude::*;

/// One of a few distinct entries, so that neighbours are often equal (and runs form).
fn entry(pick: u8) -> ElementReport {
    let status = match pick % 3 {
        0 => ElementStatus::Succeeded,
        1 => ElementStatus::Failed,
        _ => ElementStatus::NotStarted,
    };
    ElementReport {
        status,
        attempts: u32::from(pick % 2) + 1,
        duration: Duration::from_nanos(u64::from(pick / 2)),
    }
}

proptest! {
    #[test]
    fn runs_read_like_one_entry_per_element(
        pushes in proptest::collection::vec((0usize..5, 0u8..6), 0..24),
    ) {
        let mut reports = ElementReports::default();
        let mut model = Vec::new();
        for &(count, pick) in &pushes {
            reports.push_run(count, entry(pick));
            model.extend(std::iter::repeat_n(entry(pick), count));
        }
        prop_assert_eq!(reports.len(), model.len());
        prop_assert_eq!(reports.is_empty(), model.is_empty());
        prop_assert_eq!(reports.to_vec(), model.clone());
        prop_assert_eq!(reports.iter().len(), model.len());
        for (i, expected) in model.iter().enumerate() {
            prop_assert_eq!(reports.get(i), Some(expected));
            prop_assert_eq!(&reports[i], expected);
        }
        prop_assert_eq!(reports.get(model.len()), None);
        // Runs: maximal, contiguous from 0, and covering every element once.
        let mut next = 0;
        let mut previous: Option<ElementReport> = None;
        for (start, len, report) in reports.runs() {
            prop_assert_eq!(start, next);
            prop_assert!(len > 0);
            prop_assert_ne!(Some(*report), previous, "equal neighbours make one run");
            prop_assert!(model[start..start + len].iter().all(|e| e == report));
            previous = Some(*report);
            next += len;
        }
        prop_assert_eq!(next, model.len());
        // Equal sequences are equal reports, however they were pushed.
        let rebuilt: ElementReports = model.iter().copied().collect();
        prop_assert_eq!(&rebuilt, &reports);
    }
}

#[test]
fn a_uniform_report_is_one_run() {
    let reports = ElementReports::uniform(1000, entry(0));
    assert_eq!(reports.len(), 1000);
    assert_eq!(
        reports.runs().collect::<Vec<_>>(),
        vec![(0, 1000, &entry(0))]
    );
    assert_eq!(reports[999], entry(0));
    assert_eq!(
        ElementReports::uniform(0, entry(0)),
        ElementReports::default()
    );
}
