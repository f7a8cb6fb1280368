//! Type descriptions of task inputs and outputs.
//!
//! Values stay plain Rust values in process; a [`TypeDesc`] exists so that interfaces can be
//! inspected, compared and, in later backends, serialized (Flyte IDL, JSON CLI input).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The description of a value's type, as an orchestrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeDesc {
    /// `()`: no value.
    Unit,
    /// `bool`.
    Bool,
    /// A fixed-width integer.
    Integer {
        /// Width in bits.
        bits: u8,
        /// Whether the integer is signed.
        signed: bool,
    },
    /// A floating-point number.
    Float {
        /// Width in bits.
        bits: u8,
    },
    /// A UTF-8 string.
    String,
    /// One Unicode scalar value, `char`.
    Char,
    /// A file-system path, [`std::path::PathBuf`].
    Path,
    /// A span of time, [`std::time::Duration`].
    Duration,
    /// An instant in UTC, [`std::time::SystemTime`] (or a date-time type of a date crate).
    DateTime,
    /// A list, `Vec<T>`.
    List {
        /// The element type.
        of: Box<TypeDesc>,
    },
    /// A set of distinct values, `HashSet<T>` or `BTreeSet<T>`.
    Set {
        /// The element type.
        of: Box<TypeDesc>,
    },
    /// An optional value, `Option<T>`.
    Optional {
        /// The type of the value when present.
        of: Box<TypeDesc>,
    },
    /// A map from strings, `HashMap<String, T>` or `BTreeMap<String, T>`.
    Map {
        /// The value type.
        of: Box<TypeDesc>,
    },
    /// A tuple of values.
    Tuple {
        /// The element types, in order.
        of: Vec<TypeDesc>,
    },
    /// A struct with named fields, carried through serde (`#[derive(Describe)]`).
    Struct {
        /// The Rust type name.
        name: String,
        /// The fields, in declaration order, as serde names them.
        fields: Vec<FieldDesc>,
    },
    /// An enum, carried through serde (`#[derive(Describe)]`).
    Enum {
        /// The Rust type name.
        name: String,
        /// The variants, in declaration order, as serde names them.
        variants: Vec<VariantDesc>,
    },
    /// A serde type whose shape is not described (`describe_serde!`, or a newtype marked
    /// `#[describe(opaque)]`): it crosses process boundaries as its serde encoding.
    Opaque {
        /// The Rust type name.
        name: String,
    },
}

/// One named field of a [`TypeDesc::Struct`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FieldDesc {
    /// The field's name, as serde writes it.
    pub name: String,
    /// The field's type.
    pub ty: TypeDesc,
}

/// One variant of a [`TypeDesc::Enum`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct VariantDesc {
    /// The variant's name, as serde writes it.
    pub name: String,
    /// What the variant carries: `None` for a unit variant, otherwise the payload (a
    /// [`TypeDesc::Tuple`] for a tuple variant of several fields, a [`TypeDesc::Struct`] named
    /// after the variant for a struct variant, or the single field's type for a newtype variant).
    pub payload: Option<TypeDesc>,
}

impl FieldDesc {
    /// A field named `name` of type `ty`.
    pub fn new(name: impl Into<String>, ty: TypeDesc) -> FieldDesc {
        FieldDesc {
            name: name.into(),
            ty,
        }
    }
}

impl VariantDesc {
    /// A variant named `name` carrying `payload`.
    pub fn new(name: impl Into<String>, payload: Option<TypeDesc>) -> VariantDesc {
        VariantDesc {
            name: name.into(),
            payload,
        }
    }
}

impl TypeDesc {
    /// The description of a list of `self`.
    pub fn list_of(self) -> TypeDesc {
        TypeDesc::List { of: Box::new(self) }
    }

    /// The description of an optional `self`.
    pub fn optional_of(self) -> TypeDesc {
        TypeDesc::Optional { of: Box::new(self) }
    }
}

