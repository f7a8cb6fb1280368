//! The canonical encoding of an input value: the bytes a cache key is hashed from.
//!
//! The bytes depend only on the value, never on the run, the process or the machine: no
//! pointer, no hasher seed, no platform width. Every value of serde's data model gets a one-byte
//! tag followed by its payload:
//!
//! | value | bytes |
//! |---|---|
//! | `()` | `00` |
//! | `bool` | `01` (false) or `02` (true) |
//! | `i8` … `i128` | `10` … `14`, then the value in little-endian, at its own width |
//! | `u8` … `u128` | `18` … `1C`, then the value in little-endian, at its own width |
//! | `f32`, `f64` | `20`, `21`, then the IEEE bits in little-endian; every NaN is written as the canonical quiet NaN |
//! | `char` | `22`, then the scalar value as `u32` |
//! | string | `30`, length as `u64`, UTF-8 bytes |
//! | bytes | `31`, length as `u64`, the bytes |
//! | `None` / `Some(v)` | `40` / `41` then `v` |
//! | unit struct / newtype struct | `50` / `51` then the inner value (the type's name is not written) |
//! | sequence | `52`, count as `u64`, the elements in order |
//! | `HashSet` (unordered set) | `53`, count, the elements sorted by their own encodings |
//! | tuple / tuple struct | `54` / `55`, count, the elements in order |
//! | map | `56`, count, the entries (key then value) sorted by the key's encoding |
//! | struct | `57`, count, then each field as (name as string payload, value) in declaration order |
//! | enum variant | `60` unit, `61` newtype, `62` tuple, `63` struct; then the variant's *name* (never its index) and its payload as for the struct kinds |
//!
//! Lengths and counts are `u64` little-endian, so 32- and 64-bit machines agree.
//!
//! **Unordered collections.** Every serde map is written with its entries sorted, so a
//! `HashMap`'s random iteration order never changes the key (a map whose order carries meaning,
//! such as an `IndexMap`, is treated as unordered too). Serde hands a `HashSet` over as a plain
//! sequence; the encoder recognises a set by the Rust type it is given (`…::HashSet<…>`, also
//! behind `&`, `Box`, `Rc` or `Arc`, from `std` or `hashbrown`) and sorts its elements. A set
//! type it does not recognise is written in iteration order; its key may then differ between
//! processes, which costs a miss, never a wrong hit.

use std::any::type_name;
use std::fmt;

use serde::ser::{self, Serialize};

/// A value that could not be encoded: its `Serialize` implementation returned an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a cache input: {0}")]
pub struct EncodeError(pub String);

impl ser::Error for EncodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

/// Appends the canonical encoding of `value` to `out`.
///
/// ```
/// use std::collections::HashMap;
/// let mut a = HashMap::new();
/// let mut b = HashMap::new();
/// for i in 0..100 { a.insert(i, i * 2); }
/// for i in (0..100).rev() { b.insert(i, i * 2); }
/// let (mut x, mut y) = (Vec::new(), Vec::new());
/// maptask_cache::canonical::encode(&a, &mut x).unwrap();
/// maptask_cache::canonical::encode(&b, &mut y).unwrap();
/// assert_eq!(x, y);
/// ```
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode_typed(value, out)
}

/// The canonical encoding of `value`, as a new vector.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}

// Tags; see the module's table.
const UNIT: u8 = 0x00;
const FALSE: u8 = 0x01;
const TRUE: u8 = 0x02;
const I8: u8 = 0x10;
const I16: u8 = 0x11;
const I32: u8 = 0x12;
const I64: u8 = 0x13;
const I128: u8 = 0x14;
const U8: u8 = 0x18;
const U16: u8 = 0x19;
const U32: u8 = 0x1A;
const U64: u8 = 0x1B;
const U128: u8 = 0x1C;
const F32: u8 = 0x20;
const F64: u8 = 0x21;
const CHAR: u8 = 0x22;
const STR: u8 = 0x30;
const BYTES: u8 = 0x31;
const NONE: u8 = 0x40;
const SOME: u8 = 0x41;
const UNIT_STRUCT: u8 = 0x50;
const NEWTYPE_STRUCT: u8 = 0x51;
const SEQ: u8 = 0x52;
const SET: u8 = 0x53;
const TUPLE: u8 = 0x54;
const TUPLE_STRUCT: u8 = 0x55;
const MAP: u8 = 0x56;
const STRUCT: u8 = 0x57;
const UNIT_VARIANT: u8 = 0x60;
const NEWTYPE_VARIANT: u8 = 0x61;
const TUPLE_VARIANT: u8 = 0x62;
const STRUCT_VARIANT: u8 = 0x63;

