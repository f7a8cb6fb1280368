//! The task's inputs out of an `inputs.pb` `LiteralMap`: element `i` of each mapped input, bound
//! inputs whole, each handed to the task's decoder as a [`LiteralDeserializer`].

use std::error::Error as StdError;

use maptask_core::{Interface, Param};
use maptask_runtime::registry::{erased_serde, InputSource};

use crate::literal::LiteralDeserializer;
use crate::proto::core::{literal, Literal, LiteralMap};

/// Inputs that do not fit the task's interface.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputsError {
    /// The inputs have no literal for a parameter.
    #[error("inputs.pb has no input `{param}`; it has {}", list(.available))]
    Missing {
        /// The parameter.
        param: String,
        /// The inputs it has.
        available: Vec<String>,
    },
    /// A mapped input that is not a collection.
    #[error("input `{param}` is mapped, so it must be a collection literal, but it is {found}")]
    NotACollection {
        /// The parameter.
        param: String,
        /// What it is.
        found: String,
    },
    /// Mapped inputs of different lengths.
    #[error("mapped inputs have different lengths: {}", .lengths.iter().map(|(n, l)| format!("`{n}` has {l}")).collect::<Vec<_>>().join(", "))]
    LengthMismatch {
        /// Each mapped input and its length.
        lengths: Vec<(String, usize)>,
    },
    /// A bound name that is not a parameter of the task.
    #[error("`vars` binds `{name}`, which is not a parameter of task `{task}`; its parameters are {}", list(.params))]
    UnknownBound {
        /// The name.
        name: String,
        /// The task.
        task: String,
        /// Its parameters.
        params: Vec<String>,
    },
    /// Every parameter is bound: there is nothing to map.
    #[error("every parameter of task `{task}` is bound; a map needs at least one mapped input")]
    NothingMapped {
        /// The task.
        task: String,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A literal's kind, for messages.
pub(crate) fn kind_of(lit: &Literal) -> &'static str {
    match &lit.value {
        None => "an empty literal",
        Some(literal::Value::Scalar(_)) => "a scalar",
        Some(literal::Value::Collection(_)) => "a collection",
        Some(literal::Value::Map(_)) => "a map",
        Some(literal::Value::OffloadedMetadata(_)) => "an offloaded literal (not supported)",
    }
}

/// The inputs of one run: which parameters are mapped, and the element to take from them.
#[derive(Debug)]
pub struct LiteralInputs<'a> {
    literals: &'a LiteralMap,
    /// For a map: the element index and whether each parameter (by position) is mapped.
    element: Option<(usize, Vec<bool>)>,
    interface: &'a Interface,
}

impl<'a> LiteralInputs<'a> {
    /// The inputs of a plain task: every parameter whole. Checks that each is present.
    pub fn whole(literals: &'a LiteralMap, interface: &'a Interface) -> Result<Self, InputsError> {
        for param in &interface.inputs {
            get(literals, param.name)?;
        }
        Ok(LiteralInputs {
            literals,
            element: None,
            interface,
        })
    }

    /// The inputs of element `index` of a map over `task` with the `bound` parameters: checks
    /// the bound names, that each input is present, that the mapped ones are collections of one
    /// length, and returns that length with the inputs. The caller compares `index` with it:
    /// an index past the end is the element's own failure, not a malformed input.
    pub fn element(
        literals: &'a LiteralMap,
        interface: &'a Interface,
        task: &str,
        bound: &[String],
        index: usize,
    ) -> Result<(Self, usize), InputsError> {
        let params: Vec<String> = interface.inputs.iter().map(|p| p.name.to_owned()).collect();
        for name in bound {
            if !params.contains(name) {
                return Err(InputsError::UnknownBound {
                    name: name.clone(),
                    task: task.to_owned(),
                    params,
                });
            }
        }
        let mapped: Vec<bool> = interface
            .inputs
            .iter()
            .map(|p| !bound.iter().any(|b| b == p.name))
            .collect();
        if !mapped.contains(&true) {
            return Err(InputsError::NothingMapped {
                task: task.to_owned(),
            });
        }
        let mut lengths = Vec::new();
        for (param, &is_mapped) in interface.inputs.iter().zip(&mapped) {
            let lit = get(literals, param.name)?;
            if !is_mapped {
                continue;
            }
            match &lit.value {
                Some(literal::Value::Collection(c)) => {
                    lengths.push((param.name.to_owned(), c.literals.len()));
                }
                _ => {
                    return Err(InputsError::NotACollection {
                        param: param.name.to_owned(),
                        found: kind_of(lit).to_owned(),
                    })
                }
            }
        }
        let n = lengths[0].1;
        if lengths.iter().any(|(_, len)| *len != n) {
            return Err(InputsError::LengthMismatch { lengths });
        }
        Ok((
            LiteralInputs {
                literals,
                element: Some((index, mapped)),
                interface,
            },
            n,
        ))
    }

    /// The literal of `param` for this run.
    fn literal_of(&self, param: &Param) -> Result<&'a Literal, Box<dyn StdError + Send + Sync>> {
        let lit = get(self.literals, param.name)?;
        let Some((index, mapped)) = &self.element else {
            return Ok(lit);
        };
        let position = self
            .interface
            .inputs
            .iter()
            .position(|p| p.name == param.name)
            .ok_or_else(|| format!("`{}` is not a parameter of this task", param.name))?;
        if !mapped[position] {
            return Ok(lit);
        }
        match &lit.value {
            Some(literal::Value::Collection(c)) => c.literals.get(*index).ok_or_else(|| {
                format!(
                    "index {index} is past the end of `{}`, which has {} elements",
                    param.name,
                    c.literals.len()
                )
                .into()
            }),
            _ => Err(format!(
                "input `{}` is mapped, so it must be a collection literal, but it is {}",
                param.name,
                kind_of(lit)
            )
            .into()),
        }
    }
}

fn get<'a>(literals: &'a LiteralMap, name: &str) -> Result<&'a Literal, InputsError> {
    literals
        .literals
        .get(name)
        .ok_or_else(|| InputsError::Missing {
            param: name.to_owned(),
            available: literals.literals.keys().cloned().collect(),
        })
}

impl InputSource for LiteralInputs<'_> {
    fn deserialize_param(
        &mut self,
        param: &Param,
        sink: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), Box<dyn StdError + Send + Sync>> {
        let lit = self.literal_of(param)?;
        let mut de =
            <dyn erased_serde::Deserializer>::erase(LiteralDeserializer::new(lit, &param.ty));
        sink(&mut de)?;
        Ok(())
    }
}
