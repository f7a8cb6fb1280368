//! The outcome of a map: its outputs and a report of what happened to every element.

use std::time::Duration;

use maptask_core::{ElementFailure, MapError, TaskError};

use crate::events::{Counts, MapStatus};

/// What a map returns: its outputs or its error, and a report in both cases.
#[derive(Debug, Clone)]
#[must_use = "a map's outcome holds its result"]
pub struct MapOutcome<O> {
    /// The outputs, of the input's length and in its order, with `None` at each failed index;
    /// or why the map failed.
    pub result: Result<Vec<Option<O>>, MapError>,
    /// What happened to every element.
    pub report: MapReport,
}

impl<O> MapOutcome<O> {
    /// The result, dropping the report.
    pub fn into_result(self) -> Result<Vec<Option<O>>, MapError> {
        self.result
    }

    /// The outputs of a map in which every element succeeded, unwrapped.
    ///
    /// Fails with [`MapError::TooManyFailures`] when any element has no output, which cannot
    /// happen for a successful map whose criterion tolerates no failure.
    pub fn into_all(self) -> Result<Vec<O>, MapError> {
        let outputs = self.result?;
        self.report.require_all(outputs)
    }
}

/// Where an element ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElementStatus {
    /// Never started: the map failed early, was cancelled, or could not run.
    NotStarted,
    /// Finished with an output.
    Succeeded,
    /// Finished without an output after its last attempt.
    Failed,
    /// Stopped while running (or waiting to retry) because the map failed early or was cancelled.
    Cancelled,
    /// Took its output from the cache without running (`attempts` is 0).
    Cached,
}

/// What happened to one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ElementReport {
    /// Where it ended.
    pub status: ElementStatus,
    /// How many attempts it started.
    pub attempts: u32,
    /// Its total wall time in attempts, excluding queueing and backoff pauses: the sum of its
    /// attempts' times.
    ///
    /// Each attempt's time is exact, read from the clock when the attempt ends, except for
    /// blocking attempts run in chunks, whose time is a chunk mean:
    ///
    /// * **Exact**: every attempt of async work; every attempt of blocking (sync) work in a map
    ///   with a timeout, a backoff, a runtime-wide cap or an observer (an attempt that timed out
    ///   counts as exactly the timeout); and every blocking attempt run in a chunk of one, which
    ///   is how elements averaging 5 µs or more are always run.
    /// * **Chunk mean**: other blocking maps run in chunks of consecutive elements that grow
    ///   while their elements average under 5 µs (up to 4096). Each element of a chunk is given
    ///   the chunk's wall time divided by the number of elements it ran (times its attempts, for
    ///   an element that was retried). A chunk that follows another on its thread is timed from
    ///   that chunk's end (a clock read saved per chunk), so its time includes the bookkeeping
    ///   between the two, a lock or two. The chunk's total is exact in that sense; how it is shared
    ///   between its elements is not, so one unexpectedly slow element among quick ones shows
    ///   as a raised mean on all of them.
    pub duration: Duration,
}

/// The report of every element of a map, in input order.
///
/// Stored as runs of equal entries: a map whose quick elements all succeeded at their first
/// attempt keeps one entry per chunk of elements, not one per element. Read it like a slice:
/// `elements[i]`, [`get`](Self::get), [`iter`](Self::iter), [`len`](Self::len).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ElementReports {
    len: usize,
    /// The first run's entry (it starts at index 0); `None` when there is no element. Kept
    /// apart so that a map whose elements all ended alike allocates nothing for its report.
    first: Option<ElementReport>,
    /// Every later run's first index and its entry, by index.
    rest: Vec<(usize, ElementReport)>,
}

impl ElementReports {
    /// `n` elements with the same report.
    pub fn uniform(n: usize, report: ElementReport) -> ElementReports {
        let mut reports = ElementReports::default();
        reports.push_run(n, report);
        reports
    }

    /// No element yet, with room for `runs` runs.
    pub(crate) fn with_capacity(runs: usize) -> ElementReports {
        ElementReports {
            len: 0,
            first: None,
            rest: Vec::with_capacity(runs.saturating_sub(1)),
        }
    }

    /// Appends `count` elements with the same report.
    pub fn push_run(&mut self, count: usize, report: ElementReport) {
        if count == 0 {
            return;
        }
        let last = self.rest.last().map(|run| run.1).or(self.first);
        if last != Some(report) {
            if self.first.is_none() {
                self.first = Some(report);
            } else {
                self.rest.push((self.len, report));
            }
        }
        self.len += count;
    }

    /// The number of runs.
    fn run_count(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Run `k`: its first index and its entry.
    fn run_at(&self, k: usize) -> Option<(usize, &ElementReport)> {
        match k {
            0 => self.first.as_ref().map(|report| (0, report)),
            _ => self.rest.get(k - 1).map(|(start, report)| (*start, report)),
        }
    }

    /// Appends one element.
    pub fn push(&mut self, report: ElementReport) {
        self.push_run(1, report);
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The report of element `index`.
    pub fn get(&self, index: usize) -> Option<&ElementReport> {
        if index >= self.len {
            return None;
        }
        match self.rest.partition_point(|&(start, _)| start <= index) {
            0 => self.first.as_ref(),
            later => Some(&self.rest[later - 1].1),
        }
    }

    /// The first element's report.
    pub fn first(&self) -> Option<&ElementReport> {
        self.get(0)
    }

    /// Every element's report, in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ElementReport> + '_ {
        Iter {
            reports: self,
            index: 0,
            run: 0,
        }
    }

    /// Runs of equal reports: each run's first index, length and report.
    pub fn runs(&self) -> impl Iterator<Item = (usize, usize, &ElementReport)> + '_ {
        (0..self.run_count()).filter_map(|k| {
            let (start, report) = self.run_at(k)?;
            let end = self.run_at(k + 1).map_or(self.len, |next| next.0);
            Some((start, end - start, report))
        })
    }

