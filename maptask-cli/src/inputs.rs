//! Inputs from the command line: `--input name=<JSON>` pairs or a `--inputs file.json` object,
//! checked against the interface before anything runs.

use std::path::Path;

use maptask_core::{Param, TypeDesc};
use serde_json::{Map, Value};

use crate::error::CliError;

/// The inputs of `entity`, as JSON values by name, checked against `params`: every name is an
/// input, none is given twice, each text is JSON, and every input is present (an absent
/// `Option<T>` input is `null`).
pub fn collect(
    entity: &str,
    params: &[Param],
    pairs: &[String],
    file: Option<&Path>,
) -> Result<Map<String, Value>, CliError> {
    let mut values = Map::new();
    if let Some(path) = file {
        for (name, value) in read_file(path)? {
            param(entity, params, &name)?;
            values.insert(name, value);
        }
    }
    for pair in pairs {
        let Some((name, text)) = pair.split_once('=') else {
            return Err(CliError::InputSyntax { arg: pair.clone() });
        };
        let name = name.trim();
        let param = param(entity, params, name)?;
        if values.contains_key(name) {
            return Err(CliError::DuplicateInput {
                input: name.to_owned(),
            });
        }
        let value = serde_json::from_str(text).map_err(|error| CliError::MalformedJson {
            input: name.to_owned(),
            rust_type: param.rust_type.to_owned(),
            text: text.to_owned(),
            hint: hint(param, text),
            error,
        })?;
        values.insert(name.to_owned(), value);
    }
    for param in params {
        if !values.contains_key(param.name) {
            if matches!(param.ty, TypeDesc::Optional { .. }) {
                values.insert(param.name.to_owned(), Value::Null);
            } else {
                return Err(CliError::MissingInput {
                    input: param.name.to_owned(),
                    rust_type: param.rust_type.to_owned(),
                });
            }
        }
    }
    Ok(values)
}

/// The parameter named `name`, or an error that lists the inputs.
fn param<'p>(entity: &str, params: &'p [Param], name: &str) -> Result<&'p Param, CliError> {
    params
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| CliError::UnknownInput {
            entity: entity.to_owned(),
            input: name.to_owned(),
            known: describe_params(params),
        })
}

/// `x: Vec<i64>, factor: i64`, or `none`.
pub fn describe_params(params: &[Param]) -> String {
    if params.is_empty() {
        return "none".to_owned();
    }
    params
        .iter()
        .map(|p| format!("`{}: {}`", p.name, p.rust_type))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A hint for the most common mistake: a bare word for a string.
fn hint(param: &Param, text: &str) -> String {
    let wants_string = matches!(
        &param.ty,
        TypeDesc::String | TypeDesc::Char | TypeDesc::Path
    ) || matches!(&param.ty, TypeDesc::Optional { of } if matches!(**of, TypeDesc::String));
    if wants_string && !text.trim_start().starts_with('"') {
        format!(
            " (a JSON string is quoted: --input {}='\"{text}\"')",
            param.name
        )
    } else {
        String::new()
    }
}

/// The JSON object in `path`.
fn read_file(path: &Path) -> Result<Map<String, Value>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::InputsFile {
        path: path.to_owned(),
        message: format!("cannot be read: {e}"),
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(CliError::InputsFile {
            path: path.to_owned(),
            message: format!(
                "expected a JSON object of inputs by name, found {}",
                kind(&other)
            ),
        }),
        Err(e) => Err(CliError::InputsFile {
            path: path.to_owned(),
            message: format!("malformed JSON: {e}"),
        }),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<Param> {
        vec![
            Param {
                name: "x",
                rust_type: "Vec<i64>",
                ty: TypeDesc::List {
                    of: Box::new(TypeDesc::Integer {
                        bits: 64,
                        signed: true,
                    }),
                },
            },
            Param {
                name: "label",
                rust_type: "String",
                ty: TypeDesc::String,
            },
            Param {
                name: "note",
                rust_type: "Option<String>",
                ty: TypeDesc::Optional {
                    of: Box::new(TypeDesc::String),
                },
            },
        ]
    }

    fn pairs(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn pairs_become_values_and_an_absent_option_is_null() {
        let values = collect("wf", &params(), &pairs(&["x=[1,2]", "label=\"a=b\""]), None).unwrap();
        assert_eq!(values["x"], serde_json::json!([1, 2]));
        assert_eq!(values["label"], serde_json::json!("a=b"));
        assert_eq!(values["note"], Value::Null);
    }

    #[test]
    fn each_mistake_names_the_input() {
        let error = |items: &[&str]| {
            collect("wf", &params(), &pairs(items), None)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(&["x=[1,2", "label=\"a\""]),
            "input `x` (Rust type `Vec<i64>`): malformed JSON `[1,2`: EOF while parsing a list at line 1 column 4"
        );
        assert_eq!(
            error(&["x=[1]", "label=hello"]),
            "input `label` (Rust type `String`): malformed JSON `hello`: expected value at line 1 column 1 (a JSON string is quoted: --input label='\"hello\"')"
        );
        assert_eq!(
            error(&["y=1"]),
            "`wf` has no input `y`; its inputs are: `x: Vec<i64>`, `label: String`, `note: Option<String>`"
        );
        assert_eq!(
            error(&["x=[1]"]),
            "input `label` (Rust type `String`) is missing; pass it with `--input label=<JSON>` or in `--inputs FILE`"
        );
        assert_eq!(error(&["x=[1]", "x=[2]"]), "input `x` is given twice");
        assert_eq!(
            error(&["x"]),
            "`--input x`: expected NAME=JSON, e.g. `--input x='[1, 2, 3]'`"
        );
    }

    #[test]
    fn an_inputs_file_is_a_json_object() {
        let dir = std::env::temp_dir().join(format!("maptask-cli-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("inputs.json");
        std::fs::write(&file, r#"{"x": [3], "label": "l"}"#).unwrap();
        let values = collect("wf", &params(), &[], Some(&file)).unwrap();
        assert_eq!(values["x"], serde_json::json!([3]));
        std::fs::write(&file, "[1]").unwrap();
        let error = collect("wf", &params(), &[], Some(&file)).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "inputs file {}: expected a JSON object of inputs by name, found an array",
                file.display()
            )
        );
        assert_eq!(error.exit_code(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