/// Encodes a value whose Rust type is known here, so an unordered set can be recognised.
fn encode_typed<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    value.serialize(Encoder {
        out,
        unordered: is_unordered_set::<T>(),
    })
}

/// Whether `T` is a hash set, possibly behind references and smart pointers.
fn is_unordered_set<T: ?Sized>() -> bool {
    let name = type_name::<T>();
    // Quick exit for the common case: most types never mention a set.
    if !name.contains("HashSet<") {
        return false;
    }
    let mut rest = name;
    loop {
        let stripped = rest
            .strip_prefix('&')
            .or_else(|| rest.strip_prefix("mut "))
            .or_else(|| strip_wrapper(rest));
        match stripped {
            Some(inner) => rest = inner,
            None => break,
        }
    }
    let path = rest.split('<').next().unwrap_or("");
    path == "HashSet" || path.ends_with("::HashSet")
}

fn strip_wrapper(name: &str) -> Option<&str> {
    const WRAPPERS: [&str; 3] = ["alloc::boxed::Box<", "alloc::rc::Rc<", "alloc::sync::Arc<"];
    WRAPPERS.iter().find_map(|w| name.strip_prefix(w))
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// Writes a count placeholder and returns where it is, to be patched by [`patch_count`].
fn reserve_count(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 8]);
    at
}

fn patch_count(out: &mut [u8], at: usize, count: u64) {
    out[at..at + 8].copy_from_slice(&count.to_le_bytes());
}

/// The serde serializer that writes the canonical encoding.
struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    /// The value being encoded is a hash set: sort its elements.
    unordered: bool,
}

/// A sequence, tuple, struct or variant whose elements are written in order.
struct Ordered<'a> {
    out: &'a mut Vec<u8>,
    count_at: usize,
    count: u64,
}

impl Ordered<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.count += 1;
        encode_typed(value, self.out)
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.count += 1;
        put_str(self.out, name);
        encode_typed(value, self.out)
    }

    fn finish(self) {
        patch_count(self.out, self.count_at, self.count);
    }
}

/// A set or map whose entries are sorted before they are written.
struct Unordered<'a> {
    out: &'a mut Vec<u8>,
    /// Each entry's encoding, and for maps the length of its key's encoding.
    entries: Vec<(Vec<u8>, usize)>,
}

impl Unordered<'_> {
    fn finish(mut self) {
        // Sorting by the key's bytes first gives one order for any iteration order; keys are
        // unique in a map, and equal set elements encode equally, so ties are harmless.
        self.entries
            .sort_unstable_by(|(a, ka), (b, kb)| a[..*ka].cmp(&b[..*kb]).then(a.cmp(b)));
        put_len(self.out, self.entries.len());
        for (entry, _) in &self.entries {
            self.out.extend_from_slice(entry);
        }
    }
}

