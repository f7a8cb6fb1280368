//! Rust values <-> Flyte literals, as flytekit 1.16.31 encodes the Python equivalents.
//!
//! The conversion is a serde `Serializer`/`Deserializer` pair guided by the value's
//! [`TypeDesc`]: the description decides the Flyte type, serde walks the value.
//!
//! | Rust (`TypeDesc`) | Python | `LiteralType` | `Literal` |
//! |---|---|---|---|
//! | `i8`…`i64`, `u8`…`u64`, `isize`, `usize`, `i128`, `u128` | `int` | `INTEGER` | `primitive.integer` (i64; a value outside i64 is [`LiteralError::IntegerOutOfRange`]) |
//! | `f32`, `f64` | `float` | `FLOAT` | `primitive.float_value` (f64 bits as they are: -0.0, NaN, ±inf) |
//! | `bool` | `bool` | `BOOLEAN` | `primitive.boolean` |
//! | `String`, `char`, `PathBuf` | `str` | `STRING` | `primitive.string_value` |
//! | `Duration` | `timedelta` | `DURATION` | `primitive.duration` |
//! | `SystemTime`, `chrono::DateTime<Utc>` (feature `chrono` of maptask-core), RFC 3339 text | `datetime` (UTC) | `DATETIME` | `primitive.datetime` |
//! | `()` | `None` | `NONE` | `scalar.none_type` |
//! | `Option<T>` | `Optional[T]` | `union_type [T tagged, NONE tagged "none"]` | `scalar.union {value, type}` |
//! | `Vec<T>`, sets | `List[T]` | `collection_type` | `collection` |
//! | `HashMap<String, T>`, `BTreeMap<String, T>` | `Dict[str, T]` | `map_value_type` | `map` |
//! | unit-only enum | `enum.Enum` | `enum_type {values}` | `primitive.string_value` (the variant name) |
//! | struct (`TypeDesc::Struct`) | `@dataclass` | `STRUCT` + JSON schema + `dataclass_type` + msgpack annotation | `scalar.binary {tag: "msgpack"}` |
//! | tuple, enum with data, opaque serde type | untyped `dict` | `STRUCT` + msgpack annotation | `scalar.binary {tag: "msgpack"}` |
//!
//! What flytekit 1.16.31 was observed to do (by encoding Python values with its `TypeEngine`),
//! and how this module follows it:
//!
//! * **Union tags.** `Optional[T]` is a union whose variants carry `structure.tag`: `int`,
//!   `float`, `str`, `bool`, `datetime`, `timedelta`, `Typed List`, `Typed Dict`,
//!   `Object-Dataclass-Transformer`, `DefaultEnumTransformer`, and `none`. The variant's type
//!   is T's type with its `structure` replaced by the tag alone (a dataclass variant loses its
//!   `dataclass_type`). `Optional[Optional[T]]` is `Optional[T]`: `Some(None)` is written as
//!   none and reads back as `None`.
//! * **Reading an optional** accepts the union flytekit writes, a bare value (what an element
//!   of a non-optional task writes into a list of optionals), and the bare `none_type` that
//!   the k8s-array plugin puts at failed indices.
//! * **`bytes`, `pathlib.Path`, `set` and `tuple`** have no Flyte type in flytekit: it pickles
//!   the first three (`blob` of format `PythonPickle`, readable only by Python) and refuses
//!   `tuple`. Pickle is out of reach from Rust, so `Vec<u8>` is a list of integers, a path is
//!   its string, a set is a list, and a tuple is an untyped msgpack value (a Python list).
//! * **Dataclasses** are msgpack (flytekit >= 1.14): a map keyed by field name in declaration
//!   order, the smallest integer encodings, every float as float64, strings as fixstr/str8,
//!   `None` as nil, an `Enum` as its value, a nested dataclass as a nested map, a `datetime`
//!   as `isoformat()` text (`2024-01-02T00:00:00+00:00`), a `timedelta` as float seconds. The
//!   type's `metadata` is mashumaro's JSON schema (see [`literal_type`]).
//! * **Date-times** are UTC with nanoseconds; flytekit cuts them to microseconds when it reads.
//!   Python's range (years 1 to 9999) is enforced both ways. A `SystemTime` before 1970 cannot
//!   pass through serde, so such a literal reads back only into a date crate's type.

mod de;
mod msgpack;
mod ser;
mod time;
mod tuple;
mod types;

use maptask_core::TypeDesc;

use crate::proto::core::{Literal, LiteralType};

pub use de::LiteralDeserializer;
pub use ser::none_literal;
pub use tuple::tuple_to_literals;
pub use types::literal_type;

