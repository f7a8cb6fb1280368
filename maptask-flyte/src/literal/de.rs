//! The serde `Deserializer` that reads a Rust value out of a `Literal`, guided by its
//! `TypeDesc`. A literal of another kind than the description asks for is an error that names
//! both; nothing is coerced (flytekit reads an integer as a float, this does not).

use maptask_core::TypeDesc;
use serde::de::{self, IntoDeserializer, Visitor};

use super::msgpack::{self, visit_time, MsgpackDeserializer};
use super::{is_msgpack, time, LiteralError, MSGPACK_TAG};
use crate::proto::core::{literal, primitive, scalar, Literal, Primitive, Scalar};

/// A serde `Deserializer` over a Flyte [`Literal`] whose type is described by a [`TypeDesc`].
///
/// [`from_literal`](super::from_literal) is `T::deserialize(LiteralDeserializer::new(lit, desc))`;
/// the deserializer itself is public so that it can be type-erased (`erased_serde`).
#[derive(Debug, Clone, Copy)]
pub struct LiteralDeserializer<'a> {
    lit: &'a Literal,
    desc: &'a TypeDesc,
}

impl<'a> LiteralDeserializer<'a> {
    /// A deserializer reading `lit` as a value of the type `desc`.
    pub fn new(lit: &'a Literal, desc: &'a TypeDesc) -> LiteralDeserializer<'a> {
        LiteralDeserializer { lit, desc }
    }

    fn mismatch(&self) -> LiteralError {
        LiteralError::mismatch(self.desc, describe(self.lit))
    }

    fn scalar(&self) -> Option<&'a scalar::Value> {
        match &self.lit.value {
            Some(literal::Value::Scalar(s)) => s.value.as_ref(),
            _ => None,
        }
    }

    fn primitive(&self) -> Result<&'a primitive::Value, LiteralError> {
        match self.scalar() {
            Some(scalar::Value::Primitive(Primitive { value: Some(p) })) => Ok(p),
            _ => Err(self.mismatch()),
        }
    }

    fn string(&self) -> Result<&'a str, LiteralError> {
        match self.primitive()? {
            primitive::Value::StringValue(s) => Ok(s),
            _ => Err(self.mismatch()),
        }
    }

    /// Decodes the msgpack `scalar.binary` of a struct-like value and reads it with `f`.
    fn with_msgpack<R>(
        self,
        f: impl FnOnce(MsgpackDeserializer<'_>) -> Result<R, LiteralError>,
    ) -> Result<R, LiteralError> {
        match self.scalar() {
            Some(scalar::Value::Binary(b)) if b.tag == MSGPACK_TAG => {
                let value = msgpack::decode(&b.value)?;
                f(MsgpackDeserializer {
                    value: &value,
                    desc: Some(self.desc),
                })
            }
            _ => Err(self.mismatch()),
        }
    }

    /// `(seconds, nanos)` of a datetime or duration primitive.
    fn time(&self) -> Result<(i64, u32), LiteralError> {
        let (seconds, nanos) = match (self.desc, self.primitive()?) {
            (TypeDesc::DateTime, primitive::Value::Datetime(t)) => (t.seconds, t.nanos),
            (TypeDesc::Duration, primitive::Value::Duration(d)) => (d.seconds, d.nanos),
            _ => return Err(self.mismatch()),
        };
        // Normalise protobuf's sign convention (a duration's nanos share the seconds' sign).
        let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
        let (s, n) = (
            total.div_euclid(1_000_000_000),
            total.rem_euclid(1_000_000_000) as u32,
        );
        let s = i64::try_from(s).map_err(|_| LiteralError::DurationOutOfRange {
            seconds: s,
            nanos: n.into(),
            why: "beyond i64 seconds",
        })?;
        if let TypeDesc::DateTime = self.desc {
            time::check_range(s)?;
        }
        Ok((s, n))
    }

    /// The literal inside a union, or the literal itself when it is not one (a bare value, as
    /// a non-optional element writes it).
    fn unwrapped(self) -> LiteralDeserializer<'a> {
        match self.scalar() {
            Some(scalar::Value::Union(u)) => match &u.value {
                Some(v) => LiteralDeserializer {
                    lit: v,
                    desc: self.desc,
                },
                None => self,
            },
            _ => self,
        }
    }

    fn is_none(&self) -> bool {
        matches!(self.scalar(), Some(scalar::Value::NoneType(_)))
    }
}

/// A short description of a literal's kind, for error messages.
pub(crate) fn describe(lit: &Literal) -> String {
    match &lit.value {
        None => "an empty literal".into(),
        Some(literal::Value::Collection(c)) => format!("a collection of {}", c.literals.len()),
        Some(literal::Value::Map(m)) => format!("a map of {}", m.literals.len()),
        Some(literal::Value::OffloadedMetadata(o)) => format!("an offloaded literal at {}", o.uri),
        Some(literal::Value::Scalar(s)) => match &**s {
            Scalar { value: None } => "an empty scalar".into(),
            Scalar { value: Some(v) } => match v {
                scalar::Value::Primitive(p) => match &p.value {
                    None => "an empty primitive".into(),
                    Some(primitive::Value::Integer(i)) => format!("integer {i}"),
                    Some(primitive::Value::FloatValue(f)) => format!("float {f}"),
                    Some(primitive::Value::StringValue(s)) => format!("string {s:?}"),
                    Some(primitive::Value::Boolean(b)) => format!("boolean {b}"),
                    Some(primitive::Value::Datetime(t)) => {
                        format!("datetime {}s {}ns", t.seconds, t.nanos)
                    }
                    Some(primitive::Value::Duration(d)) => {
                        format!("duration {}s {}ns", d.seconds, d.nanos)
                    }
                },
                scalar::Value::Blob(b) => format!("a blob at {}", b.uri),
                scalar::Value::Binary(b) => {
                    format!("binary of {} bytes tagged {:?}", b.value.len(), b.tag)
                }
                scalar::Value::Schema(_) => "a schema".into(),
                scalar::Value::NoneType(_) => "none".into(),
                scalar::Value::Error(e) => format!("an error from node {}", e.failed_node_id),
                scalar::Value::Generic(_) => "a generic struct".into(),
                scalar::Value::StructuredDataset(_) => "a structured dataset".into(),
                scalar::Value::Union(u) => match &u.value {
                    Some(v) => format!("a union of {}", describe(v)),
                    None => "an empty union".into(),
                },
            },
        },
    }
}

