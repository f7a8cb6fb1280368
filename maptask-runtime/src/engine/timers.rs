//! The driver's timers: backoff pauses and the deadlines of blocking attempts, on one `Sleep`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use tokio::time::{Instant, Sleep};

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TimerKind {
    /// The backoff pause of an element ended: start its next attempt.
    Retry,
    /// A blocking attempt reached its timeout.
    Deadline,
}

/// A timer: when, what for, which element and which of its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timer {
    pub(crate) at: Instant,
    pub(crate) kind: TimerKind,
    pub(crate) index: usize,
    pub(crate) attempt: u32,
}

/// A min-heap of timers woken by a single `Sleep`, created on first use.
#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<Timer>>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl Timers {
    pub(crate) fn push(&mut self, timer: Timer) {
        self.heap.push(Reverse(timer));
    }

    /// The next timer that is due, if any. When none is due, arranges for `cx` to be woken when
    /// the earliest one is.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Option<Timer> {
        let earliest = self.heap.peek()?.0;
        if earliest.at <= Instant::now() {
            self.heap.pop();
            return Some(earliest);
        }
        let sleep = match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != earliest.at {
                    sleep.as_mut().reset(earliest.at);
                }
                sleep
            }
            None => self
                .sleep
                .insert(Box::pin(tokio::time::sleep_until(earliest.at))),
        };
        if sleep.as_mut().poll(cx).is_ready() {
            self.heap.pop();
            return Some(earliest);
        }
        None
    }
}
