//! How an output is stored: a header that says what it is, then MessagePack.
//!
//! ```text
//! entry = "MTCE" ‖ format (1 byte) ‖ len (u32 LE) ‖ output type description (UTF-8) ‖ payload
//! ```
//!
//! The payload is the output in MessagePack (`rmp-serde`, structs as maps with field names),
//! which is self-describing, so types that deserialize through `deserialize_any` (untagged enums,
//! `serde_json::Value`, `#[serde(flatten)]`) round-trip. The header lets a reader tell an entry it
//! can use from one written by an older format or for an output type that has changed since:
//! both are a [`DecodeError`], which the cache treats as a miss, never as a value.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The four bytes every entry starts with.
pub const MAGIC: &[u8; 4] = b"MTCE";

/// The entry format this build writes and reads.
pub const ENTRY_FORMAT: u8 = 1;

/// Why an entry cannot be used. Each is a miss.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The entry does not start with the magic bytes, or is too short.
    #[error("the entry is not a maptask cache entry")]
    NotAnEntry,
    /// The entry was written in another format.
    #[error("the entry has format {found}, this build reads format {ENTRY_FORMAT}")]
    Format {
        /// The format found.
        found: u8,
    },
    /// The entry was written for another output type.
    #[error("the entry holds a `{stored}`, the task now returns `{expected}`")]
    TypeChanged {
        /// The stored output's type description.
        stored: String,
        /// The task's current output type description.
        expected: String,
    },
    /// The payload does not decode as the output type.
    #[error("the stored output does not decode: {0}")]
    Payload(String),
}

/// An output that could not be encoded: its `Serialize` implementation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a task output for the cache: {0}")]
pub struct OutputEncodeError(pub String);

/// The header of every entry for outputs described by `type_desc`. Build it once per task.
pub fn header(type_desc: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + type_desc.len());
    out.extend_from_slice(MAGIC);
    out.push(ENTRY_FORMAT);
    out.extend_from_slice(&(type_desc.len() as u32).to_le_bytes());
    out.extend_from_slice(type_desc.as_bytes());
    out
}

/// Appends the payload of `output` to `out` (which should already hold the [`header`]).
pub fn encode_output<O: Serialize + ?Sized>(
    output: &O,
    out: &mut Vec<u8>,
) -> Result<(), OutputEncodeError> {
    let mut serializer = rmp_serde::Serializer::new(out).with_struct_map();
    output
        .serialize(&mut serializer)
        .map_err(|e| OutputEncodeError(e.to_string()))
}

/// A whole entry: the header for `type_desc` and the payload of `output`.
pub fn encode_entry<O: Serialize + ?Sized>(
    output: &O,
    type_desc: &str,
) -> Result<Vec<u8>, OutputEncodeError> {
    let mut out = header(type_desc);
    encode_output(output, &mut out)?;
    Ok(out)
}

/// The payload of `entry`, once its header is checked against `expected_header`.
pub fn payload<'e>(entry: &'e [u8], expected_header: &[u8]) -> Result<&'e [u8], DecodeError> {
    if let Some(payload) = entry.strip_prefix(expected_header) {
        return Ok(payload);
    }
    // Slow path: say why it does not match.
    if entry.len() < 9 || &entry[..4] != MAGIC {
        return Err(DecodeError::NotAnEntry);
    }
    if entry[4] != ENTRY_FORMAT {
        return Err(DecodeError::Format { found: entry[4] });
    }
    let len = u32::from_le_bytes([entry[5], entry[6], entry[7], entry[8]]) as usize;
    let stored = entry
        .get(9..9 + len)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or(DecodeError::NotAnEntry)?;
    let expected = expected_header
        .get(9..)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    Err(DecodeError::TypeChanged { stored, expected })
}

/// Decodes a payload as `O`.
pub fn decode_output<O: DeserializeOwned>(payload: &[u8]) -> Result<O, DecodeError> {
    rmp_serde::from_slice(payload).map_err(|e| DecodeError::Payload(e.to_string()))
}

/// Decodes a whole entry written for outputs described by `type_desc`.
pub fn decode_entry<O: DeserializeOwned>(entry: &[u8], type_desc: &str) -> Result<O, DecodeError> {
    decode_output(payload(entry, &header(type_desc))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Out {
        name: String,
        n: u32,
    }

    #[test]
    fn entries_round_trip() {
        let out = Out {
            name: "a".into(),
            n: 3,
        };
        let entry = encode_entry(&out, "struct Out").unwrap();
        assert_eq!(decode_entry::<Out>(&entry, "struct Out").unwrap(), out);
    }

    #[test]
    fn a_changed_type_description_is_not_decoded() {
        let entry = encode_entry(&5i64, "integer").unwrap();
        assert_eq!(
            decode_entry::<String>(&entry, "string"),
            Err(DecodeError::TypeChanged {
                stored: "integer".into(),
                expected: "string".into()
            })
        );
    }

    #[test]
    fn an_older_format_is_not_decoded() {
        let mut entry = encode_entry(&5i64, "integer").unwrap();
        entry[4] = 0;
        assert_eq!(
            decode_entry::<i64>(&entry, "integer"),
            Err(DecodeError::Format { found: 0 })
        );
        assert_eq!(
            decode_entry::<i64>(b"junk", "integer"),
            Err(DecodeError::NotAnEntry)
        );
    }

    #[test]
    fn a_payload_of_another_shape_is_an_error_not_a_value() {
        // Same description, different Rust type: the payload check catches it.
        let entry = encode_entry(&"text", "x").unwrap();
        assert!(matches!(
            decode_entry::<Out>(&entry, "x"),
            Err(DecodeError::Payload(_))
        ));
    }
}
