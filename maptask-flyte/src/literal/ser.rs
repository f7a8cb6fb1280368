//! The serde `Serializer` that turns a Rust value into a `Literal`, guided by its `TypeDesc`.

use std::collections::BTreeMap;

use maptask_core::TypeDesc;
use serde::ser::{self, Impossible, Serialize};

use super::{is_msgpack, msgpack, time, types, LiteralError, MSGPACK_TAG};
use crate::proto::core::{
    literal, primitive, scalar, Binary, Literal, LiteralCollection, LiteralMap, Primitive, Scalar,
    Union, Void,
};

pub(super) fn to_literal<T: Serialize + ?Sized>(
    value: &T,
    desc: &TypeDesc,
) -> Result<Literal, LiteralError> {
    if is_msgpack(desc) {
        return Ok(scalar(scalar::Value::Binary(Binary {
            value: msgpack::to_vec(value, Some(desc))?,
            tag: MSGPACK_TAG.to_owned(),
        })));
    }
    value.serialize(LiteralSerializer { desc })
}

pub(crate) fn scalar(v: scalar::Value) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Box::new(Scalar { value: Some(v) }))),
        ..Literal::default()
    }
}

pub(crate) fn prim(v: primitive::Value) -> Literal {
    scalar(scalar::Value::Primitive(Primitive { value: Some(v) }))
}

/// `Literal{scalar{none_type{}}}`: Python's `None` (and the k8s-array plugin's nil).
pub fn none_literal() -> Literal {
    scalar(scalar::Value::NoneType(Void {}))
}

struct LiteralSerializer<'a> {
    desc: &'a TypeDesc,
}

impl LiteralSerializer<'_> {
    fn mismatch(&self, found: impl Into<String>) -> LiteralError {
        LiteralError::mismatch(self.desc, found)
    }

    fn int(self, v: i128) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Integer { .. } => i64::try_from(v)
                .map(|v| prim(primitive::Value::Integer(v)))
                .map_err(|_| LiteralError::IntegerOutOfRange {
                    value: v.to_string(),
                }),
            _ => Err(self.mismatch(format!("integer {v}"))),
        }
    }

    fn float(self, v: f64) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Float { .. } => Ok(prim(primitive::Value::FloatValue(v))),
            _ => Err(self.mismatch(format!("float {v}"))),
        }
    }

    fn string(self, v: &str) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::String | TypeDesc::Path => {
                Ok(prim(primitive::Value::StringValue(v.to_owned())))
            }
            TypeDesc::Char if v.chars().count() == 1 => {
                Ok(prim(primitive::Value::StringValue(v.to_owned())))
            }
            // A date crate's date-time (chrono) serializes as RFC 3339 text.
            TypeDesc::DateTime => {
                let (seconds, nanos) = time::parse(v)?;
                Ok(prim(primitive::Value::Datetime(prost_types::Timestamp {
                    seconds,
                    nanos: nanos as i32,
                })))
            }
            _ => Err(self.mismatch(format!("string {v:?}"))),
        }
    }
}

impl<'a> ser::Serializer for LiteralSerializer<'a> {
    type Ok = Literal;
    type Error = LiteralError;
    type SerializeSeq = SeqCollector<'a>;
    type SerializeTuple = SeqCollector<'a>;
    type SerializeTupleStruct = SeqCollector<'a>;
    type SerializeTupleVariant = Impossible<Literal, LiteralError>;
    type SerializeMap = MapCollector<'a>;
    type SerializeStruct = TimeCollector<'a>;
    type SerializeStructVariant = Impossible<Literal, LiteralError>;