impl fmt::Display for TypeDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeDesc::Unit => f.write_str("unit"),
            TypeDesc::Bool => f.write_str("bool"),
            TypeDesc::Integer { bits, signed } => {
                write!(f, "{}{}", if *signed { "i" } else { "u" }, bits)
            }
            TypeDesc::Float { bits } => write!(f, "f{bits}"),
            TypeDesc::String => f.write_str("string"),
            TypeDesc::Char => f.write_str("char"),
            TypeDesc::Path => f.write_str("path"),
            TypeDesc::Duration => f.write_str("duration"),
            TypeDesc::DateTime => f.write_str("datetime"),
            TypeDesc::Set { of } => write!(f, "set<{of}>"),
            TypeDesc::List { of } => write!(f, "list<{of}>"),
            TypeDesc::Optional { of } => write!(f, "optional<{of}>"),
            TypeDesc::Map { of } => write!(f, "map<string, {of}>"),
            TypeDesc::Tuple { of } => {
                f.write_str("(")?;
                for (i, t) in of.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str(")")
            }
            TypeDesc::Struct { name, .. } => write!(f, "struct {name}"),
            TypeDesc::Enum { name, .. } => write!(f, "enum {name}"),
            TypeDesc::Opaque { name } => write!(f, "serde {name}"),
        }
    }
}

/// A Rust type that has a [`TypeDesc`]: what a task can take and return.
///
/// Implemented for the std types a task can take or return. For your own types, derive it next
/// to serde's derives: `#[derive(Serialize, Deserialize, maptask::Describe)]`. For a type from
/// another crate, wrap it in a newtype of your own and derive it there, with
/// `#[describe(opaque)]` when the inner type is described by its serde encoding alone.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no maptask type description",
    label = "task inputs and outputs need a type description",
    note = "for a type of your crate, derive it: `#[derive(serde::Serialize, serde::Deserialize, maptask::Describe)]`",
    note = "for a type of another crate, wrap it in a newtype of yours and derive it there: `#[derive(serde::Serialize, serde::Deserialize, maptask::Describe)] #[describe(opaque)] struct MyType(TheirType);`"
)]
pub trait Describe {
    /// The description of `Self`.
    fn type_desc() -> TypeDesc;
}

macro_rules! describe_int {
    ($($t:ty => $bits:expr, $signed:expr;)*) => {$(
        impl Describe for $t {
            fn type_desc() -> TypeDesc {
                TypeDesc::Integer { bits: $bits, signed: $signed }
            }
        }
    )*};
}

describe_int! {
    i8 => 8, true; i16 => 16, true; i32 => 32, true; i64 => 64, true; i128 => 128, true;
    u8 => 8, false; u16 => 16, false; u32 => 32, false; u64 => 64, false; u128 => 128, false;
    isize => 64, true; usize => 64, false;
}

impl Describe for f32 {
    fn type_desc() -> TypeDesc {
        TypeDesc::Float { bits: 32 }
    }
}

impl Describe for f64 {
    fn type_desc() -> TypeDesc {
        TypeDesc::Float { bits: 64 }
    }
}

impl Describe for bool {
    fn type_desc() -> TypeDesc {
        TypeDesc::Bool
    }
}

impl Describe for () {
    fn type_desc() -> TypeDesc {
        TypeDesc::Unit
    }
}

impl Describe for String {
    fn type_desc() -> TypeDesc {
        TypeDesc::String
    }
}

impl Describe for Duration {
    fn type_desc() -> TypeDesc {
        TypeDesc::Duration
    }
}

impl Describe for char {
    fn type_desc() -> TypeDesc {
        TypeDesc::Char
    }
}

impl Describe for PathBuf {
    fn type_desc() -> TypeDesc {
        TypeDesc::Path
    }
}

impl Describe for SystemTime {
    fn type_desc() -> TypeDesc {
        TypeDesc::DateTime
    }
}

/// A UTC date-time of the `chrono` crate (feature `chrono`); it serializes as RFC 3339 text.
#[cfg(feature = "chrono")]
impl Describe for chrono::DateTime<chrono::Utc> {
    fn type_desc() -> TypeDesc {
        TypeDesc::DateTime
    }
}

impl<T: Describe, S> Describe for HashSet<T, S> {
    fn type_desc() -> TypeDesc {
        TypeDesc::Set {
            of: Box::new(T::type_desc()),
        }
    }
}

impl<T: Describe> Describe for BTreeSet<T> {
    fn type_desc() -> TypeDesc {
        TypeDesc::Set {
            of: Box::new(T::type_desc()),
        }
    }
}

/// A box is described as what it holds: it crosses a boundary as its contents.
impl<T: Describe + ?Sized> Describe for Box<T> {
    fn type_desc() -> TypeDesc {
        T::type_desc()
    }
}

/// An `Arc` is described as what it holds: it crosses a boundary as its contents.
impl<T: Describe + ?Sized> Describe for Arc<T> {
    fn type_desc() -> TypeDesc {
        T::type_desc()
    }
}

impl<T: Describe> Describe for Vec<T> {
    fn type_desc() -> TypeDesc {
        T::type_desc().list_of()
    }
}

