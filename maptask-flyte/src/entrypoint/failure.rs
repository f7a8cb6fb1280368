//! Failures of an element, as the `ErrorDocument` Flyte reads from `error.pb`.
//!
//! flytekit writes every user exception as `USER:RuntimeError`, NON_RECOVERABLE, so Flyte never
//! retries it. Here the kind follows the error: a permanent `TaskError` and a panic are
//! NON_RECOVERABLE; any other error, and a timeout, RECOVERABLE, so Flyte retries only what can
//! succeed.

use std::time::SystemTime;

use maptask_core::{ElementFailure, FailureKind, TaskError};

use crate::proto::core::{container_error, execution_error, ContainerError, ErrorDocument};

/// Who is at fault, as Flyte's `ExecutionError.ErrorKind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The task's code or its inputs.
    User,
    /// The platform: storage, a corrupt file.
    System,
}

/// One failure, ready to be written as `error.pb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// A short code, `USER:…` or `SYSTEM:…`.
    pub code: String,
    /// The whole message.
    pub message: String,
    /// Whether Flyte may retry.
    pub recoverable: bool,
    /// Who is at fault.
    pub origin: Origin,
}

impl Failure {
    /// A failure of the user's making that retrying cannot fix.
    pub fn user(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: format!("USER:{code}"),
            message: message.into(),
            recoverable: false,
            origin: Origin::User,
        }
    }

    /// A failure of the platform.
    pub fn system(code: &str, message: impl Into<String>, recoverable: bool) -> Failure {
        Failure {
            code: format!("SYSTEM:{code}"),
            message: message.into(),
            recoverable,
            origin: Origin::System,
        }
    }

    /// The failure of a task call after all its attempts.
    pub fn of_task(task: &str, index: Option<usize>, failure: &ElementFailure) -> Failure {
        let last = failure.last_error();
        let code = match last.map(TaskError::kind) {
            Some(FailureKind::Panic) => "USER:Panic",
            Some(FailureKind::Timeout) => "USER:Timeout",
            Some(FailureKind::Cancelled) => "USER:Cancelled",
            // flytekit's code for any exception, so that tooling grouping by code still works.
            Some(FailureKind::Error) | None => "USER:RuntimeError",
        };
        let at = index.map_or(String::new(), |i| format!(" at index {i}"));
        let attempts = failure.attempts;
        let mut message = format!(
            "task `{task}` failed{at} after {attempts} attempt{}",
            if attempts == 1 { "" } else { "s" }
        );
        if failure.errors.len() > 1 {
            message.push_str("\n\nAttempts:\n");
            for (i, error) in failure.errors.iter().enumerate() {
                message.push_str(&format!("\n    {}: {}", i + 1, indent(error.message())));
            }
        }
        message.push_str("\n\nMessage:\n\n    ");
        message.push_str(&indent(last.map_or("unknown error", TaskError::message)));
        Failure {
            code: code.to_owned(),
            message,
            recoverable: last.is_some_and(|e| !e.is_permanent()),
            origin: Origin::User,
        }
    }

    /// The `ErrorDocument`, stamped with `now`.
    pub fn to_document(&self, now: SystemTime) -> ErrorDocument {
        let kind = if self.recoverable {
            container_error::Kind::Recoverable
        } else {
            container_error::Kind::NonRecoverable
        };
        let origin = match self.origin {
            Origin::User => execution_error::ErrorKind::User,
            Origin::System => execution_error::ErrorKind::System,
        };
        ErrorDocument {
            error: Some(ContainerError {
                code: self.code.clone(),
                message: self.message.clone(),
                kind: kind as i32,
                origin: origin as i32,
                timestamp: Some(timestamp(now)),
                worker: String::new(),
            }),
        }
    }
}

/// Continuation lines indented under the first.
fn indent(text: &str) -> String {
    text.replace('\n', "\n    ")
}

fn timestamp(t: SystemTime) -> prost_types::Timestamp {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => prost_types::Timestamp {
            seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
        },
        // A clock before 1970: stamp the epoch rather than fail the write.
        Err(_) => prost_types::Timestamp::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn failure(errors: Vec<TaskError>) -> ElementFailure {
        ElementFailure {
            index: 0,
            attempts: u32::try_from(errors.len()).unwrap(),
            errors,
        }
    }

    #[test]
    fn permanence_decides_recoverability() {
        let retryable = Failure::of_task("t", Some(1), &failure(vec![TaskError::msg("boom")]));
        assert!(retryable.recoverable);
        assert_eq!(retryable.code, "USER:RuntimeError");
        assert_eq!(
            retryable.message,
            "task `t` failed at index 1 after 1 attempt\n\nMessage:\n\n    boom"
        );
        let permanent = Failure::of_task("t", None, &failure(vec![TaskError::permanent_msg("no")]));
        assert!(!permanent.recoverable);
        let payload: Box<dyn std::any::Any + Send> = Box::new("oops");
        let panic = Failure::of_task("t", None, &failure(vec![TaskError::from_panic(&*payload)]));
        assert!(!panic.recoverable);
        assert_eq!(panic.code, "USER:Panic");
        let timeout = Failure::of_task(
            "t",
            Some(0),
            &failure(vec![
                TaskError::msg("first\nsecond line"),
                TaskError::timeout(Duration::from_millis(5)),
            ]),
        );
        assert!(timeout.recoverable);
        assert_eq!(timeout.code, "USER:Timeout");
        assert_eq!(
            timeout.message,
            "task `t` failed at index 0 after 2 attempts\n\nAttempts:\n\n    1: first\n    second line\n    2: timed out after 5ms\n\nMessage:\n\n    timed out after 5ms"
        );
    }

    #[test]
    fn the_document_sets_code_kind_origin_and_time() {
        let doc = Failure::user("IndexError", "past the end")
            .to_document(SystemTime::UNIX_EPOCH + Duration::new(5, 7));
        let error = doc.error.unwrap();
        assert_eq!(error.code, "USER:IndexError");
        assert_eq!(error.kind, container_error::Kind::NonRecoverable as i32);
        assert_eq!(error.origin, execution_error::ErrorKind::User as i32);
        assert_eq!(
            error.timestamp,
            Some(prost_types::Timestamp {
                seconds: 5,
                nanos: 7
            })
        );
        let doc = Failure::system("Storage", "gone", true).to_document(SystemTime::now());
        let error = doc.error.unwrap();
        assert_eq!(error.kind, container_error::Kind::Recoverable as i32);
        assert_eq!(error.origin, execution_error::ErrorKind::System as i32);
    }
}
