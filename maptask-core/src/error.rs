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
///
/// Inside a task that returns `Result<T, TaskError>`, `?` converts any
/// `std::error::Error + Send + Sync + 'static` (an `io::Error`, a parse error, your own
/// `thiserror` type):
///
/// ```
/// use maptask_core::TaskError;
///
/// fn read_len(path: &str) -> Result<usize, TaskError> {
///     Ok(std::fs::read_to_string(path)?.len())
/// }
/// let error = read_len("/no/such/file").unwrap_err();
/// assert!(error.downcast_ref::<std::io::Error>().is_some());
/// assert!(!error.is_permanent());
/// ```
///
/// That conversion is why `TaskError` does not itself implement `std::error::Error` (the two
/// would overlap, as they would for `anyhow::Error`). It dereferences to
/// `dyn std::error::Error + Send + Sync`, and converts into `Box<dyn Error + Send + Sync>` and
/// into `anyhow::Error`, so `?` carries it out of a function that returns either.
///
/// A wrapped error is shown as itself: `Display` is the wrapped error's text, and `source()`
/// is the wrapped error's own source, so that walking the chain prints each cause once.
#[derive(Clone)]
pub struct TaskError {
    repr: Repr,
}

/// What a [`TaskError`] holds; the `std::error::Error` that it dereferences to, and what it
/// becomes inside a `Box<dyn Error>` or an `anyhow::Error` (so it can be recovered from them).
#[derive(Clone)]
struct Repr {
    kind: FailureKind,
    message: String,
    permanent: bool,
    inner: Option<Arc<dyn StdError + Send + Sync + 'static>>,
}

impl TaskError {
    fn new(kind: FailureKind, message: String, permanent: bool) -> TaskError {
        TaskError {
            repr: Repr {
                kind,
                message,
                permanent,
                inner: None,
            },
        }
    }

    /// A retryable failure with this message.
    pub fn msg(message: impl Into<String>) -> TaskError {
        TaskError::new(FailureKind::Error, message.into(), false)
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
        TaskError::from_error(error).into_permanent()
    }

    /// A failure that must not be retried, with this message.
    pub fn permanent_msg(message: impl Into<String>) -> TaskError {
        TaskError::msg(message).into_permanent()
    }

    /// The same failure, never retried.
    #[must_use]
    pub fn into_permanent(mut self) -> TaskError {
        self.repr.permanent = true;
        self
    }