/// A sequence: in order, or sorted when it is a hash set.
enum Seq<'a> {
    Ordered(Ordered<'a>),
    Unordered(Unordered<'a>),
}

impl<'a> Encoder<'a> {
    fn ordered(self, tag: u8) -> Ordered<'a> {
        self.out.push(tag);
        let count_at = reserve_count(self.out);
        Ordered {
            out: self.out,
            count_at,
            count: 0,
        }
    }

    fn variant(self, tag: u8, name: &'static str) -> Ordered<'a> {
        self.out.push(tag);
        put_str(self.out, name);
        let count_at = reserve_count(self.out);
        Ordered {
            out: self.out,
            count_at,
            count: 0,
        }
    }
}

impl<'a> ser::Serializer for Encoder<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Ordered<'a>;
    type SerializeTupleStruct = Ordered<'a>;
    type SerializeTupleVariant = Ordered<'a>;
    type SerializeMap = MapEncoder<'a>;
    type SerializeStruct = Ordered<'a>;
    type SerializeStructVariant = Ordered<'a>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out.push(if v { TRUE } else { FALSE });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.out.push(I8);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.out.push(I16);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.out.push(I32);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.out.push(I64);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.out.push(I128);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.out.push(U8);
        self.out.push(v);
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.out.push(U16);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.out.push(U32);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.out.push(U64);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.out.push(U128);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        let v = if v.is_nan() { f32::NAN } else { v };
        self.out.push(F32);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        let v = if v.is_nan() { f64::NAN } else { v };
        self.out.push(F64);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        self.out.push(CHAR);
        self.out.extend_from_slice(&u32::from(v).to_le_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        self.out.push(STR);
        put_str(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        self.out.push(BYTES);
        put_len(self.out, v.len());
        self.out.extend_from_slice(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.push(NONE);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        self.out.push(SOME);
        encode_typed(value, self.out)
    }

    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.out.push(UNIT);
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        self.out.push(UNIT_STRUCT);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        self.out.push(UNIT_VARIANT);
        put_str(self.out, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.out.push(NEWTYPE_STRUCT);
        encode_typed(value, self.out)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.out.push(NEWTYPE_VARIANT);
        put_str(self.out, variant);
        encode_typed(value, self.out)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>, EncodeError> {
        if self.unordered {
            self.out.push(SET);
            Ok(Seq::Unordered(Unordered {
                out: self.out,
                entries: Vec::new(),
            }))
        } else {
            Ok(Seq::Ordered(self.ordered(SEQ)))
        }
    }

    fn serialize_tuple(self, _len: usize) -> Result<Ordered<'a>, EncodeError> {
        Ok(self.ordered(TUPLE))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Ordered<'a>, EncodeError> {
        Ok(self.ordered(TUPLE_STRUCT))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Ordered<'a>, EncodeError> {
        Ok(self.variant(TUPLE_VARIANT, variant))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapEncoder<'a>, EncodeError> {
        self.out.push(MAP);
        Ok(MapEncoder {
            entries: Unordered {
                out: self.out,
                entries: Vec::new(),
            },
            pending: None,
        })
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Ordered<'a>, EncodeError> {
        Ok(self.ordered(STRUCT))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Ordered<'a>, EncodeError> {
        Ok(self.variant(STRUCT_VARIANT, variant))
    }
}

impl ser::SerializeSeq for Seq<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        match self {
            Seq::Ordered(ordered) => ordered.element(value),
            Seq::Unordered(set) => {
                let mut entry = Vec::new();
                encode_typed(value, &mut entry)?;
                let len = entry.len();
                set.entries.push((entry, len));
                Ok(())
            }
        }
    }

    fn end(self) -> Result<(), EncodeError> {
        match self {
            Seq::Ordered(ordered) => ordered.finish(),
            Seq::Unordered(set) => set.finish(),
        }
        Ok(())
    }
}

macro_rules! ordered_impl {
    ($trait:ident, $method:ident) => {
        impl ser::$trait for Ordered<'_> {
            type Ok = ();
            type Error = EncodeError;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
                self.element(value)
            }

            fn end(self) -> Result<(), EncodeError> {
                self.finish();
                Ok(())
            }
        }
    };
}

ordered_impl!(SerializeTuple, serialize_element);
ordered_impl!(SerializeTupleStruct, serialize_field);
ordered_impl!(SerializeTupleVariant, serialize_field);

impl ser::SerializeStruct for Ordered<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeStructVariant for Ordered<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.finish();
        Ok(())
    }
}

/// A map: each entry encoded on its own, then all sorted by key.
struct MapEncoder<'a> {
    entries: Unordered<'a>,
    /// The entry whose key was written and whose value was not yet.
    pending: Option<(Vec<u8>, usize)>,
}

