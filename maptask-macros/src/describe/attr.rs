//! The attributes `#[derive(Describe)]` reads: its own `#[describe(…)]`, and the `#[serde(…)]`
//! attributes that change the shape serde writes (names, skipped fields, flattening, `with`).
//! Other serde attributes are skipped; serde itself reports their mistakes.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::LitStr;

use super::case::RenameRule;
use crate::common::diagnostics::Errors;

/// Where an attribute sits, for the options that apply there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Container,
    Variant,
    Field,
}

/// The `#[describe(…)]` options at one position.
#[derive(Default)]
pub struct DescribeAttrs {
    /// `opaque`: described by name only, carried as its serde encoding.
    pub opaque: Option<Span>,
    /// `crate = path`: where `maptask` is (container only).
    pub krate: Option<syn::Path>,
}

pub fn describe_attrs(
    attrs: &[syn::Attribute],
    position: Position,
    errors: &mut Errors,
) -> DescribeAttrs {
    let mut out = DescribeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("describe")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("opaque") && position != Position::Variant {
                if out.opaque.is_some() {
                    errors.push_spanned(&meta.path, "duplicate `opaque`; give it once");
                }
                out.opaque = Some(
                    meta.path
                        .get_ident()
                        .map_or_else(Span::call_site, |i| i.span()),
                );
                Ok(())
            } else if meta.path.is_ident("crate") && position == Position::Container {
                let value = meta.value()?;
                let path = if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse()?
                } else {
                    value.parse()?
                };
                out.krate = Some(path);
                Ok(())
            } else {
                let options = match position {
                    Position::Container => "`opaque` and `crate = path`",
                    Position::Field => "`opaque`",
                    Position::Variant => "none: a variant is described by its fields",
                };
                errors.push_spanned(
                    &meta.path,
                    format!("unknown `describe` option here; the options are {options}"),
                );
                skip_value(&meta)
            }
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

/// The serde attributes that change what a description says.
#[derive(Default)]
pub struct SerdeAttrs {
    /// `rename = "…"`, when reading and writing agree on it.
    pub rename: Option<String>,
    pub rename_all: Option<RenameRule>,
    pub rename_all_fields: Option<RenameRule>,
    /// `skip` or `skip_serializing`: never written, so not part of the shape.
    pub skip: bool,
    pub flatten: bool,
    /// `with`, `serialize_with` or `deserialize_with`: the shape is a function's, not the type's.
    pub with: bool,
    pub transparent: bool,
    /// `into = "T"`, `from = "T"` or `try_from = "T"`: the type serde goes through.
    pub via: Option<(syn::Type, String)>,
}

pub fn serde_attrs(attrs: &[syn::Attribute], errors: &mut Errors) -> SerdeAttrs {
    let mut out = SerdeAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "rename" => out.rename = one_name(&meta, errors)?,
                "rename_all" | "rename_all_fields" => {
                    // serde reports an unknown rule itself (a `#[serde]` attribute only exists
                    // beside a serde derive), so it is not reported twice.
                    let rule = one_name(&meta, errors)?
                        .and_then(|text| RenameRule::parse(&text));
                    if key == "rename_all" {
                        out.rename_all = rule;
                    } else {
                        out.rename_all_fields = rule;
                    }
                }
                "skip" | "skip_serializing" => out.skip = true,
                "flatten" => out.flatten = true,
                "transparent" => out.transparent = true,
                "with" | "serialize_with" | "deserialize_with" => {
                    out.with = true;
                    skip_value(&meta)?;
                }
                "into" | "from" | "try_from" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    let ty: syn::Type = lit.parse()?;
                    let text = quote::ToTokens::to_token_stream(&ty).to_string();
                    match &out.via {
                        Some((_, seen)) if *seen != text => errors.push_spanned(
                            &lit,
                            format!(
                                "`{key}` names another type than serde's other conversion (`{seen}`), so values are written and read in two shapes; \
                                 describe the type by name with `#[describe(opaque)]`"
                            ),
                        ),
                        _ => out.via = Some((ty, text)),
                    }
                }
                _ => skip_value(&meta)?,
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

/// The value of `key = "…"`, or of `key(serialize = "…", deserialize = "…")` when both sides
/// agree: a task's values are written by one process and read by another under one name.
fn one_name(meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<Option<String>> {
    if meta.input.peek(syn::Token![=]) {
        let lit: LitStr = meta.value()?.parse()?;
        return Ok(Some(lit.value()));
    }
    let key = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (mut serialize, mut deserialize) = (None, None);
    meta.parse_nested_meta(|side| {
        let lit: LitStr = side.value()?.parse()?;
        if side.path.is_ident("serialize") {
            serialize = Some(lit.value());
        } else if side.path.is_ident("deserialize") {
            deserialize = Some(lit.value());
        }
        Ok(())
    })?;
    if serialize == deserialize {
        return Ok(serialize);
    }
    errors.push_spanned(
        &meta.path,
        format!(
            "`{key}` differs between serializing and deserializing, but a task's values are written and read in one shape; \
             write `{key} = \"…\"`, or describe the type by name with `#[describe(opaque)]`"
        ),
    );
    Ok(None)
}

/// Skips `= value` or `(…)` after a key we do not read.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _ = meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}