    /// One entry per element.
    pub fn to_vec(&self) -> Vec<ElementReport> {
        self.iter().copied().collect()
    }
}

struct Iter<'a> {
    reports: &'a ElementReports,
    index: usize,
    run: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a ElementReport;

    fn next(&mut self) -> Option<&'a ElementReport> {
        if self.index >= self.reports.len {
            return None;
        }
        let reports = self.reports;
        while reports
            .run_at(self.run + 1)
            .is_some_and(|(start, _)| start <= self.index)
        {
            self.run += 1;
        }
        self.index += 1;
        reports.run_at(self.run).map(|(_, report)| report)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.reports.len - self.index;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::ops::Index<usize> for ElementReports {
    type Output = ElementReport;

    fn index(&self, index: usize) -> &ElementReport {
        match self.get(index) {
            Some(report) => report,
            None => panic!("element {index} out of range: the map has {}", self.len),
        }
    }
}

impl<'a> IntoIterator for &'a ElementReports {
    type Item = &'a ElementReport;
    type IntoIter = Box<dyn ExactSizeIterator<Item = &'a ElementReport> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl FromIterator<ElementReport> for ElementReports {
    fn from_iter<T: IntoIterator<Item = ElementReport>>(iter: T) -> ElementReports {
        let mut reports = ElementReports::default();
        for report in iter {
            reports.push(report);
        }
        reports
    }
}

/// Every error of one element, in attempt order.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementErrors {
    /// The element's index.
    pub index: usize,
    /// Each failed attempt's error, in order.
    pub errors: Vec<TaskError>,
}

/// What happened in a map: per element status, attempts, duration and errors, and totals.
#[derive(Debug, Clone)]
pub struct MapReport {
    /// The map's name.
    pub map: String,
    /// The number of elements.
    pub n: usize,
    /// The successes required (0 when the specification could not run).
    pub min_successes: usize,
    /// How the map ended.
    pub status: MapStatus,
    /// One entry per element, in input order (stored as runs of equal entries).
    pub elements: ElementReports,
    /// The errors of every element that had at least one failed attempt, by index. An element
    /// that failed and then succeeded on a retry is listed here too.
    pub errors: Vec<ElementErrors>,
    /// The final counts.
    pub totals: Counts,
    /// The map's wall time.
    pub elapsed: Duration,
}

impl MapReport {
    /// The report of a map that ended before any element started: every element `NotStarted`.
    pub fn unstarted(
        map: &str,
        n: usize,
        min_successes: usize,
        status: MapStatus,
        elapsed: Duration,
    ) -> MapReport {
        MapReport {
            map: map.to_owned(),
            n,
            min_successes,
            status,
            elements: ElementReports::uniform(
                n,
                ElementReport {
                    status: ElementStatus::NotStarted,
                    attempts: 0,
                    duration: Duration::ZERO,
                },
            ),
            errors: Vec::new(),
            totals: Counts {
                total: n,
                pending: n,
                ..Counts::default()
            },
            elapsed,
        }
    }

    /// `outputs` unwrapped, when every element of this map has one.
    ///
    /// Fails with [`MapError::TooManyFailures`], built from this report, when any element has no
    /// output, which cannot happen for a successful map whose criterion tolerates no failure.
    pub fn require_all<O>(&self, outputs: Vec<Option<O>>) -> Result<Vec<O>, MapError> {
        if outputs.iter().all(Option::is_some) {
            // `map_while` lets the collect reuse the buffer in place (no second allocation).
            return Ok(outputs.into_iter().map_while(|output| output).collect());
        }
        let failures = self.failures();
        Err(MapError::TooManyFailures {
            map: self.map.clone(),
            n: self.n,
            min_successes: self.n,
            summary: maptask_core::error::summarize_failures(&failures),
            failures,
        })
    }
    /// The errors of element `index`, in attempt order; empty when it never failed.
    pub fn errors_of(&self, index: usize) -> &[TaskError] {
        match self.errors.binary_search_by_key(&index, |e| e.index) {
            Ok(i) => &self.errors[i].errors,
            Err(_) => &[],
        }
    }

    /// Every element that failed after its last attempt, with its attempts and errors, by index.
    pub fn failures(&self) -> Vec<ElementFailure> {
        self.errors
            .iter()
            .filter(|e| {
                self.elements
                    .get(e.index)
                    .is_some_and(|r| r.status == ElementStatus::Failed)
            })
            .map(|e| ElementFailure {
                index: e.index,
                attempts: self.elements.get(e.index).map_or(0, |r| r.attempts),
                errors: e.errors.clone(),
            })
            .collect()
    }

    /// The total number of attempts started.
    pub fn total_attempts(&self) -> u64 {
        self.elements
            .runs()
            .map(|(_, len, e)| u64::from(e.attempts) * len as u64)
            .sum()
    }
}