    fn serialize_bool(self, v: bool) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Bool => Ok(prim(primitive::Value::Boolean(v))),
            _ => Err(self.mismatch(format!("bool {v}"))),
        }
    }
    fn serialize_i8(self, v: i8) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<Literal, LiteralError> {
        self.int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Literal, LiteralError> {
        self.int(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<Literal, LiteralError> {
        match i128::try_from(v) {
            Ok(v) => self.int(v),
            Err(_) => Err(LiteralError::IntegerOutOfRange {
                value: v.to_string(),
            }),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Literal, LiteralError> {
        self.float(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<Literal, LiteralError> {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Result<Literal, LiteralError> {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<Literal, LiteralError> {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Literal, LiteralError> {
        // serde_bytes' Vec<u8>: described as a list of integers, as `Vec<u8>` is.
        match self.desc {
            TypeDesc::List { of } | TypeDesc::Set { of }
                if matches!(**of, TypeDesc::Integer { .. }) =>
            {
                Ok(collection(
                    v.iter()
                        .map(|b| prim(primitive::Value::Integer(i64::from(*b))))
                        .collect(),
                ))
            }
            _ => Err(self.mismatch(format!("{} bytes", v.len()))),
        }
    }
    fn serialize_none(self) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Optional { .. } => Ok(union_none()),
            _ => Err(self.mismatch("none")),
        }
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Literal, LiteralError> {
        match self.desc {
            // Optional[Optional[T]] is Optional[T]: the inner optional already is the union.
            TypeDesc::Optional { of } if matches!(**of, TypeDesc::Optional { .. }) => {
                to_literal(value, of)
            }
            TypeDesc::Optional { of } => Ok(scalar(scalar::Value::Union(Box::new(Union {
                value: Some(Box::new(to_literal(value, of)?)),
                r#type: Some(types::union_variant(of)?),
            })))),
            // A value where the description has none: serde's `Some` wrapper is transparent.
            _ => Err(self.mismatch("an optional value")),
        }
    }
    fn serialize_unit(self) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Unit => Ok(none_literal()),
            _ => Err(self.mismatch("()")),
        }
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Unit => Ok(none_literal()),
            _ => Err(self.mismatch(format!("unit struct {name}"))),
        }
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Literal, LiteralError> {
        match self.desc {
            TypeDesc::Enum { variants, .. } if variants.iter().any(|v| v.name == variant) => {
                Ok(prim(primitive::Value::StringValue(variant.to_owned())))
            }
            _ => Err(self.mismatch(format!("variant {name}::{variant}"))),
        }
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Literal, LiteralError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<Literal, LiteralError> {
        Err(self.mismatch(format!("variant {name}::{variant}")))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqCollector<'a>, LiteralError> {
        match self.desc {
            TypeDesc::List { of } | TypeDesc::Set { of } => Ok(SeqCollector {
                of,
                items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            }),
            _ => Err(self.mismatch("a sequence")),
        }
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqCollector<'a>, LiteralError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        len: usize,
    ) -> Result<SeqCollector<'a>, LiteralError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, LiteralError> {
        Err(self.mismatch(format!("variant {name}::{variant}")))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapCollector<'a>, LiteralError> {
        match self.desc {
            TypeDesc::Map { of } => Ok(MapCollector {
                of,
                key: None,
                entries: BTreeMap::new(),
            }),
            _ => Err(self.mismatch("a map")),
        }
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<TimeCollector<'a>, LiteralError> {
        match self.desc {
            TypeDesc::Duration | TypeDesc::DateTime => Ok(TimeCollector {
                desc: self.desc,
                seconds: None,
                nanos: None,
            }),
            _ => Err(self.mismatch(format!("struct {name}"))),
        }
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, LiteralError> {
        Err(self.mismatch(format!("variant {name}::{variant}")))
    }
}

fn collection(literals: Vec<Literal>) -> Literal {
    Literal {
        value: Some(literal::Value::Collection(LiteralCollection { literals })),
        ..Literal::default()
    }
}

/// `union{value: none_type, type: {simple: NONE, structure{tag: "none"}}}`.
fn union_none() -> Literal {
    scalar(scalar::Value::Union(Box::new(Union {
        value: Some(Box::new(none_literal())),
        r#type: Some(types::union_variant(&TypeDesc::Unit).expect("the type of () is NONE")),
    })))
}

/// Elements of a list or set, each converted with the element description.
pub(super) struct SeqCollector<'a> {
    of: &'a TypeDesc,
    items: Vec<Literal>,
}

impl SeqCollector<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        let lit =
            to_literal(value, self.of).map_err(|e| e.at(format_args!("[{}]", self.items.len())))?;
        self.items.push(lit);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqCollector<'_> {
    type Ok = Literal;
    type Error = LiteralError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.push(value)
    }
    fn end(self) -> Result<Literal, LiteralError> {
        Ok(collection(self.items))
    }
}

impl ser::SerializeTuple for SeqCollector<'_> {
    type Ok = Literal;
    type Error = LiteralError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.push(value)
    }
    fn end(self) -> Result<Literal, LiteralError> {
        Ok(collection(self.items))
    }
}

impl ser::SerializeTupleStruct for SeqCollector<'_> {
    type Ok = Literal;
    type Error = LiteralError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.push(value)
    }
    fn end(self) -> Result<Literal, LiteralError> {
        Ok(collection(self.items))
    }
}

