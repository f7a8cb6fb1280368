//! `TypeDesc` -> `LiteralType`, with the union tags and the dataclass JSON schema flytekit
//! 1.16.31 writes.

use std::collections::BTreeMap;

use maptask_core::{FieldDesc, TypeDesc};
use prost_types::value::Kind;

use super::{is_unit_enum, LiteralError};
use crate::proto::core::literal_type::Type;
use crate::proto::core::{
    EnumType, LiteralType, SimpleType, TypeAnnotation, TypeStructure, UnionType,
};

/// The Flyte type flytekit 1.16.31 gives the Python equivalent of `desc` (see the table in
/// [the module docs](crate::literal)).
///
/// A struct's type carries, like a dataclass's, `metadata` = mashumaro's JSON schema
/// (`{title, type: object, properties, required: [every field], additionalProperties: false}`
/// with nested structs inline), `structure.dataclass_type` = each field's `LiteralType`, and
/// `annotation` = `{"cache-key-metadata": {"serialization-format": "msgpack"}}`.
pub fn literal_type(desc: &TypeDesc) -> Result<LiteralType, LiteralError> {
    Ok(match desc {
        TypeDesc::Unit => simple(SimpleType::None),
        TypeDesc::Bool => simple(SimpleType::Boolean),
        TypeDesc::Integer { .. } => simple(SimpleType::Integer),
        TypeDesc::Float { .. } => simple(SimpleType::Float),
        TypeDesc::String | TypeDesc::Char | TypeDesc::Path => simple(SimpleType::String),
        TypeDesc::Duration => simple(SimpleType::Duration),
        TypeDesc::DateTime => simple(SimpleType::Datetime),
        TypeDesc::List { of } | TypeDesc::Set { of } => {
            of_type(Type::CollectionType(Box::new(literal_type(of)?)))
        }
        TypeDesc::Map { of } => of_type(Type::MapValueType(Box::new(literal_type(of)?))),
        TypeDesc::Optional { of } => match &**of {
            // Optional[Optional[T]] is Optional[T] in Python's typing.
            TypeDesc::Optional { .. } => literal_type(of)?,
            TypeDesc::Unit => {
                return Err(LiteralError::Unsupported {
                    ty: desc.to_string(),
                    why: "`()` is already Flyte's none, an optional of it has no type",
                })
            }
            _ => of_type(Type::UnionType(UnionType {
                variants: vec![union_variant(of)?, tagged(simple(SimpleType::None), "none")],
            })),
        },
        TypeDesc::Enum { variants, .. } if is_unit_enum(variants) => {
            of_type(Type::EnumType(EnumType {
                values: variants.iter().map(|v| v.name.clone()).collect(),
            }))
        }
        TypeDesc::Struct { name, fields } => {
            let mut dataclass_type = BTreeMap::new();
            for field in fields {
                let ty =
                    literal_type(&field.ty).map_err(|e| e.at(format_args!(".{}", field.name)))?;
                dataclass_type.insert(field.name.clone(), ty);
            }
            LiteralType {
                metadata: Some(struct_schema(name, fields)),
                annotation: Some(msgpack_annotation()),
                structure: Some(TypeStructure {
                    tag: String::new(),
                    dataclass_type,
                }),
                ..simple(SimpleType::Struct)
            }
        }
        TypeDesc::Tuple { .. } | TypeDesc::Enum { .. } | TypeDesc::Opaque { .. } => LiteralType {
            annotation: Some(msgpack_annotation()),
            ..simple(SimpleType::Struct)
        },
    })
}

/// The type of `desc` as a tagged union variant: `structure` is the tag alone.
pub(super) fn union_variant(desc: &TypeDesc) -> Result<LiteralType, LiteralError> {
    Ok(tagged(literal_type(desc)?, union_tag(desc)))
}

/// flytekit's union tag: the name of the `TypeTransformer` that handles the Python type.
fn union_tag(desc: &TypeDesc) -> &'static str {
    match desc {
        TypeDesc::Unit => "none",
        TypeDesc::Bool => "bool",
        TypeDesc::Integer { .. } => "int",
        TypeDesc::Float { .. } => "float",
        TypeDesc::String | TypeDesc::Char | TypeDesc::Path => "str",
        TypeDesc::Duration => "timedelta",
        TypeDesc::DateTime => "datetime",
        TypeDesc::List { .. } | TypeDesc::Set { .. } => "Typed List",
        TypeDesc::Struct { .. } => "Object-Dataclass-Transformer",
        TypeDesc::Enum { variants, .. } if is_unit_enum(variants) => "DefaultEnumTransformer",
        // Maps and untyped msgpack values (flytekit's untyped `dict`) share the dict transformer.
        TypeDesc::Map { .. }
        | TypeDesc::Tuple { .. }
        | TypeDesc::Enum { .. }
        | TypeDesc::Opaque { .. } => "Typed Dict",
        TypeDesc::Optional { of } => union_tag(of),
    }
}

