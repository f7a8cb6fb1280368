//! The msgpack that flytekit 1.16.31 (mashumaro + msgpack-python) writes for a dataclass, and
//! reading it back, both guided by the `TypeDesc` where one is known.
//!
//! Python has one int and one float type, so: every integer takes its smallest encoding
//! (non-negative ones unsigned), every float is float64, a struct is a map keyed by field name
//! in declaration order, `None` is nil, a unit variant is its name, a variant with data is a
//! one-entry map `{name: data}`. Inside a described struct a date-time is Python's
//! `isoformat()` text and a duration is float seconds, as mashumaro writes them.

use maptask_core::TypeDesc;
use rmpv::Value;
use serde::de::{self, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};

use super::{time, LiteralError};

/// Nesting deeper than this is refused when decoding, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 128;

fn werr<E: std::fmt::Display>(e: E) -> LiteralError {
    LiteralError::Msgpack(e.to_string())
}

/// Encodes `value` as flytekit would encode the equivalent Python value.
pub(super) fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    desc: Option<&TypeDesc>,
) -> Result<Vec<u8>, LiteralError> {
    let mut out = Vec::new();
    value.serialize(MpSer {
        out: &mut out,
        desc,
    })?;
    Ok(out)
}

/// Decodes a whole msgpack payload: trailing bytes are an error, nesting is bounded.
pub(super) fn decode(mut bytes: &[u8]) -> Result<Value, LiteralError> {
    let value = rmpv::decode::read_value_with_max_depth(&mut bytes, MAX_DEPTH).map_err(werr)?;
    if !bytes.is_empty() {
        return Err(LiteralError::Msgpack(format!(
            "{} bytes after the value",
            bytes.len()
        )));
    }
    Ok(value)
}

/// The description of what a described value holds, after `Option` and `Box` are seen through.
fn inner(desc: Option<&TypeDesc>) -> Option<&TypeDesc> {
    match desc {
        Some(TypeDesc::Optional { of }) => inner(Some(of)),
        d => d,
    }
}

fn field_desc<'a>(desc: Option<&'a TypeDesc>, key: &str) -> Option<&'a TypeDesc> {
    match inner(desc) {
        Some(TypeDesc::Struct { fields, .. }) => {
            fields.iter().find(|f| f.name == key).map(|f| &f.ty)
        }
        Some(TypeDesc::Map { of }) => Some(of),
        _ => None,
    }
}

fn element_desc(desc: Option<&TypeDesc>, index: usize) -> Option<&TypeDesc> {
    match inner(desc) {
        Some(TypeDesc::List { of } | TypeDesc::Set { of }) => Some(of),
        Some(TypeDesc::Tuple { of }) => of.get(index),
        _ => None,
    }
}

fn variant_desc<'a>(desc: Option<&'a TypeDesc>, variant: &str) -> Option<&'a TypeDesc> {
    match inner(desc) {
        Some(TypeDesc::Enum { variants, .. }) => variants
            .iter()
            .find(|v| v.name == variant)?
            .payload
            .as_ref(),
        _ => None,
    }
}

struct MpSer<'a> {
    out: &'a mut Vec<u8>,
    desc: Option<&'a TypeDesc>,
}

impl<'a> MpSer<'a> {
    fn int(self, v: i128) -> Result<(), LiteralError> {
        if let Ok(u) = u64::try_from(v) {
            rmp::encode::write_uint(self.out, u).map_err(werr)?;
        } else if let Ok(i) = i64::try_from(v) {
            rmp::encode::write_sint(self.out, i).map_err(werr)?;
        } else {
            return Err(LiteralError::IntegerOutOfRange {
                value: v.to_string(),
            });
        }
        Ok(())
    }

    fn str(self, v: &str) -> Result<(), LiteralError> {
        if let Some(TypeDesc::DateTime) = inner(self.desc) {
            // A date crate's RFC 3339 text, rewritten the way Python's isoformat() writes it.
            let (s, n) = time::parse(v)?;
            rmp::encode::write_str(self.out, &time::python_isoformat(s, n)).map_err(werr)?;
            return Ok(());
        }
        rmp::encode::write_str(self.out, v).map_err(werr)
    }

