//! The collector: a map's output assembled from `<prefix>/<i>/outputs.pb` and `error.pb`, as
//! Flyte's k8s-array plugin does it (`assembleOutputsWorker` in flyteplugins
//! `go/tasks/plugins/array/outputs.go`), then the minimum-successes check and
//! `<prefix>/outputs.pb`.
//!
//! Each output variable becomes a collection with one literal per index, in index order: a
//! successful element's literal verbatim (so a union-wrapped `Optional` stays wrapped and a bare
//! value stays bare), and at each failed index the bare null literal
//! `Literal{scalar{none_type{}}}`, not union-wrapped. flytekit reads both shapes back as `None`.
//!
//! The process, Kubernetes and AWS Batch backends reuse [`collect`] after their elements ran.

use prost::Message;

use crate::entrypoint::{ERROR_FILE, OUTPUTS_FILE};
use crate::proto::core::{
    literal, scalar, ErrorDocument, Literal, LiteralCollection, LiteralMap, Scalar, Void,
};
use crate::storage::{self, StorageError};

/// The literal the plugin puts at a failed index: `Literal{scalar{none_type{}}}`.
pub fn nil_literal() -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar {
            value: Some(scalar::Value::NoneType(Void {})),
        }))),
        ..Literal::default()
    }
}

/// The minimum number of successes the k8s-array plugin requires:
/// `ceil(float64(float32 ratio) × n)`.
///
/// The ratio crosses Flyte as a float32, so this can differ from the exact decimal rule of
/// `maptask_core::Ratio` (0.1 × 10 needs 2 here, 1 there): a backend that Flyte drives uses this,
/// one that maptask drives uses its own spec.
///
/// ```
/// use maptask_flyte::collect::flyte_min_successes;
/// assert_eq!(flyte_min_successes(0.75, 3), 3);
/// assert_eq!(flyte_min_successes(0.5, 3), 2);
/// assert_eq!(flyte_min_successes(0.1, 10), 2);
/// assert_eq!(flyte_min_successes(1.0, 7), 7);
/// ```
pub fn flyte_min_successes(ratio: f32, n: usize) -> usize {
    // Go: int64(math.Ceil(float64(minSuccessRatio) * float64(size))).
    let needed = (f64::from(ratio) * n as f64).ceil();
    if needed <= 0.0 {
        0
    } else {
        // A ratio above 1 asks for more than n; saturate rather than wrap.
        needed.min(usize::MAX as f64) as usize
    }
}

/// What one element left behind.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementOutcome {
    /// `outputs.pb`, decoded.
    Succeeded(LiteralMap),
    /// `error.pb`, or nothing: the element failed or never finished.
    Failed {
        /// The failure's message, or why there is none.
        message: String,
    },
}

/// The assembled outputs, and what each element did.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    /// The map's outputs: one collection per output variable.
    pub outputs: LiteralMap,
    /// How many elements succeeded.
    pub succeeded: usize,
    /// Each failed index, with its message.
    pub failures: Vec<(usize, String)>,
}

/// Why the map's output cannot be assembled.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// An element's file could not be read.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An element's file is not the message it should be.
    #[error("`{uri}` is not a flyteidl.core.{message}: {source}")]
    Corrupt {
        /// The file.
        uri: String,
        /// The message type expected.
        message: &'static str,
        /// The decoding error.
        #[source]
        source: prost::DecodeError,
    },
    /// A successful element lacks an output variable.
    #[error("`{uri}` has no output `{name}`; it has {}", if .available.is_empty() { "none".to_owned() } else { .available.join(", ") })]
    MissingOutput {
        /// The element's outputs file.
        uri: String,
        /// The variable.
        name: String,
        /// The variables it has.
        available: Vec<String>,
    },
    /// Too few elements succeeded. Nothing was written.
    #[error("{succeeded} of {n} elements succeeded, at least {min_successes} had to; failed: {}", summarize(.failures))]
    TooFewSuccesses {
        /// The successes.
        succeeded: usize,
        /// The elements.
        n: usize,
        /// The successes required.
        min_successes: usize,
        /// Each failed index and its message.
        failures: Vec<(usize, String)>,
    },
}