impl ser::SerializeMap for MapEncoder<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        let mut entry = Vec::new();
        encode_typed(key, &mut entry)?;
        let key_len = entry.len();
        self.pending = Some((entry, key_len));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        let (mut entry, key_len) = self
            .pending
            .take()
            .ok_or_else(|| EncodeError("a map value was given before its key".to_owned()))?;
        encode_typed(value, &mut entry)?;
        self.entries.entries.push((entry, key_len));
        Ok(())
    }

    fn end(self) -> Result<(), EncodeError> {
        if self.pending.is_some() {
            return Err(EncodeError(
                "a map key was given without its value".to_owned(),
            ));
        }
        self.entries.finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap, HashSet};

    fn bytes<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        to_bytes(v).unwrap()
    }

    #[test]
    fn scalars_are_pinned_byte_for_byte() {
        assert_eq!(bytes(&5i64), [0x13, 5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(bytes(&5u8), [0x18, 5]);
        assert_eq!(bytes(&true), [0x02]);
        assert_eq!(bytes("ab"), [0x30, 2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b']);
        assert_eq!(bytes(&Some(())), [0x41, 0x00]);
        assert_eq!(bytes(&None::<u8>), [0x40]);
        assert_eq!(
            bytes(&vec![1u8, 2]),
            [0x52, 2, 0, 0, 0, 0, 0, 0, 0, 0x18, 1, 0x18, 2]
        );
    }

    #[test]
    fn widths_and_kinds_are_told_apart() {
        assert_ne!(bytes(&5i32), bytes(&5i64));
        assert_ne!(bytes(&5u64), bytes(&5i64));
        assert_ne!(bytes(&(1u8, 2u8)), bytes(&vec![1u8, 2]));
        assert_ne!(bytes("a"), bytes(&b"a"[..].to_vec()));
        assert_ne!(
            bytes(&vec![vec![1u8], vec![]]),
            bytes(&vec![vec![], vec![1u8]])
        );
    }

    #[test]
    fn nans_are_one_value() {
        let other_nan = f64::from_bits(f64::NAN.to_bits() | 1);
        assert!(other_nan.is_nan());
        assert_eq!(bytes(&other_nan), bytes(&f64::NAN));
        assert_ne!(bytes(&0.0f64), bytes(&-0.0f64));
    }

    #[test]
    fn hash_maps_and_sets_do_not_depend_on_iteration_order() {
        // Each HashMap gets its own random seed, so these iterate in different orders.
        for _ in 0..20 {
            let a: HashMap<String, u32> = (0..50).map(|i| (format!("k{i}"), i)).collect();
            let b: HashMap<String, u32> = (0..50).rev().map(|i| (format!("k{i}"), i)).collect();
            assert_eq!(bytes(&a), bytes(&b));
            let s: HashSet<i64> = (0..50).collect();
            let t: HashSet<i64> = (0..50).rev().collect();
            assert_eq!(bytes(&s), bytes(&t));
            assert_eq!(bytes(&Box::new(s.clone())), bytes(&t));
            assert_eq!(bytes(&Some(&s)), bytes(&Some(t)));
        }
        let map: BTreeMap<String, u32> = (0..50).map(|i| (format!("k{i}"), i)).collect();
        let hashed: HashMap<String, u32> = map.clone().into_iter().collect();
        assert_eq!(bytes(&map), bytes(&hashed));
    }

    #[test]
    fn a_set_inside_a_struct_is_sorted() {
        #[derive(serde::Serialize)]
        struct Tags {
            tags: HashSet<String>,
            order: Vec<u8>,
        }
        let a = Tags {
            tags: ["x", "y", "z"].iter().map(|s| s.to_string()).collect(),
            order: vec![1, 2],
        };
        let b = Tags {
            tags: ["z", "y", "x"].iter().map(|s| s.to_string()).collect(),
            order: vec![1, 2],
        };
        assert_eq!(bytes(&a), bytes(&b));
        let c = Tags {
            order: vec![2, 1],
            ..b
        };
        assert_ne!(bytes(&a), bytes(&c), "a Vec's order matters");
    }

    #[test]
    fn enum_variants_are_named_not_numbered() {
        #[derive(serde::Serialize)]
        enum A {
            X,
            Y(u8),
        }
        #[derive(serde::Serialize)]
        enum B {
            Y(u8),
            X,
        }
        assert_eq!(bytes(&A::X), bytes(&B::X));
        assert_eq!(bytes(&A::Y(1)), bytes(&B::Y(1)));
        assert_ne!(bytes(&A::X), bytes(&A::Y(0)));
    }

    #[test]
    fn struct_fields_are_named() {
        #[derive(serde::Serialize)]
        struct P {
            a: u8,
            b: u8,
        }
        #[derive(serde::Serialize)]
        struct Q {
            b: u8,
            a: u8,
        }
        assert_ne!(bytes(&P { a: 1, b: 2 }), bytes(&Q { b: 1, a: 2 }));
    }
}