    fn compound(self, kind: Kind, variant: Option<&'static str>) -> Compound<'a> {
        let desc = match variant {
            Some(v) => variant_desc(self.desc, v),
            None => inner(self.desc),
        };
        Compound {
            out: self.out,
            buf: Vec::new(),
            count: 0,
            kind,
            variant,
            desc,
        }
    }
}

impl<'a> ser::Serializer for MpSer<'a> {
    type Ok = ();
    type Error = LiteralError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = StructSer<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), LiteralError> {
        rmp::encode::write_bool(self.out, v).map_err(werr)
    }
    fn serialize_i8(self, v: i8) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<(), LiteralError> {
        self.int(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), LiteralError> {
        self.int(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<(), LiteralError> {
        match u64::try_from(v) {
            Ok(v) => self.int(v.into()),
            Err(_) => Err(LiteralError::IntegerOutOfRange {
                value: v.to_string(),
            }),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), LiteralError> {
        // Python's float is a double: flytekit always writes float64.
        rmp::encode::write_f64(self.out, v.into()).map_err(werr)
    }
    fn serialize_f64(self, v: f64) -> Result<(), LiteralError> {
        rmp::encode::write_f64(self.out, v).map_err(werr)
    }
    fn serialize_char(self, v: char) -> Result<(), LiteralError> {
        self.str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), LiteralError> {
        self.str(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), LiteralError> {
        rmp::encode::write_bin(self.out, v).map_err(werr)
    }
    fn serialize_none(self) -> Result<(), LiteralError> {
        rmp::encode::write_nil(self.out).map_err(werr)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), LiteralError> {
        value.serialize(MpSer {
            out: self.out,
            desc: inner(self.desc),
        })
    }
    fn serialize_unit(self) -> Result<(), LiteralError> {
        rmp::encode::write_nil(self.out).map_err(werr)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), LiteralError> {
        rmp::encode::write_nil(self.out).map_err(werr)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), LiteralError> {
        rmp::encode::write_str(self.out, variant).map_err(werr)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), LiteralError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), LiteralError> {
        let desc = variant_desc(self.desc, variant);
        rmp::encode::write_map_len(self.out, 1).map_err(werr)?;
        rmp::encode::write_str(self.out, variant).map_err(werr)?;
        value.serialize(MpSer {
            out: self.out,
            desc,
        })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, LiteralError> {
        Ok(self.compound(Kind::Array, None))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, LiteralError> {
        Ok(self.compound(Kind::Array, None))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, LiteralError> {
        Ok(self.compound(Kind::Array, None))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, LiteralError> {
        Ok(self.compound(Kind::Array, Some(variant)))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, LiteralError> {
        Ok(self.compound(Kind::Map, None))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<StructSer<'a>, LiteralError> {
        Ok(match inner(self.desc) {
            Some(d @ (TypeDesc::Duration | TypeDesc::DateTime)) => StructSer::Time {
                out: self.out,
                desc: d,
                seconds: None,
                nanos: None,
            },
            _ => StructSer::Fields(self.compound(Kind::Map, None)),
        })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, LiteralError> {
        Ok(self.compound(Kind::Map, Some(variant)))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Array,
    Map,
}

/// An array or map: its items are buffered so the header can carry the count.
pub(super) struct Compound<'a> {
    out: &'a mut Vec<u8>,
    buf: Vec<u8>,
    count: u32,
    kind: Kind,
    /// Set for a tuple or struct variant: the whole is wrapped in `{variant: ...}`.
    variant: Option<&'static str>,
    desc: Option<&'a TypeDesc>,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        let desc = element_desc(self.desc, self.count as usize);
        value.serialize(MpSer {
            out: &mut self.buf,
            desc,
        })?;
        self.count += 1;
        Ok(())
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), LiteralError> {
        key.serialize(MpSer {
            out: &mut self.buf,
            desc: None,
        })
    }

    fn value<T: Serialize + ?Sized>(
        &mut self,
        desc: Option<&TypeDesc>,
        value: &T,
    ) -> Result<(), LiteralError> {
        value.serialize(MpSer {
            out: &mut self.buf,
            desc,
        })?;
        self.count += 1;
        Ok(())
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), LiteralError> {
        rmp::encode::write_str(&mut self.buf, key).map_err(werr)?;
        let desc = field_desc(self.desc, key);
        self.value(desc, value)
            .map_err(|e| e.at(format_args!(".{key}")))
    }

    fn finish(self) -> Result<(), LiteralError> {
        if let Some(variant) = self.variant {
            rmp::encode::write_map_len(self.out, 1).map_err(werr)?;
            rmp::encode::write_str(self.out, variant).map_err(werr)?;
        }
        match self.kind {
            Kind::Array => rmp::encode::write_array_len(self.out, self.count).map_err(werr)?,
            Kind::Map => rmp::encode::write_map_len(self.out, self.count).map_err(werr)?,
        };
        self.out.extend_from_slice(&self.buf);
        Ok(())
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.element(value)
    }
    fn end(self) -> Result<(), LiteralError> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.element(value)
    }
    fn end(self) -> Result<(), LiteralError> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.element(value)
    }
    fn end(self) -> Result<(), LiteralError> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        self.element(value)
    }
    fn end(self) -> Result<(), LiteralError> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), LiteralError> {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        let desc = match self.desc {
            Some(TypeDesc::Map { of }) => Some(&**of),
            _ => None,
        };
        self.value(desc, value)
    }
    fn end(self) -> Result<(), LiteralError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), LiteralError> {
        self.field(key, value)
    }
    fn end(self) -> Result<(), LiteralError> {
        self.finish()
    }
}

/// A struct: its fields, or a `Duration`/`SystemTime` turned into what mashumaro writes.
pub(super) enum StructSer<'a> {
    Fields(Compound<'a>),
    Time {
        out: &'a mut Vec<u8>,
        desc: &'a TypeDesc,
        seconds: Option<u64>,
        nanos: Option<u64>,
    },
}

fn u64_of<T: Serialize + ?Sized>(value: &T) -> Result<u64, LiteralError> {
    let bytes = to_vec(value, None)?;
    decode(&bytes)?
        .as_u64()
        .ok_or_else(|| LiteralError::Custom("a time field is not an unsigned integer".into()))
}

impl ser::SerializeStruct for StructSer<'_> {
    type Ok = ();
    type Error = LiteralError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), LiteralError> {
        match self {
            StructSer::Fields(c) => c.field(key, value),
            StructSer::Time {
                seconds,
                nanos,
                desc,
                ..
            } => {
                match key {
                    "secs" | "secs_since_epoch" => *seconds = Some(u64_of(value)?),
                    "nanos" | "nanos_since_epoch" => *nanos = Some(u64_of(value)?),
                    other => {
                        return Err(LiteralError::mismatch(
                            desc,
                            format!("a struct with field {other}"),
                        ))
                    }
                }
                Ok(())
            }
        }
    }
    fn end(self) -> Result<(), LiteralError> {
        match self {
            StructSer::Fields(c) => c.finish(),
            StructSer::Time {
                out,
                desc,
                seconds,
                nanos,
            } => {
                let (Some(s), Some(n)) = (seconds, nanos) else {
                    return Err(LiteralError::mismatch(
                        desc,
                        "a struct without seconds and nanoseconds",
                    ));
                };
                let n = u32::try_from(n).ok().filter(|n| *n < 1_000_000_000).ok_or(
                    LiteralError::DurationOutOfRange {
                        seconds: s.into(),
                        nanos: n as i64,
                        why: "nanoseconds must be below one second",
                    },
                )?;
                if let TypeDesc::DateTime = desc {
                    let s = i64::try_from(s)
                        .map_err(|_| LiteralError::DateTimeOutOfRange { seconds: i64::MAX })?;
                    time::check_range(s)?;
                    rmp::encode::write_str(out, &time::python_isoformat(s, n)).map_err(werr)
                } else {
                    // timedelta.total_seconds(): whole microseconds / 10**6, correctly rounded.
                    let micros = u128::from(s) * 1_000_000 + u128::from(n / 1000);
                    rmp::encode::write_f64(out, micros as f64 / 1e6).map_err(werr)
                }
            }
        }
    }
}

/// Reads a decoded msgpack value into a serde type, guided by its description where known.
pub(super) struct MsgpackDeserializer<'a> {
    pub(super) value: &'a Value,
    pub(super) desc: Option<&'a TypeDesc>,
}

fn found(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Boolean(b) => format!("bool {b}"),
        Value::Integer(i) => format!("integer {i}"),
        Value::F32(f) => format!("float {f}"),
        Value::F64(f) => format!("float {f}"),
        Value::String(s) => format!("string {:?}", s.as_str().unwrap_or("<invalid UTF-8>")),
        Value::Binary(b) => format!("{} bytes", b.len()),
        Value::Array(a) => format!("an array of {}", a.len()),
        Value::Map(m) => format!("a map of {}", m.len()),
        Value::Ext(t, _) => format!("extension type {t}"),
    }
}