    /// Wraps an error a task returned: a retryable failure that shows as `error`.
    pub fn from_error<E: StdError + Send + Sync + 'static>(error: E) -> TaskError {
        TaskError::from_boxed(Box::new(error))
    }

    /// Wraps a boxed error, as `Result<T, Box<dyn Error + Send + Sync>>` tasks return. A
    /// `TaskError` that was boxed (through `?` or `into()`) comes back as it was, permanence
    /// included.
    pub fn from_boxed(error: Box<dyn StdError + Send + Sync + 'static>) -> TaskError {
        match error.downcast::<Repr>() {
            Ok(repr) => TaskError { repr: *repr },
            Err(error) => TaskError {
                repr: Repr {
                    kind: FailureKind::Error,
                    message: error.to_string(),
                    permanent: false,
                    inner: Some(Arc::from(error)),
                },
            },
        }
    }

    /// Wraps an `anyhow::Error`, as `anyhow::Result<T>` tasks return. A `TaskError` turned into
    /// an `anyhow::Error` (through `?`) comes back as it was, permanence included, also when
    /// context was added around it; the context then leads the message.
    pub fn from_anyhow(error: anyhow::Error) -> TaskError {
        let permanent = error
            .chain()
            .any(|e| e.downcast_ref::<Repr>().is_some_and(|r| r.permanent));
        // anyhow's `downcast` also finds an error under context; only an error without context
        // comes back whole, so that context is never dropped.
        let outermost_is_ours = error
            .chain()
            .next()
            .is_some_and(|e| e.downcast_ref::<Repr>().is_some());
        if outermost_is_ours {
            if let Some(repr) = error.downcast_ref::<Repr>() {
                return TaskError { repr: repr.clone() };
            }
        }
        let wrapped = TaskError::from_boxed(error.into_boxed_dyn_error());
        if permanent {
            wrapped.into_permanent()
        } else {
            wrapped
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
        TaskError::new(FailureKind::Panic, format!("panicked: {message}"), true)
    }

    /// The failure of an attempt that ran past `timeout`.
    pub fn timeout(timeout: Duration) -> TaskError {
        TaskError::new(
            FailureKind::Timeout,
            format!("timed out after {timeout:?}"),
            false,
        )
    }

    /// The failure of an attempt that was cancelled from outside.
    pub fn cancelled() -> TaskError {
        TaskError::new(FailureKind::Cancelled, "cancelled".to_owned(), true)
    }

    /// Why the attempt failed.
    pub fn kind(&self) -> FailureKind {
        self.repr.kind
    }

    /// The message: the wrapped error's `Display`, without its sources.
    pub fn message(&self) -> &str {
        &self.repr.message
    }

    /// The message followed by every source's, joined by `": "`, as anyhow's `{:#}` prints a
    /// chain. This is what a map's failure summary shows.
    pub fn full_message(&self) -> String {
        let mut out = self.repr.message.clone();
        let mut source = StdError::source(&self.repr);
        while let Some(error) = source {
            out.push_str(": ");
            out.push_str(&error.to_string());
            source = error.source();
        }
        out
    }

    /// Whether a retry is pointless.
    pub fn is_permanent(&self) -> bool {
        self.repr.permanent
    }

    /// The error the task returned, when it returned one (not for a message, a panic or a
    /// timeout).
    pub fn get_ref(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.repr.inner.as_deref()
    }

    /// The error the task returned, if it is an `E`.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.get_ref()?.downcast_ref::<E>()
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.repr, f)
    }
}

impl fmt::Debug for Repr {
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
        fmt::Display::fmt(&self.repr, f)
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Transparent over the wrapped error: its text is the message, so the chain goes on with the
/// wrapped error's own source.
impl StdError for Repr {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.as_deref()?.source()
    }
}

impl std::ops::Deref for TaskError {
    type Target = dyn StdError + Send + Sync + 'static;

    fn deref(&self) -> &Self::Target {
        &self.repr
    }
}

impl AsRef<dyn StdError + Send + Sync + 'static> for TaskError {
    fn as_ref(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &self.repr
    }
}

/// `?` on any error inside a `Result<T, TaskError>` task: a retryable failure.
impl<E: StdError + Send + Sync + 'static> From<E> for TaskError {
    fn from(error: E) -> TaskError {
        TaskError::from_error(error)
    }
}

impl From<TaskError> for Box<dyn StdError + Send + Sync + 'static> {
    fn from(error: TaskError) -> Self {
        Box::new(error.repr)
    }
}

impl From<TaskError> for Box<dyn StdError + 'static> {
    fn from(error: TaskError) -> Self {
        Box::new(error.repr)
    }
}

impl From<TaskError> for anyhow::Error {
    fn from(error: TaskError) -> Self {
        anyhow::Error::new(error.repr)
    }
}

