//! Errors: of one task attempt, of a map specification, and of a whole map.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The task returned `Err`.
    Error,
    /// The task panicked. Always permanent.
    Panic,
    /// The attempt ran past its timeout and was cancelled. Retryable.
    Timeout,
    /// The attempt was cancelled from outside (a failing map, a dropped future, a token).
    Cancelled,
}

/// The failure of one attempt of a task.
///
/// A task that returns `Result<T, E>` fails an attempt with `Err(e)`; the runtime wraps `e` here.
/// Return a `TaskError` yourself to control retries: [`TaskError::permanent`] is never retried.
#[derive(Clone)]
pub struct TaskError {
    kind: FailureKind,
    message: String,
    permanent: bool,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl TaskError {
    /// A retryable failure with this message.
    pub fn msg(message: impl Into<String>) -> TaskError {
        TaskError {
            kind: FailureKind::Error,
            message: message.into(),
            permanent: false,
            source: None,
        }
    }

    /// A failure that must not be retried, wrapping `error`.
    ///
    /// ```
    /// use maptask_core::TaskError;
    /// let e = TaskError::permanent(std::io::Error::other("bad input"));
    /// assert!(e.is_permanent());
    /// assert_eq!(e.to_string(), "bad input");
    /// ```
    pub fn permanent<E: StdError + Send + Sync + 'static>(error: E) -> TaskError {
        TaskError {
            permanent: true,
            ..TaskError::from_error(error)
        }
    }

    /// A failure that must not be retried, with this message.
    pub fn permanent_msg(message: impl Into<String>) -> TaskError {
        TaskError {
            permanent: true,
            ..TaskError::msg(message)
        }
    }

    /// Wraps an error a task returned. A `TaskError` passes through unchanged, so its
    /// permanence survives the trip through a generic `E`.
    pub fn from_error<E: StdError + Send + Sync + 'static>(error: E) -> TaskError {
        let boxed: Box<dyn Any + Send> = Box::new(error);
        match boxed.downcast::<TaskError>() {
            Ok(task_error) => *task_error,
            Err(other) => match other.downcast::<E>() {
                Ok(error) => TaskError {
                    kind: FailureKind::Error,
                    message: error.to_string(),
                    permanent: false,
                    source: Some(Arc::from(error as Box<dyn StdError + Send + Sync>)),
                },
                // The box holds an `E`, so the second downcast always succeeds; keep a message
                // rather than panic if that ever changes.
                Err(_) => TaskError::msg("task failed with an error of an unknown type"),
            },
        }
    }

    /// The failure of a panicking attempt, with the panic's message.
    pub fn from_panic(payload: &(dyn Any + Send)) -> TaskError {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a non-string panic payload".to_owned()
        };
        TaskError {
            kind: FailureKind::Panic,
            message: format!("panicked: {message}"),
            permanent: true,
            source: None,
        }
    }

    /// The failure of an attempt that ran past `timeout`.
    pub fn timeout(timeout: Duration) -> TaskError {
        TaskError {
            kind: FailureKind::Timeout,
            message: format!("timed out after {timeout:?}"),
            permanent: false,
            source: None,
        }
    }

    /// The failure of an attempt that was cancelled from outside.
    pub fn cancelled() -> TaskError {
        TaskError {
            kind: FailureKind::Cancelled,
            message: "cancelled".to_owned(),
            permanent: true,
            source: None,
        }
    }

    /// Why the attempt failed.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a retry is pointless.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("permanent", &self.permanent)
            .finish()
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TaskError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl PartialEq for TaskError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
            && self.message == other.message
            && self.permanent == other.permanent
    }
}

/// A map specification that cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A success ratio that is not a number in [0, 1].
    #[error("min_success_ratio must be a number in [0, 1], got `{given}`")]
    InvalidRatio {
        /// The ratio as given.
        given: String,
    },
    /// More successes required than there are elements.
    #[error("min_successes = {min_successes} exceeds the number of elements, {n}")]
    MinSuccessesAboveLength {
        /// The required number of successes.
        min_successes: usize,
        /// The number of elements.
        n: usize,
    },
}

/// The failure of one element of a map: its index, the attempts it made, and each attempt's error.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementFailure {
    /// The element's index in the inputs.
    pub index: usize,
    /// The number of attempts made.
    pub attempts: u32,
    /// Every attempt's error, in order; the last one decided.
    pub errors: Vec<TaskError>,
}

impl ElementFailure {
    /// The error of the last attempt.
    pub fn last_error(&self) -> Option<&TaskError> {
        self.errors.last()
    }
}