impl<'a> MsgpackDeserializer<'a> {
    fn mismatch(&self, expected: &str) -> LiteralError {
        LiteralError::mismatch(expected, found(self.value))
    }

    /// seconds and nanoseconds of a described date-time or duration, as mashumaro wrote it.
    fn time(&self, desc: &TypeDesc) -> Result<(i64, u32), LiteralError> {
        match (desc, self.value) {
            (TypeDesc::DateTime, Value::String(s)) => {
                time::parse(s.as_str().ok_or_else(|| self.mismatch("date-time text"))?)
            }
            (TypeDesc::Duration, v) => {
                let secs = v
                    .as_f64()
                    .ok_or_else(|| self.mismatch("duration seconds"))?;
                if !secs.is_finite() || secs.abs() >= 9.2e18 {
                    return Err(self.mismatch("finite duration seconds"));
                }
                // timedelta(seconds=f): whole seconds, then the fraction rounded half-even to
                // the microsecond (splitting first keeps the fraction exact).
                let whole = secs.floor();
                let micros = ((secs - whole) * 1e6).round_ties_even() as i64;
                let (whole, micros) = (whole as i64 + micros / 1_000_000, micros % 1_000_000);
                Ok((whole, micros as u32 * 1000))
            }
            _ => Err(self.mismatch("date-time text")),
        }
    }
}