impl PartialEq for TaskError {
    fn eq(&self, other: &Self) -> bool {
        self.repr.kind == other.repr.kind
            && self.repr.message == other.repr.message
            && self.repr.permanent == other.repr.permanent
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
#[derive(Debug, Clone, PartialEq)]
pub enum MapError {
    /// The mapped inputs have different lengths. Nothing ran.
    LengthMismatch {
        /// The map's name.
        map: String,
        /// Each mapped input's name and length, in declaration order.
        lengths: Vec<(String, usize)>,
    },
    /// The specification cannot run. Nothing ran.
    Spec {
        /// The map's name.
        map: String,
        /// What is wrong with the specification.
        source: SpecError,
    },
    /// Too many elements failed to reach the minimum number of successes.
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
    Internal {
        /// The map's name.
        map: String,
        /// What went wrong.
        message: String,
    },
    /// The map was cancelled before it finished.
    Cancelled {
        /// The map's name.
        map: String,
    },
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::LengthMismatch { map, lengths } => write!(
                f,
                "map `{map}`: mapped inputs have different lengths: {}",
                format_lengths(lengths)
            ),
            MapError::Spec { map, source } => write!(f, "map `{map}`: {source}"),
            MapError::TooManyFailures {
                map,
                n,
                min_successes,
                failures,
                summary,
            } => write!(
                f,
                "map `{map}` failed: {} of {n} elements failed, at least {min_successes} had to succeed; {summary}",
                failures.len()
            ),
            MapError::Internal { map, message } => {
                write!(f, "map `{map}`: internal error: {message}")
            }
            MapError::Cancelled { map } => write!(f, "map `{map}` was cancelled"),
        }
    }
}

/// Every cause is part of the message (the specification problem, the failures' summary), so
/// `source()` is `None`: a chain walk prints each cause once. Match on the variant for the
/// parts.
impl StdError for MapError {}

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
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for failure in sorted {
        let message = failure
            .last_error()
            .map_or_else(|| "unknown error".to_owned(), TaskError::full_message);
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
        out.push_str(&message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("disk full")]
    struct DiskFull;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot save")]
    struct CannotSave(#[source] DiskFull);

    #[test]
    fn errors_keep_their_message_and_permanence() {
        let e = TaskError::from_error(DiskFull);
        assert_eq!(e.to_string(), "disk full");
        assert!(!e.is_permanent());
        assert!(e.downcast_ref::<DiskFull>().is_some());
        let p = TaskError::permanent(DiskFull);
        assert!(p.is_permanent());
        assert_eq!(p.kind(), FailureKind::Error);
    }

    /// Display shows the wrapped error, `source()` goes on from the wrapped error's source:
    /// each cause appears once.
    #[test]
    fn a_wrapped_error_prints_each_cause_once() {
        let e = TaskError::from_error(CannotSave(DiskFull));
        assert_eq!(e.to_string(), "cannot save");
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("disk full")
        );
        assert_eq!(e.full_message(), "cannot save: disk full");
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e.clone())),
            "cannot save: disk full"
        );
        let plain = TaskError::msg("boom");
        assert!(plain.source().is_none());
        assert_eq!(plain.full_message(), "boom");
    }

    /// `?` converts a std error into a `TaskError`, and a `TaskError` into a boxed or an anyhow
    /// error, from which it comes back with its permanence.
    #[test]
    fn task_errors_round_trip_through_box_and_anyhow() {
        fn io() -> Result<(), TaskError> {
            Err(std::io::Error::other("gone"))?;
            Ok(())
        }
        let e = io().unwrap_err();
        assert_eq!(e.to_string(), "gone");
        assert!(e.downcast_ref::<std::io::Error>().is_some());

        let boxed: Box<dyn StdError + Send + Sync> = TaskError::permanent_msg("no").into();
        let back = TaskError::from_boxed(boxed);
        assert!(back.is_permanent());
        assert_eq!(back.message(), "no");

        let any = anyhow::Error::from(TaskError::permanent_msg("no"));
        let back = TaskError::from_anyhow(any);
        assert!(back.is_permanent());
        assert_eq!(back.to_string(), "no");

        let with_context = anyhow::Error::from(TaskError::permanent_msg("no")).context("loading");
        let back = TaskError::from_anyhow(with_context);
        assert!(back.is_permanent(), "permanence survives context");
        assert_eq!(back.full_message(), "loading: no");

        let plain = TaskError::from_anyhow(anyhow::anyhow!("root").context("outer"));
        assert!(!plain.is_permanent());
        assert_eq!(plain.to_string(), "outer");
        assert_eq!(plain.full_message(), "outer: root");
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
