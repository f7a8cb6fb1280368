//! The array index of this element, from the environment, as flytekit computes it.
//!
//! `index = BATCH_JOB_ARRAY_INDEX_OFFSET (default 0) + $[$BATCH_JOB_ARRAY_INDEX_VAR_NAME]`. The
//! k8s-array plugin names `FLYTE_K8S_ARRAY_INDEX`, AWS Batch `AWS_BATCH_JOB_ARRAY_INDEX`, and a
//! Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` works through the same variable. With no
//! `BATCH_JOB_ARRAY_INDEX_VAR_NAME` the index is the offset alone (0 without one).
//!
//! Where flytekit crashes (the named variable missing, a value that is not a number), this
//! returns an error naming the variable and its value.

use std::ffi::OsString;

/// The variable that names the variable holding the index.
pub const VAR_NAME: &str = "BATCH_JOB_ARRAY_INDEX_VAR_NAME";
/// The variable holding an offset added to the index.
pub const OFFSET: &str = "BATCH_JOB_ARRAY_INDEX_OFFSET";

/// Why the index cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// `BATCH_JOB_ARRAY_INDEX_VAR_NAME` names a variable that is not set.
    #[error("{VAR_NAME}={name}, but `{name}` is not set, so the array index is unknown")]
    NamedVarMissing {
        /// The named variable.
        name: String,
    },
    /// A variable that must hold a non-negative integer does not.
    #[error("`{var}` must be a non-negative integer, got `{value}`")]
    NotANumber {
        /// The variable.
        var: String,
        /// Its value, lossily decoded.
        value: String,
    },
    /// Offset plus index overflows.
    #[error("{OFFSET} {offset} + index {index} overflows")]
    Overflow {
        /// The offset.
        offset: usize,
        /// The index.
        index: usize,
    },
}

/// The index, reading variables through `env` (`std::env::var_os` in a real process).
///
/// ```
/// use maptask_flyte::entrypoint::index::array_index;
/// let env = |name: &str| match name {
///     "BATCH_JOB_ARRAY_INDEX_VAR_NAME" => Some("AWS_BATCH_JOB_ARRAY_INDEX".into()),
///     "AWS_BATCH_JOB_ARRAY_INDEX" => Some("4".into()),
///     "BATCH_JOB_ARRAY_INDEX_OFFSET" => Some("10".into()),
///     _ => None,
/// };
/// assert_eq!(array_index(env), Ok(14));
/// assert_eq!(array_index(|_| None), Ok(0));
/// ```
pub fn array_index(env: impl Fn(&str) -> Option<OsString>) -> Result<usize, IndexError> {
    let offset = match env(OFFSET) {
        Some(value) => parse(OFFSET, &value)?,
        None => 0,
    };
    let index = match env(VAR_NAME) {
        None => 0,
        Some(name) => {
            let name = name.to_string_lossy().into_owned();
            match env(&name) {
                Some(value) => parse(&name, &value)?,
                None => return Err(IndexError::NamedVarMissing { name }),
            }
        }
    };
    offset
        .checked_add(index)
        .ok_or(IndexError::Overflow { offset, index })
}

/// A non-negative decimal integer; surrounding whitespace is allowed, as Python's `int()` does.
fn parse(var: &str, value: &OsString) -> Result<usize, IndexError> {
    let text = value.to_string_lossy();
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = digits.parse::<usize>() {
            return Ok(n);
        }
    }
    Err(IndexError::NotANumber {
        var: var.to_owned(),
        value: text.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(*v))
        }
    }

    #[test]
    fn every_fixture_variant() {
        let k8s = |i: &'static str| {
            [
                (VAR_NAME, "FLYTE_K8S_ARRAY_INDEX"),
                ("FLYTE_K8S_ARRAY_INDEX", i),
            ]
        };
        assert_eq!(array_index(env(&k8s("0"))), Ok(0));
        assert_eq!(array_index(env(&k8s("2"))), Ok(2));
        assert_eq!(
            array_index(env(&[
                (VAR_NAME, "AWS_BATCH_JOB_ARRAY_INDEX"),
                ("AWS_BATCH_JOB_ARRAY_INDEX", "1")
            ])),
            Ok(1)
        );
        assert_eq!(
            array_index(env(&[
                (VAR_NAME, "FLYTE_K8S_ARRAY_INDEX"),
                ("FLYTE_K8S_ARRAY_INDEX", "1"),
                (OFFSET, "1")
            ])),
            Ok(2)
        );
        assert_eq!(
            array_index(env(&[
                (VAR_NAME, "JOB_COMPLETION_INDEX"),
                ("JOB_COMPLETION_INDEX", "2")
            ])),
            Ok(2)
        );
        // JOB_COMPLETION_INDEX alone is not read: only through the VAR_NAME.
        assert_eq!(array_index(env(&[("JOB_COMPLETION_INDEX", "2")])), Ok(0));
        assert_eq!(array_index(env(&[])), Ok(0));
        assert_eq!(array_index(env(&[(OFFSET, "3")])), Ok(3));
        assert_eq!(array_index(env(&[(VAR_NAME, "I"), ("I", " 7\n")])), Ok(7));
    }

    #[test]
    fn a_missing_or_malformed_index_names_the_variable() {
        assert_eq!(
            array_index(env(&[(VAR_NAME, "FLYTE_K8S_ARRAY_INDEX")]))
                .unwrap_err()
                .to_string(),
            "BATCH_JOB_ARRAY_INDEX_VAR_NAME=FLYTE_K8S_ARRAY_INDEX, but `FLYTE_K8S_ARRAY_INDEX` is not set, so the array index is unknown"
        );
        for bad in ["", "-1", "one", "1.5", "99999999999999999999999"] {
            assert_eq!(
                array_index(env(&[(VAR_NAME, "I"), ("I", bad)])),
                Err(IndexError::NotANumber {
                    var: "I".into(),
                    value: bad.into()
                }),
                "{bad:?}"
            );
        }
        assert_eq!(
            array_index(env(&[(OFFSET, "x")])).unwrap_err().to_string(),
            "`BATCH_JOB_ARRAY_INDEX_OFFSET` must be a non-negative integer, got `x`"
        );
        let max = usize::MAX.to_string();
        assert!(matches!(
            array_index(env(&[(OFFSET, &max), (VAR_NAME, "I"), ("I", "1")])),
            Err(IndexError::Overflow { .. })
        ));
    }
}
