//! Inputs read from JSON values: the registry's [`InputSource`] for the command line.

use std::error::Error as StdError;

use maptask_core::Param;
use maptask_runtime::registry::{erased_serde, InputSource};
use serde_json::{Map, Value};

use crate::error::CliError;

/// Reads each input from its JSON value, taking it out of the map.
pub struct JsonSource {
    values: Map<String, Value>,
}

impl JsonSource {
    /// A source over `values`, the inputs by name.
    pub fn new(values: Map<String, Value>) -> JsonSource {
        JsonSource { values }
    }
}

impl InputSource for JsonSource {
    fn deserialize_param(
        &mut self,
        param: &Param,
        sink: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), Box<dyn StdError + Send + Sync>> {
        // `inputs::collect` checked that every input is present; an absent one reads as null.
        let value = self.values.remove(param.name).unwrap_or(Value::Null);
        let mut deserializer = <dyn erased_serde::Deserializer>::erase(value);
        sink(&mut deserializer).map_err(|error| {
            Box::new(CliError::WrongType {
                input: param.name.to_owned(),
                rust_type: param.rust_type.to_owned(),
                error: error.to_string(),
            }) as Box<dyn StdError + Send + Sync>
        })
    }
}
