//! A tuple of values as one literal per element, each with its own description: how a map's
//! bound values (a tuple in declaration order) become node bindings.

use maptask_core::TypeDesc;
use serde::ser::{self, Impossible, Serialize};

use super::{ser::to_literal, LiteralError};
use crate::proto::core::Literal;

/// One literal per element of the tuple `value`, element `i` described by `descs[i]`. `()` is
/// the empty tuple.
pub fn tuple_to_literals<T: Serialize + ?Sized>(
    value: &T,
    descs: &[TypeDesc],
) -> Result<Vec<Literal>, LiteralError> {
    value.serialize(Splitter { descs })
}

struct Splitter<'a> {
    descs: &'a [TypeDesc],
}

struct Elements<'a> {
    descs: &'a [TypeDesc],
    out: Vec<Literal>,
}

fn not_a_tuple() -> LiteralError {
    LiteralError::mismatch("a tuple", "another value")
}

macro_rules! refuse {
    ($($method:ident($($ty:ty),*);)*) => {$(
        fn $method(self, $(_: $ty),*) -> Result<Vec<Literal>, LiteralError> {
            Err(not_a_tuple())
        }
    )*};
}

impl<'a> ser::Serializer for Splitter<'a> {
    type Ok = Vec<Literal>;
    type Error = LiteralError;
    type SerializeSeq = Impossible<Vec<Literal>, LiteralError>;
    type SerializeTuple = Elements<'a>;
    type SerializeTupleStruct = Impossible<Vec<Literal>, LiteralError>;
    type SerializeTupleVariant = Impossible<Vec<Literal>, LiteralError>;
    type SerializeMap = Impossible<Vec<Literal>, LiteralError>;
    type SerializeStruct = Impossible<Vec<Literal>, LiteralError>;
    type SerializeStructVariant = Impossible<Vec<Literal>, LiteralError>;

    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_unit(self) -> Result<Vec<Literal>, LiteralError> {
        match self.descs {
            [] => Ok(Vec::new()),
            _ => Err(not_a_tuple()),
        }
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Vec<Literal>, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<Literal>, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Vec<Literal>, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_tuple(self, len: usize) -> Result<Elements<'a>, LiteralError> {
        if len != self.descs.len() {
            return Err(LiteralError::mismatch(
                format!("a tuple of {}", self.descs.len()),
                format!("a tuple of {len}"),
            ));
        }
        Ok(Elements {
            descs: self.descs,
            out: Vec::with_capacity(len),
        })
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, LiteralError> {
        Err(not_a_tuple())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, LiteralError> {
        Err(not_a_tuple())
    }
}

impl ser::SerializeTuple for Elements<'_> {
    type Ok = Vec<Literal>;
    type Error = LiteralError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), LiteralError> {
        let i = self.out.len();
        let desc = self.descs.get(i).ok_or_else(not_a_tuple)?;
        self.out
            .push(to_literal(value, desc).map_err(|e| e.at(format_args!(".{i}")))?);
        Ok(())
    }
    fn end(self) -> Result<Vec<Literal>, LiteralError> {
        Ok(self.out)
    }
}