fn summarize(failures: &[(usize, String)]) -> String {
    failures
        .iter()
        .map(|(i, m)| format!("[{i}] {}", m.lines().next().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reads what element `index` left under `prefix/<index>/`.
pub fn read_element(prefix: &str, index: usize) -> Result<ElementOutcome, CollectError> {
    let dir = storage::join(prefix, &index.to_string());
    let outputs_uri = storage::join(&dir, OUTPUTS_FILE);
    if let Some(bytes) = storage::read_if_exists(&outputs_uri)? {
        let outputs =
            LiteralMap::decode(bytes.as_slice()).map_err(|source| CollectError::Corrupt {
                uri: outputs_uri,
                message: "LiteralMap",
                source,
            })?;
        return Ok(ElementOutcome::Succeeded(outputs));
    }
    let error_uri = storage::join(&dir, ERROR_FILE);
    let message = match storage::read_if_exists(&error_uri)? {
        None => format!("element {index} wrote neither {OUTPUTS_FILE} nor {ERROR_FILE}"),
        Some(bytes) => {
            let document = ErrorDocument::decode(bytes.as_slice()).map_err(|source| {
                CollectError::Corrupt {
                    uri: error_uri,
                    message: "ErrorDocument",
                    source,
                }
            })?;
            match document.error {
                Some(e) => format!("{}: {}", e.code, e.message),
                None => format!("element {index} wrote an empty {ERROR_FILE}"),
            }
        }
    };
    Ok(ElementOutcome::Failed { message })
}

/// Assembles the outputs of `elements`, in index order, for the variables `output_names`.
///
/// `prefix` only names files in errors.
pub fn assemble(
    prefix: &str,
    elements: &[ElementOutcome],
    output_names: &[&str],
) -> Result<Collected, CollectError> {
    let mut columns: Vec<Vec<Literal>> =
        vec![Vec::with_capacity(elements.len()); output_names.len()];
    let mut succeeded = 0;
    let mut failures = Vec::new();
    for (index, element) in elements.iter().enumerate() {
        match element {
            ElementOutcome::Succeeded(outputs) => {
                succeeded += 1;
                for (name, column) in output_names.iter().zip(&mut columns) {
                    let literal =
                        outputs
                            .literals
                            .get(*name)
                            .ok_or_else(|| CollectError::MissingOutput {
                                uri: storage::join(
                                    &storage::join(prefix, &index.to_string()),
                                    OUTPUTS_FILE,
                                ),
                                name: (*name).to_owned(),
                                available: outputs.literals.keys().cloned().collect(),
                            })?;
                    column.push(literal.clone());
                }
            }
            ElementOutcome::Failed { message } => {
                failures.push((index, message.clone()));
                for column in &mut columns {
                    column.push(nil_literal());
                }
            }
        }
    }
    let outputs = LiteralMap {
        literals: output_names
            .iter()
            .zip(columns)
            .map(|(name, literals)| {
                (
                    (*name).to_owned(),
                    Literal {
                        value: Some(literal::Value::Collection(LiteralCollection { literals })),
                        ..Literal::default()
                    },
                )
            })
            .collect(),
    };
    Ok(Collected {
        outputs,
        succeeded,
        failures,
    })
}

/// Collects the `n` elements under `prefix`, checks that at least `min_successes` succeeded,
/// and writes the map's outputs to `<prefix>/outputs.pb`. With too few successes nothing is
/// written and the error lists every failure.
pub fn collect(
    prefix: &str,
    n: usize,
    output_names: &[&str],
    min_successes: usize,
) -> Result<Collected, CollectError> {
    let elements = (0..n)
        .map(|i| read_element(prefix, i))
        .collect::<Result<Vec<_>, _>>()?;
    let collected = assemble(prefix, &elements, output_names)?;
    if collected.succeeded < min_successes {
        return Err(CollectError::TooFewSuccesses {
            succeeded: collected.succeeded,
            n,
            min_successes,
            failures: collected.failures,
        });
    }
    storage::write(
        &storage::join(prefix, OUTPUTS_FILE),
        &collected.outputs.encode_to_vec(),
    )?;
    Ok(collected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nil_literal_is_the_plugins_bytes() {
        assert_eq!(nil_literal().encode_to_vec(), [0x0a, 0x02, 0x2a, 0x00]);
    }

    #[test]
    fn ratios_cross_as_float32() {
        assert_eq!(flyte_min_successes(0.0, 5), 0);
        assert_eq!(flyte_min_successes(0.75, 4), 3);
        assert_eq!(flyte_min_successes(0.5, 0), 0);
        assert_eq!(flyte_min_successes(2.0, 3), 6);
    }
}