impl<T: Describe> Describe for Option<T> {
    fn type_desc() -> TypeDesc {
        T::type_desc().optional_of()
    }
}

impl<T: Describe, S> Describe for HashMap<String, T, S> {
    fn type_desc() -> TypeDesc {
        TypeDesc::Map {
            of: Box::new(T::type_desc()),
        }
    }
}

impl<T: Describe> Describe for BTreeMap<String, T> {
    fn type_desc() -> TypeDesc {
        TypeDesc::Map {
            of: Box::new(T::type_desc()),
        }
    }
}

macro_rules! describe_tuple {
    ($($name:ident)+) => {
        impl<$($name: Describe),+> Describe for ($($name,)+) {
            fn type_desc() -> TypeDesc {
                TypeDesc::Tuple { of: vec![$($name::type_desc()),+] }
            }
        }
    };
}

describe_tuple!(A);
describe_tuple!(A B);
describe_tuple!(A B C);
describe_tuple!(A B C D);
describe_tuple!(A B C D E);
describe_tuple!(A B C D E F);

/// The description of a serde type `T` whose shape is not described, named `name`.
///
/// The bounds make sure the type can later cross a process boundary.
pub fn serde_struct<T: SerdeValue>(name: &str) -> TypeDesc {
    TypeDesc::Opaque {
        name: name.to_owned(),
    }
}

/// Implements [`Describe`] for a serde type of your crate, by name only ([`TypeDesc::Opaque`]).
///
/// `#[derive(Describe)]` describes the fields too, and is the better choice. Like any trait
/// implementation, this one must be written in the crate that defines the type (or the trait):
/// for a type of another crate, use a newtype instead.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Point { x: i64, y: i64 }
/// maptask_core::describe_serde!(Point);
///
/// use maptask_core::Describe;
/// assert_eq!(Point::type_desc().to_string(), "serde Point");
/// ```
#[macro_export]
macro_rules! describe_serde {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::types::Describe for $t {
            fn type_desc() -> $crate::types::TypeDesc {
                $crate::types::serde_struct::<$t>(::core::stringify!($t))
            }
        }
    )+};
}

/// A value serde can write and read back: what an opaque description requires.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is described as opaque, so serde must be able to write and read it",
    label = "`{Self}` does not implement `serde::Serialize` and `serde::de::DeserializeOwned`",
    note = "an opaque value crosses process boundaries as its serde encoding: derive `serde::Serialize` and `serde::Deserialize` for it"
)]
pub trait SerdeValue: serde::Serialize + serde::de::DeserializeOwned {}

impl<T: serde::Serialize + serde::de::DeserializeOwned> SerdeValue for T {}

thread_local! {
    /// The types whose descriptions are being built on this thread, innermost last.
    static DESCRIBING: std::cell::RefCell<Vec<&'static str>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Builds `T`'s description with `describe`, unless it is already being built further up (a
/// type that contains itself, through a `Vec` or a `Box`): then it is `Opaque { name }`, which
/// ends the recursion. What `#[derive(Describe)]` calls.
pub fn describe_once<T: ?Sized>(name: &str, describe: impl FnOnce() -> TypeDesc) -> TypeDesc {
    let key = std::any::type_name::<T>();
    let reentered = DESCRIBING.with(|stack| {
        let mut stack = stack.borrow_mut();
        let found = stack.contains(&key);
        if !found {
            stack.push(key);
        }
        found
    });
    if reentered {
        return TypeDesc::Opaque {
            name: name.to_owned(),
        };
    }
    // Pops the entry even if `describe` panics, so the thread's stack stays true.
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            DESCRIBING.with(|stack| {
                stack.borrow_mut().pop();
            });
        }
    }
    let _pop = Pop;
    describe()
}

/// Merges the fields of a `#[serde(flatten)]` field's description into `fields`, as serde
/// merges them into the outer map. Returns `false` when the description has no fields to merge
/// (a flattened map takes any key), and the outer type is then described by name only.
pub fn flatten_into(fields: &mut Vec<FieldDesc>, flattened: TypeDesc) -> bool {
    match flattened {
        TypeDesc::Struct { fields: inner, .. } => {
            fields.extend(inner);
            true
        }
        // A flattened `Option<Struct>`: its fields are present or absent together.
        TypeDesc::Optional { of } => match *of {
            TypeDesc::Struct { fields: inner, .. } => {
                fields.extend(
                    inner
                        .into_iter()
                        .map(|f| FieldDesc::new(f.name, f.ty.optional_of())),
                );
                true
            }
            _ => false,
        },
        _ => false,
    }
}