fn simple(t: SimpleType) -> LiteralType {
    of_type(Type::Simple(t as i32))
}

fn of_type(t: Type) -> LiteralType {
    LiteralType {
        r#type: Some(t),
        ..LiteralType::default()
    }
}

fn tagged(ty: LiteralType, tag: &str) -> LiteralType {
    LiteralType {
        structure: Some(TypeStructure {
            tag: tag.to_owned(),
            dataclass_type: BTreeMap::new(),
        }),
        ..ty
    }
}

fn msgpack_annotation() -> TypeAnnotation {
    let format = obj([("serialization-format", text("msgpack"))]);
    TypeAnnotation {
        annotations: Some(fields([("cache-key-metadata", format)])),
    }
}

/// mashumaro's JSON schema of a dataclass field of type `desc`, as flytekit 1.16.31 stores it.
fn json_schema(desc: &TypeDesc) -> prost_types::Value {
    let of_type = |t: &str| obj([("type", text(t))]);
    match desc {
        TypeDesc::Unit => of_type("null"),
        TypeDesc::Bool => of_type("boolean"),
        TypeDesc::Integer { .. } => of_type("integer"),
        TypeDesc::Float { .. } => of_type("number"),
        TypeDesc::String | TypeDesc::Char | TypeDesc::Path => of_type("string"),
        TypeDesc::Duration => obj([("type", text("number")), ("format", text("time-delta"))]),
        TypeDesc::DateTime => obj([("type", text("string")), ("format", text("date-time"))]),
        TypeDesc::List { of } | TypeDesc::Set { of } => {
            obj([("type", text("array")), ("items", json_schema(of))])
        }
        TypeDesc::Map { of } => obj([
            ("type", text("object")),
            ("propertyNames", of_type("string")),
            ("additionalProperties", json_schema(of)),
        ]),
        TypeDesc::Optional { of } => match &**of {
            TypeDesc::Optional { .. } => json_schema(of),
            _ => obj([("anyOf", list([json_schema(of), of_type("null")]))]),
        },
        TypeDesc::Enum { variants, .. } if is_unit_enum(variants) => {
            obj([("enum", list(variants.iter().map(|v| text(&v.name))))])
        }
        TypeDesc::Struct { name, fields } => kind(Kind::StructValue(struct_schema(name, fields))),
        // No Python type: any value (mashumaro's schema of `Any`).
        TypeDesc::Tuple { .. } | TypeDesc::Enum { .. } | TypeDesc::Opaque { .. } => obj::<&str>([]),
    }
}

fn kind(k: Kind) -> prost_types::Value {
    prost_types::Value { kind: Some(k) }
}

fn text(s: &str) -> prost_types::Value {
    kind(Kind::StringValue(s.to_owned()))
}

fn list(items: impl IntoIterator<Item = prost_types::Value>) -> prost_types::Value {
    kind(Kind::ListValue(prost_types::ListValue {
        values: items.into_iter().collect(),
    }))
}

fn fields<K: Into<String>>(
    entries: impl IntoIterator<Item = (K, prost_types::Value)>,
) -> prost_types::Struct {
    prost_types::Struct {
        fields: entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
    }
}

fn obj<K: Into<String>>(
    entries: impl IntoIterator<Item = (K, prost_types::Value)>,
) -> prost_types::Value {
    kind(Kind::StructValue(fields(entries)))
}

/// A dataclass's schema: every field is required (serde fields have no Python defaults).
fn struct_schema(name: &str, fs: &[FieldDesc]) -> prost_types::Struct {
    fields([
        ("title", text(name)),
        ("type", text("object")),
        (
            "properties",
            obj(fs.iter().map(|f| (f.name.as_str(), json_schema(&f.ty)))),
        ),
        ("required", list(fs.iter().map(|f| text(&f.name)))),
        ("additionalProperties", kind(Kind::BoolValue(false))),
    ])
}
