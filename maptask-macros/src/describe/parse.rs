//! Reads a `#[derive(Describe)]` input into the shape serde writes: names as serde spells them,
//! skipped fields gone, and each field marked plain, opaque or flattened.

use syn::ext::IdentExt;

use super::attr::{describe_attrs, serde_attrs, Position};
use super::case::RenameRule;
use crate::common::diagnostics::Errors;

pub struct Container<'a> {
    pub input: &'a syn::DeriveInput,
    pub krate: Option<syn::Path>,
    pub shape: Shape<'a>,
}

pub enum Shape<'a> {
    /// `#[describe(opaque)]` (at this span): the type's name only.
    Opaque(proc_macro2::Span),
    /// `#[serde(into = "T")]` and the like: described as `T`.
    Via(Box<syn::Type>),
    /// `#[serde(transparent)]`, or a newtype struct: described as its one field.
    Transparent(&'a syn::Type, FieldKind),
    /// A struct with named fields.
    Struct(Vec<Field<'a>>),
    /// A tuple struct of several fields.
    Tuple(Vec<(&'a syn::Type, FieldKind)>),
    /// A unit struct.
    Unit,
    Enum(Vec<Variant<'a>>),
}

pub struct Field<'a> {
    /// The name serde writes.
    pub name: String,
    pub ty: &'a syn::Type,
    pub kind: FieldKind,
}

pub enum FieldKind {
    Plain,
    /// `#[describe(opaque)]` or a `with` function: the field's type by name.
    Opaque,
    /// `#[serde(flatten)]`: the inner struct's fields take this field's place.
    Flatten,
}

pub struct Variant<'a> {
    pub ident: &'a syn::Ident,
    pub name: String,
    pub payload: Payload<'a>,
}

pub enum Payload<'a> {
    Unit,
    Newtype(&'a syn::Type, FieldKind),
    Tuple(Vec<(&'a syn::Type, FieldKind)>),
    Struct(Vec<Field<'a>>),
}

pub fn parse(input: &syn::DeriveInput) -> syn::Result<Container<'_>> {
    let mut errors = Errors::default();
    let describe = describe_attrs(&input.attrs, Position::Container, &mut errors);
    let serde = serde_attrs(&input.attrs, &mut errors);
    let shape = if let Some(span) = describe.opaque {
        Shape::Opaque(span)
    } else if let Some((ty, _)) = serde.via {
        Shape::Via(Box::new(ty))
    } else {
        match &input.data {
            syn::Data::Struct(data) => struct_shape(
                &data.fields,
                serde.transparent,
                serde.rename_all,
                &mut errors,
            ),
            syn::Data::Enum(data) => {
                let variants = data
                    .variants
                    .iter()
                    .filter_map(|v| {
                        variant(v, serde.rename_all, serde.rename_all_fields, &mut errors)
                    })
                    .collect();
                Shape::Enum(variants)
            }
            syn::Data::Union(data) => {
                errors.push_spanned(
                    data.union_token,
                    "`Describe` cannot be derived for a union: serde cannot carry one; use an enum, or a struct marked `#[describe(opaque)]` around it",
                );
                Shape::Unit
            }
        }
    };
    errors.finish()?;
    Ok(Container {
        input,
        krate: describe.krate,
        shape,
    })
}

fn struct_shape<'a>(
    fields: &'a syn::Fields,
    transparent: bool,
    rename_all: Option<RenameRule>,
    errors: &mut Errors,
) -> Shape<'a> {
    match fields {
        syn::Fields::Named(named) => {
            let mut fields = named_fields(named, rename_all, errors);
            if transparent {
                match fields.len() {
                    1 => {
                        let field = fields.remove(0);
                        return Shape::Transparent(field.ty, field.kind);
                    }
                    _ => {
                        errors.push_spanned(
                            named,
                            "`#[serde(transparent)]` needs exactly one field that is not skipped",
                        );
                    }
                }
            }
            Shape::Struct(fields)
        }
        syn::Fields::Unnamed(unnamed) => {
            let mut kept = unnamed_fields(unnamed, errors);
            // serde writes a newtype struct as its field.
            if kept.len() == 1 && (unnamed.unnamed.len() == 1 || transparent) {
                let (ty, kind) = kept.remove(0);
                Shape::Transparent(ty, kind)
            } else {
                if transparent {
                    errors.push_spanned(
                        unnamed,
                        "`#[serde(transparent)]` needs exactly one field that is not skipped",
                    );
                }
                Shape::Tuple(kept)
            }
        }
        syn::Fields::Unit => Shape::Unit,
    }
}

/// The fields of a tuple struct or variant that serde writes, with their kinds.
fn unnamed_fields<'a>(
    fields: &'a syn::FieldsUnnamed,
    errors: &mut Errors,
) -> Vec<(&'a syn::Type, FieldKind)> {
    let mut out = Vec::new();
    for field in &fields.unnamed {
        let describe = describe_attrs(&field.attrs, Position::Field, errors);
        let serde = serde_attrs(&field.attrs, errors);
        if serde.skip {
            continue;
        }
        let kind = field_kind(describe.opaque.is_some(), &serde, field, errors);
        out.push((&field.ty, kind));
    }
    out
}

fn named_fields<'a>(
    fields: &'a syn::FieldsNamed,
    rename_all: Option<RenameRule>,
    errors: &mut Errors,
) -> Vec<Field<'a>> {
    let mut out = Vec::new();
    for field in &fields.named {
        let describe = describe_attrs(&field.attrs, Position::Field, errors);
        let serde = serde_attrs(&field.attrs, errors);
        if serde.skip {
            continue;
        }
        let ident = field
            .ident
            .as_ref()
            .map_or_else(String::new, |i| i.unraw().to_string());
        let name = serde.rename.clone().unwrap_or_else(|| match rename_all {
            Some(rule) => rule.apply_to_field(&ident),
            None => ident,
        });
        let kind = field_kind(describe.opaque.is_some(), &serde, field, errors);
        out.push(Field {
            name,
            ty: &field.ty,
            kind,
        });
    }
    out
}