/// Forwards a `deserialize_*` call to the msgpack reader when the description is struct-like.
macro_rules! via_msgpack {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        if is_msgpack($self.desc) {
            return $self.with_msgpack(|d| de::Deserializer::$method(d, $($arg),*));
        }
    };
}

impl<'de> de::Deserializer<'de> for LiteralDeserializer<'_> {
    type Error = LiteralError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_any(visitor));
        match self.desc {
            TypeDesc::Unit => match self.is_none() {
                true => visitor.visit_unit(),
                false => Err(self.mismatch()),
            },
            TypeDesc::Bool => match self.primitive()? {
                primitive::Value::Boolean(b) => visitor.visit_bool(*b),
                _ => Err(self.mismatch()),
            },
            TypeDesc::Integer { .. } => match self.primitive()? {
                primitive::Value::Integer(i) => visitor.visit_i64(*i),
                _ => Err(self.mismatch()),
            },
            TypeDesc::Float { bits } => match self.primitive()? {
                primitive::Value::FloatValue(f) if *bits == 32 => {
                    if f.is_finite() && f.abs() > f64::from(f32::MAX) {
                        return Err(LiteralError::FloatOutOfRange { value: *f });
                    }
                    visitor.visit_f32(*f as f32)
                }
                primitive::Value::FloatValue(f) => visitor.visit_f64(*f),
                _ => Err(self.mismatch()),
            },
            TypeDesc::String | TypeDesc::Path => visitor.visit_str(self.string()?),
            TypeDesc::Char => {
                let s = self.string()?;
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(LiteralError::mismatch(
                        "one character",
                        format!("string {s:?}"),
                    )),
                }
            }
            TypeDesc::Duration | TypeDesc::DateTime => {
                let (s, n) = self.time()?;
                visit_time(self.desc, s, n, visitor)
            }
            TypeDesc::List { of } | TypeDesc::Set { of } => match &self.lit.value {
                Some(literal::Value::Collection(c)) => visitor.visit_seq(SeqAccess {
                    items: c.literals.iter(),
                    index: 0,
                    of,
                }),
                _ => Err(self.mismatch()),
            },
            TypeDesc::Map { of } => match &self.lit.value {
                Some(literal::Value::Map(m)) => visitor.visit_map(MapAccess {
                    entries: m.literals.iter(),
                    value: None,
                    of,
                }),
                _ => Err(self.mismatch()),
            },
            TypeDesc::Optional { .. } => self.deserialize_option(visitor),
            TypeDesc::Enum { .. } => visitor.visit_str(self.string()?),
            TypeDesc::Struct { .. } | TypeDesc::Tuple { .. } | TypeDesc::Opaque { .. } => {
                Err(self.mismatch())
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        let TypeDesc::Optional { of } = self.desc else {
            // A non-optional description read into an `Option`: present when it decodes.
            return visitor.visit_some(self);
        };
        let inner = self.unwrapped();
        if inner.is_none() {
            return visitor.visit_none();
        }
        visitor.visit_some(LiteralDeserializer {
            lit: inner.lit,
            desc: of,
        })
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_str(visitor));
        match self.desc {
            // A date crate's date-time (chrono) reads RFC 3339 text.
            TypeDesc::DateTime => {
                let (s, n) = self.time()?;
                visitor.visit_string(time::rfc3339(s, n))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_enum(name, variants, visitor));
        match self.desc {
            TypeDesc::Enum { .. } => visitor.visit_enum(self.string()?.into_deserializer()),
            _ => Err(self.mismatch()),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_struct(name, fields, visitor));
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_tuple(len, visitor));
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_tuple_struct(name, len, visitor));
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_newtype_struct(name, visitor));
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_map(visitor));
        self.deserialize_any(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_seq(visitor));
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        via_msgpack!(self, deserialize_unit_struct(name, visitor));
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit identifier
    }
}

struct SeqAccess<'a> {
    items: std::slice::Iter<'a, Literal>,
    index: usize,
    of: &'a TypeDesc,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = LiteralError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, LiteralError> {
        let Some(lit) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(LiteralDeserializer { lit, desc: self.of })
            .map(Some)
            .map_err(|e| e.at(format_args!("[{index}]")))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a> {
    entries: std::collections::btree_map::Iter<'a, String, Literal>,
    value: Option<(&'a String, &'a Literal)>,
    of: &'a TypeDesc,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = LiteralError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LiteralError> {
        let Some((key, lit)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, lit));
        let key: de::value::StrDeserializer<'_, LiteralError> = key.as_str().into_deserializer();
        seed.deserialize(key).map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LiteralError> {
        let (key, lit) = self
            .value
            .take()
            .ok_or_else(|| LiteralError::Custom("map value asked before its key".into()))?;
        seed.deserialize(LiteralDeserializer { lit, desc: self.of })
            .map_err(|e| e.at(format_args!("[{key:?}]")))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