/// Why a value, a type or a literal could not be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LiteralError {
    /// A Rust type that Flyte cannot carry.
    #[error("`{ty}` cannot cross to Flyte: {why}")]
    Unsupported {
        /// The type, as [`TypeDesc`] prints it.
        ty: String,
        /// What is missing.
        why: &'static str,
    },
    /// An integer outside Flyte's i64.
    #[error("integer {value} does not fit Flyte's 64-bit signed integer")]
    IntegerOutOfRange {
        /// The value.
        value: String,
    },
    /// A float outside the range of the `f32` it is read into.
    #[error("float {value} does not fit f32")]
    FloatOutOfRange {
        /// The value.
        value: f64,
    },
    /// A duration that `std::time::Duration` or Flyte cannot hold.
    #[error("duration of {seconds} s and {nanos} ns is out of range: {why}")]
    DurationOutOfRange {
        /// Whole seconds.
        seconds: i128,
        /// Nanoseconds.
        nanos: i64,
        /// Which bound it crosses.
        why: &'static str,
    },
    /// A date-time outside years 1 to 9999, which flytekit (Python's `datetime`) cannot hold.
    #[error("date-time at {seconds} s from the Unix epoch is outside years 1 to 9999")]
    DateTimeOutOfRange {
        /// Seconds since 1970-01-01T00:00:00Z.
        seconds: i64,
    },
    /// Date-time text that is not RFC 3339 with an offset.
    #[error("`{text}` is not an RFC 3339 date-time with an offset")]
    BadDateTime {
        /// The text.
        text: String,
    },
    /// A value or literal whose shape does not match the type description.
    #[error("expected {expected}, found {found}")]
    Mismatch {
        /// What the type description asks for.
        expected: String,
        /// What the value or literal holds.
        found: String,
    },
    /// A msgpack payload that does not decode.
    #[error("msgpack payload: {0}")]
    Msgpack(String),
    /// An error raised by a `Serialize` or `Deserialize` implementation.
    #[error("{0}")]
    Custom(String),
    /// An error inside a collection, map, union or field.
    #[error("at {at}: {source}")]
    At {
        /// Where: `[3]`, `.key`, `.field`, joined outside in.
        at: String,
        /// The error there.
        source: Box<LiteralError>,
    },
}

impl LiteralError {
    /// Prefixes the place of the error with `segment` (`[3]`, `.name`).
    pub(crate) fn at(self, segment: impl std::fmt::Display) -> LiteralError {
        match self {
            LiteralError::At { at, source } => LiteralError::At {
                at: format!("{segment}{at}"),
                source,
            },
            other => LiteralError::At {
                at: segment.to_string(),
                source: Box::new(other),
            },
        }
    }

    pub(crate) fn mismatch(
        expected: impl std::fmt::Display,
        found: impl Into<String>,
    ) -> LiteralError {
        LiteralError::Mismatch {
            expected: expected.to_string(),
            found: found.into(),
        }
    }
}

impl serde::ser::Error for LiteralError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        LiteralError::Custom(msg.to_string())
    }
}

impl serde::de::Error for LiteralError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        LiteralError::Custom(msg.to_string())
    }
}

/// The literal flytekit writes for `value`, whose type is described by `desc`.
pub fn to_literal<T: serde::Serialize + ?Sized>(
    value: &T,
    desc: &TypeDesc,
) -> Result<Literal, LiteralError> {
    ser::to_literal(value, desc)
}

/// Reads a value of type `T`, described by `desc`, from `lit`.
pub fn from_literal<T: serde::de::DeserializeOwned>(
    lit: &Literal,
    desc: &TypeDesc,
) -> Result<T, LiteralError> {
    T::deserialize(LiteralDeserializer::new(lit, desc))
}

/// What `LiteralType` flytekit gives the element of `desc` when it is the run task's output
/// inside a union (the tagged variant): `desc`'s type with `structure` set to the tag alone.
pub fn union_variant(desc: &TypeDesc) -> Result<LiteralType, LiteralError> {
    types::union_variant(desc)
}

/// Whether values of `desc` cross as a msgpack `scalar.binary` (structs, tuples, enums with
/// data, opaque serde types).
pub(crate) fn is_msgpack(desc: &TypeDesc) -> bool {
    match desc {
        TypeDesc::Struct { .. } | TypeDesc::Tuple { .. } | TypeDesc::Opaque { .. } => true,
        TypeDesc::Enum { variants, .. } => !is_unit_enum(variants),
        _ => false,
    }
}

pub(crate) fn is_unit_enum(variants: &[maptask_core::VariantDesc]) -> bool {
    variants.iter().all(|v| v.payload.is_none())
}

/// The msgpack `scalar.binary` tag flytekit writes and reads.
pub const MSGPACK_TAG: &str = "msgpack";