fn field_kind(
    opaque: bool,
    serde: &super::attr::SerdeAttrs,
    field: &syn::Field,
    errors: &mut Errors,
) -> FieldKind {
    if serde.flatten {
        if opaque || serde.with {
            errors.push_spanned(
                &field.ty,
                "a flattened field merges its fields into this struct, so it cannot also be opaque or use `with`",
            );
        }
        FieldKind::Flatten
    } else if opaque || serde.with {
        FieldKind::Opaque
    } else {
        FieldKind::Plain
    }
}

fn variant<'a>(
    variant: &'a syn::Variant,
    rename_all: Option<RenameRule>,
    rename_all_fields: Option<RenameRule>,
    errors: &mut Errors,
) -> Option<Variant<'a>> {
    describe_attrs(&variant.attrs, Position::Variant, errors);
    let serde = serde_attrs(&variant.attrs, errors);
    if serde.skip {
        return None;
    }
    let ident = variant.ident.unraw().to_string();
    let name = serde.rename.clone().unwrap_or_else(|| match rename_all {
        Some(rule) => rule.apply_to_variant(&ident),
        None => ident,
    });
    let payload = match &variant.fields {
        syn::Fields::Unit => Payload::Unit,
        syn::Fields::Named(named) => Payload::Struct(named_fields(
            named,
            serde.rename_all.or(rename_all_fields),
            errors,
        )),
        syn::Fields::Unnamed(unnamed) => {
            let mut kept = unnamed_fields(unnamed, errors);
            if unnamed.unnamed.len() == 1 && kept.len() == 1 {
                let (ty, kind) = kept.remove(0);
                // A `with` on the variant itself applies to its one field.
                let kind = if serde.with { FieldKind::Opaque } else { kind };
                Payload::Newtype(ty, kind)
            } else {
                Payload::Tuple(kept)
            }
        }
    };
    Some(Variant {
        ident: &variant.ident,
        name,
        payload,
    })
}