/// Why a map did not produce its output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MapError {
    /// The mapped inputs have different lengths. Nothing ran.
    #[error("map `{map}`: mapped inputs have different lengths: {}", format_lengths(.lengths))]
    LengthMismatch {
        /// The map's name.
        map: String,
        /// Each mapped input's name and length, in declaration order.
        lengths: Vec<(String, usize)>,
    },
    /// The specification cannot run. Nothing ran.
    #[error("map `{map}`: {source}")]
    Spec {
        /// The map's name.
        map: String,
        /// What is wrong with the specification.
        #[source]
        source: SpecError,
    },
    /// Too many elements failed to reach the minimum number of successes.
    #[error(
        "map `{map}` failed: {} of {n} elements failed, at least {min_successes} had to succeed; {summary}",
        failures.len()
    )]
    TooManyFailures {
        /// The map's name.
        map: String,
        /// The number of elements.
        n: usize,
        /// The successes required.
        min_successes: usize,
        /// Every failure, by index.
        failures: Vec<ElementFailure>,
        /// Indices grouped by message, e.g. `[0-1][3]: boom`.
        summary: String,
    },
    /// The runtime broke one of its own invariants; please report it.
    #[error("map `{map}`: internal error: {message}")]
    Internal {
        /// The map's name.
        map: String,
        /// What went wrong.
        message: String,
    },
    /// The map was cancelled before it finished.
    #[error("map `{map}` was cancelled")]
    Cancelled {
        /// The map's name.
        map: String,
    },
}

fn format_lengths(lengths: &[(String, usize)]) -> String {
    lengths
        .iter()
        .map(|(name, len)| format!("`{name}` has {len}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups failures by their last error's message into index ranges:
/// `[0-1][3]: boom; [2]: bang`. Groups are ordered by their first index.
///
/// ```
/// use maptask_core::{ElementFailure, TaskError, error::summarize_failures};
/// let fail = |index, m: &str| ElementFailure { index, attempts: 1, errors: vec![TaskError::msg(m)] };
/// let s = summarize_failures(&[fail(0, "boom"), fail(1, "boom"), fail(2, "bang"), fail(3, "boom")]);
/// assert_eq!(s, "[0-1][3]: boom; [2]: bang");
/// ```
pub fn summarize_failures(failures: &[ElementFailure]) -> String {
    let mut sorted: Vec<&ElementFailure> = failures.iter().collect();
    sorted.sort_by_key(|f| f.index);
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for failure in sorted {
        let message = failure
            .last_error()
            .map_or("unknown error", |e| e.message());
        match groups.iter_mut().find(|(m, _)| *m == message) {
            Some((_, indices)) => indices.push(failure.index),
            None => groups.push((message, vec![failure.index])),
        }
    }
    let mut out = String::new();
    for (message, indices) in groups {
        if !out.is_empty() {
            out.push_str("; ");
        }
        let mut i = 0;
        while i < indices.len() {
            let start = indices[i];
            let mut end = start;
            while i + 1 < indices.len() && indices[i + 1] == end + 1 {
                i += 1;
                end = indices[i];
            }
            if start == end {
                out.push_str(&format!("[{start}]"));
            } else {
                out.push_str(&format!("[{start}-{end}]"));
            }
            i += 1;
        }
        out.push_str(": ");
        out.push_str(message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk full")]
    struct DiskFull;

    #[test]
    fn errors_keep_their_message_and_permanence() {
        let e = TaskError::from_error(DiskFull);
        assert_eq!(e.to_string(), "disk full");
        assert!(!e.is_permanent());
        assert!(e.source().is_some());
        let p = TaskError::from_error(TaskError::permanent(DiskFull));
        assert!(p.is_permanent());
        assert_eq!(p.kind(), FailureKind::Error);
    }

    #[test]
    fn panics_are_permanent() {
        let payload: Box<dyn Any + Send> = Box::new("oops");
        let e = TaskError::from_panic(payload.as_ref());
        assert_eq!(e.message(), "panicked: oops");
        assert!(e.is_permanent());
        assert_eq!(e.kind(), FailureKind::Panic);
    }

    #[test]
    fn length_mismatch_names_each_input() {
        let e = MapError::LengthMismatch {
            map: "m".into(),
            lengths: vec![("a".into(), 3), ("b".into(), 2)],
        };
        assert_eq!(
            e.to_string(),
            "map `m`: mapped inputs have different lengths: `a` has 3, `b` has 2"
        );
    }
}