/// `(secs, nanos)` as the seq `std::time::Duration` and `SystemTime` deserialize from.
pub(super) fn visit_time<'de, V: Visitor<'de>>(
    desc: &TypeDesc,
    seconds: i64,
    nanos: u32,
    visitor: V,
) -> Result<V::Value, LiteralError> {
    let seconds = u64::try_from(seconds).map_err(|_| match desc {
        TypeDesc::DateTime => LiteralError::mismatch(
            "a date-time from 1970 on (SystemTime)",
            format!("{seconds} s before the epoch"),
        ),
        _ => LiteralError::DurationOutOfRange {
            seconds: seconds.into(),
            nanos: nanos.into(),
            why: "std::time::Duration cannot be negative",
        },
    })?;
    visitor.visit_seq(de::value::SeqDeserializer::new(
        [seconds, u64::from(nanos)].into_iter(),
    ))
}

impl<'de> de::Deserializer<'de> for MsgpackDeserializer<'_> {
    type Error = LiteralError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        match self.value {
            Value::Nil => visitor.visit_unit(),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
                (Some(u), _) => visitor.visit_u64(u),
                (None, Some(i)) => visitor.visit_i64(i),
                (None, None) => Err(self.mismatch("an integer")),
            },
            Value::F32(f) => visitor.visit_f32(*f),
            Value::F64(f) => visitor.visit_f64(*f),
            Value::String(s) => match s.as_str() {
                Some(s) => visitor.visit_str(s),
                None => Err(self.mismatch("UTF-8 text")),
            },
            Value::Binary(b) => visitor.visit_bytes(b),
            Value::Array(items) => visitor.visit_seq(SeqAccess {
                items: items.iter(),
                index: 0,
                desc: self.desc,
            }),
            Value::Map(entries) => visitor.visit_map(MapAccess {
                entries: entries.iter(),
                value: None,
                desc: self.desc,
            }),
            Value::Ext(..) => Err(self.mismatch("a value")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        match self.value {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(MsgpackDeserializer {
                value: self.value,
                desc: inner(self.desc),
            }),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        match inner(self.desc) {
            Some(d @ (TypeDesc::DateTime | TypeDesc::Duration))
                if !matches!(self.value, Value::Map(_)) =>
            {
                let (s, n) = self.time(d)?;
                visit_time(d, s, n, visitor)
            }
            _ => {
                let _ = (name, fields);
                self.deserialize_any(visitor)
            }
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LiteralError> {
        match (inner(self.desc), self.value) {
            // A date crate reading mashumaro's isoformat(): hand it RFC 3339.
            (Some(TypeDesc::DateTime), Value::String(_)) => {
                let (s, n) = self.time(&TypeDesc::DateTime)?;
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
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        match self.value {
            Value::String(s) => match s.as_str() {
                Some(s) => visitor.visit_enum(s.into_deserializer()),
                None => Err(self.mismatch("UTF-8 text")),
            },
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                let name = key
                    .as_str()
                    .ok_or_else(|| self.mismatch("a variant name"))?;
                visitor.visit_enum(EnumAccess {
                    name,
                    value,
                    desc: variant_desc(self.desc, name),
                })
            }
            _ => Err(self.mismatch("an enum variant (a name or a one-entry map)")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit unit_struct seq tuple
        tuple_struct map identifier
    }
}

struct SeqAccess<'a> {
    items: std::slice::Iter<'a, Value>,
    index: usize,
    desc: Option<&'a TypeDesc>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = LiteralError;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, LiteralError> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        let desc = element_desc(self.desc, index);
        seed.deserialize(MsgpackDeserializer { value, desc })
            .map(Some)
            .map_err(|e| e.at(format_args!("[{index}]")))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'a> {
    entries: std::slice::Iter<'a, (Value, Value)>,
    value: Option<(&'a Value, Option<&'a TypeDesc>, String)>,
    desc: Option<&'a TypeDesc>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = LiteralError;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LiteralError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let (desc, at) = match key.as_str() {
            Some(k) => (field_desc(self.desc, k), format!(".{k}")),
            None => (None, format!("[{key}]")),
        };
        self.value = Some((value, desc, at));
        seed.deserialize(MsgpackDeserializer {
            value: key,
            desc: None,
        })
        .map(Some)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LiteralError> {
        let (value, desc, at) = self
            .value
            .take()
            .ok_or_else(|| LiteralError::Custom("map value asked before its key".into()))?;
        seed.deserialize(MsgpackDeserializer { value, desc })
            .map_err(|e| e.at(at))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumAccess<'a> {
    name: &'a str,
    value: &'a Value,
    desc: Option<&'a TypeDesc>,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = LiteralError;
    type Variant = MsgpackDeserializer<'a>;
    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), LiteralError> {
        let name: de::value::StrDeserializer<'_, LiteralError> = self.name.into_deserializer();
        let variant = seed.deserialize(name)?;
        Ok((
            variant,
            MsgpackDeserializer {
                value: self.value,
                desc: self.desc,
            },
        ))
    }
}

impl<'de> de::VariantAccess<'de> for MsgpackDeserializer<'_> {
    type Error = LiteralError;
    fn unit_variant(self) -> Result<(), LiteralError> {
        match self.value {
            Value::Nil => Ok(()),
            _ => Err(self.mismatch("a unit variant")),
        }
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, LiteralError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LiteralError> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}