/// Entries of a string-keyed map.
pub(super) struct MapCollector<'a> {
    of: &'a TypeDesc,
    key: Option<String>,
    entries: BTreeMap<String, Literal>,
}

/// A map key: it must serialize as a string.
fn key_string<T: Serialize + ?Sized>(key: &T) -> Result<String, LiteralError> {
    let lit = to_literal(key, &TypeDesc::String)
        .map_err(|e| LiteralError::mismatch("a string map key", e.to_string()))?;
    match lit.value {
        Some(literal::Value::Scalar(s)) => match s.value {
            Some(scalar::Value::Primitive(Primitive {
                value: Some(primitive::Value::StringValue(s)),
            })) => Ok(s),
            _ => unreachable!("a STRING literal is a string primitive"),
        },
        _ => unreachable!("a STRING literal is a scalar"),
    }
}

impl ser::SerializeMap for MapCollector<'_> {
    type Ok = Literal;
    type Error = LiteralError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), LiteralError> {
        self.key = Some(key_string(key)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| LiteralError::Custom("map value without a key".into()))?;
        let lit = to_literal(value, self.of).map_err(|e| e.at(format_args!("[{key:?}]")))?;
        self.entries.insert(key, lit);
        Ok(())
    }
    fn end(self) -> Result<Literal, LiteralError> {
        Ok(Literal {
            value: Some(literal::Value::Map(LiteralMap {
                literals: self.entries,
            })),
            ..Literal::default()
        })
    }
}

/// `std::time::Duration` (`{secs, nanos}`) or `SystemTime` (`{secs_since_epoch,
/// nanos_since_epoch}`) as serde writes them.
pub(super) struct TimeCollector<'a> {
    desc: &'a TypeDesc,
    seconds: Option<i128>,
    nanos: Option<i128>,
}

/// An unsigned integer field of a time struct.
fn int_field<T: Serialize + ?Sized>(value: &T) -> Result<i128, LiteralError> {
    match to_literal(
        value,
        &TypeDesc::Integer {
            bits: 64,
            signed: false,
        },
    ) {
        Ok(Literal {
            value: Some(literal::Value::Scalar(s)),
            ..
        }) => match s.value {
            Some(scalar::Value::Primitive(Primitive {
                value: Some(primitive::Value::Integer(i)),
            })) => Ok(i.into()),
            _ => unreachable!("an INTEGER literal is an integer primitive"),
        },
        Ok(_) => unreachable!("an INTEGER literal is a scalar"),
        Err(e) => Err(e),
    }
}

impl ser::SerializeStruct for TimeCollector<'_> {
    type Ok = Literal;
    type Error = LiteralError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), LiteralError> {
        match key {
            "secs" | "secs_since_epoch" => self.seconds = Some(int_field(value)?),
            "nanos" | "nanos_since_epoch" => self.nanos = Some(int_field(value)?),
            other => {
                return Err(LiteralError::mismatch(
                    self.desc,
                    format!("a struct with field {other}"),
                ))
            }
        }
        Ok(())
    }
    fn end(self) -> Result<Literal, LiteralError> {
        let (Some(seconds), Some(nanos)) = (self.seconds, self.nanos) else {
            return Err(LiteralError::mismatch(
                self.desc,
                "a struct without seconds and nanoseconds",
            ));
        };
        if !(0..1_000_000_000).contains(&nanos) {
            return Err(LiteralError::DurationOutOfRange {
                seconds,
                nanos: nanos as i64,
                why: "nanoseconds must be below one second",
            });
        }
        let nanos = nanos as i32;
        if let TypeDesc::DateTime = self.desc {
            let seconds = i64::try_from(seconds)
                .map_err(|_| LiteralError::DateTimeOutOfRange { seconds: i64::MAX })?;
            time::check_range(seconds)?;
            return Ok(prim(primitive::Value::Datetime(prost_types::Timestamp {
                seconds,
                nanos,
            })));
        }
        let seconds = i64::try_from(seconds).map_err(|_| LiteralError::DurationOutOfRange {
            seconds,
            nanos: nanos.into(),
            why: "Flyte's duration holds at most i64::MAX seconds",
        })?;
        Ok(prim(primitive::Value::Duration(prost_types::Duration {
            seconds,
            nanos,
        })))
    }
}
