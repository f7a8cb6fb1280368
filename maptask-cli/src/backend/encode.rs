//! The parent's side of the Flyte contract: a map's element inputs as one `inputs.pb`, and the
//! collector's outputs read back into the task's own output type.

use std::any::Any;

use maptask_core::{Interface, TypeDesc};
use maptask_flyte::literal::{to_literal, LiteralDeserializer};
use maptask_flyte::proto::core::{literal, Literal, LiteralCollection, LiteralMap};
use maptask_runtime::registry::{erased_serde, RemoteFns};

/// The `LiteralMap` of a map's inputs: each mapped input as the collection of every element's
/// value, each bound input as its value (every element holds the same).
pub fn inputs_literal_map(
    interface: &Interface,
    mapped: &[&str],
    remote: &RemoteFns,
    elements: &[Box<dyn Any + Send>],
) -> Result<LiteralMap, String> {
    let params = &interface.inputs;
    let mut columns: Vec<Vec<Literal>> = vec![Vec::with_capacity(elements.len()); params.len()];
    for (index, element) in elements.iter().enumerate() {
        let mut visit = |i: usize, value: &dyn erased_serde::Serialize| -> Result<(), String> {
            let param = params
                .get(i)
                .ok_or_else(|| format!("the task has no input number {i}"))?;
            // A bound input is the same in every element: encode it once.
            if !mapped.contains(&param.name) && index > 0 {
                return Ok(());
            }
            let literal = to_literal(value, &param.ty).map_err(|e| {
                format!(
                    "input `{}` of element {index} cannot be written as a Flyte literal: {e}",
                    param.name
                )
            })?;
            columns[i].push(literal);
            Ok(())
        };
        (remote.encode_inputs)(element.as_ref(), &mut visit)?;
    }
    let mut literals = std::collections::BTreeMap::new();
    for (param, mut column) in params.iter().zip(columns) {
        let literal = if mapped.contains(&param.name) {
            Literal {
                value: Some(literal::Value::Collection(LiteralCollection {
                    literals: column,
                })),
                ..Literal::default()
            }
        } else {
            match column.pop() {
                Some(literal) => literal,
                // No element, so nothing runs; the bound value is never read.
                None => continue,
            }
        };
        literals.insert(param.name.to_owned(), literal);
    }
    Ok(LiteralMap { literals })
}

/// Whether `literal` is the bare null the collector puts at a failed index.
fn is_nil(literal: &Literal) -> bool {
    matches!(
        &literal.value,
        Some(literal::Value::Scalar(scalar))
            if matches!(scalar.value, Some(maptask_flyte::proto::core::scalar::Value::NoneType(_)))
    )
}

/// Each element's output, read from the collector's `o0` collection: `None` at each failed
/// index, the task's own output (boxed) elsewhere.
pub fn outputs_from_collection(
    collection: &Literal,
    n: usize,
    output: &TypeDesc,
    succeeded: &[bool],
    remote: &RemoteFns,
) -> Result<Vec<Option<Box<dyn Any + Send>>>, String> {
    let Some(literal::Value::Collection(LiteralCollection { literals })) = &collection.value else {
        return Err("the assembled output `o0` is not a collection".to_owned());
    };
    if literals.len() != n {
        return Err(format!(
            "the assembled output has {} elements, expected {n}",
            literals.len()
        ));
    }
    literals
        .iter()
        .enumerate()
        .map(|(index, literal)| {
            // An element that failed is a bare null; a task whose output is `Option<T>` may
            // also return `None` as a union, which is not this.
            if !succeeded.get(index).copied().unwrap_or(false) && is_nil(literal) {
                return Ok(None);
            }
            let mut deserializer =
                <dyn erased_serde::Deserializer>::erase(LiteralDeserializer::new(literal, output));
            (remote.decode_output)(&mut deserializer)
                .map(Some)
                .map_err(|e| format!("the output of element {index} cannot be read: {e}"))
        })
        .collect()
}

/// The output of one element from its `outputs.pb` (a `LiteralMap` holding `o0`), in the task's
/// own type (boxed).
pub fn output_from_outputs_pb(
    bytes: &[u8],
    output: &TypeDesc,
    remote: &RemoteFns,
) -> Result<Box<dyn Any + Send>, String> {
    use maptask_flyte::entrypoint::OUTPUT_NAME;
    use maptask_flyte::prost::Message;
    let map = LiteralMap::decode(bytes).map_err(|e| format!("not a LiteralMap: {e}"))?;
    let literal = map
        .literals
        .get(OUTPUT_NAME)
        .ok_or_else(|| format!("no `{OUTPUT_NAME}`"))?;
    let mut deserializer =
        <dyn erased_serde::Deserializer>::erase(LiteralDeserializer::new(literal, output));
    (remote.decode_output)(&mut deserializer).map_err(|e| e.to_string())
}
