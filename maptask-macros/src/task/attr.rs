//! Parses and validates the `#[task(...)]` options.

use std::time::Duration;

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::{LitBool, LitStr};

use crate::common::diagnostics::Errors;
use crate::common::duration::parse_duration;
use crate::common::resources::ResourceSpec;
use crate::common::tokens::path_string;

const OPTIONS: &str =
    "`retries`, `timeout`, `cache`, `interruptible`, `name`, `requests(…)`, `limits(…)`, `env(…)`, `crate`";

/// The options of one `#[task(...)]`.
#[derive(Default)]
pub struct TaskAttr {
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub cache: Option<LitStr>,
    pub interruptible: Option<bool>,
    pub name: Option<LitStr>,
    pub requests: ResourceSpec,
    pub limits: ResourceSpec,
    pub env: Vec<(String, LitStr)>,
    pub krate: Option<syn::Path>,
}

pub fn parse(args: TokenStream) -> syn::Result<TaskAttr> {
    let mut attr = TaskAttr::default();
    let mut errors = Errors::default();
    let mut seen: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| path_string(&meta.path));
        let key = if meta.path.is_ident("crate") || key == "crate" {
            "crate".to_owned()
        } else {
            key
        };
        if seen.contains(&key) {
            errors.push_spanned(
                &meta.path,
                format!("duplicate task option `{key}`; give it once"),
            );
            return skip_value(&meta);
        }
        seen.push(key.clone());
        match key.as_str() {
            "retries" => {
                let value: syn::Expr = meta.value()?.parse()?;
                match &value {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(lit), .. })
                        if lit.base10_parse::<u32>().is_ok() =>
                    {
                        attr.retries = lit.base10_parse::<u32>().ok();
                    }
                    _ => errors.push_spanned(
                        &value,
                        "`retries` takes a whole number of extra attempts from 0 to 4294967295, e.g. `retries = 2`",
                    ),
                }
            }
            "timeout" => {
                let lit: LitStr = meta.value()?.parse()?;
                match parse_duration(&lit.value()) {
                    Ok(d) => attr.timeout = Some(d),
                    Err(message) => errors.push_spanned(&lit, message),
                }
            }
            "cache" => {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().trim().is_empty() {
                    errors.push_spanned(
                        &lit,
                        "`cache` takes a non-empty version, e.g. `cache = \"1.0\"`",
                    );
                }
                attr.cache = Some(lit);
            }
            "interruptible" => {
                let value: syn::Expr = meta.value()?.parse()?;
                match &value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Bool(LitBool { value, .. }),
                        ..
                    }) => {
                        attr.interruptible = Some(*value);
                    }
                    _ => errors.push_spanned(&value, "`interruptible` takes `true` or `false`"),
                }
            }
            "name" => {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().trim().is_empty() {
                    errors.push_spanned(
                        &lit,
                        "`name` cannot be empty; write e.g. `name = \"etl.clean\"`",
                    );
                }
                attr.name = Some(lit);
            }
            "requests" => attr.requests = parse_resources(&meta, "requests", &mut errors)?,
            "limits" => attr.limits = parse_resources(&meta, "limits", &mut errors)?,
            "env" => {
                meta.parse_nested_meta(|var| {
                    let name = match var.path.get_ident() {
                        Some(ident) => ident.to_string(),
                        None => {
                            errors.push_spanned(&var.path, "an environment variable name is one identifier, e.g. `env(RUST_LOG = \"info\")`");
                            return skip_value(&var);
                        }
                    };
                    let value: LitStr = var.value()?.parse()?;
                    if attr.env.iter().any(|(n, _)| *n == name) {
                        errors.push_spanned(&var.path, format!("duplicate environment variable `{name}`"));
                    } else {
                        attr.env.push((name, value));
                    }
                    Ok(())
                })?;
            }
            "crate" => {
                let value = meta.value()?;
                attr.krate = Some(if value.peek(LitStr) {
                    let lit: LitStr = value.parse()?;
                    lit.parse()?
                } else {
                    value.parse()?
                });
            }
            _ => {
                errors.push_spanned(
                    &meta.path,
                    format!("unknown task option `{key}`; the options are {OPTIONS}"),
                );
                return skip_value(&meta);
            }
        }
        Ok(())
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }
    errors.finish()?;
    Ok(attr)
}

fn parse_resources(
    meta: &ParseNestedMeta<'_>,
    option: &str,
    errors: &mut Errors,
) -> syn::Result<ResourceSpec> {
    let mut spec = ResourceSpec::default();
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!(
            "`{option}` takes a list, e.g. `{option}(cpu = \"500m\", mem = \"1Gi\")`"
        )));
    }
    meta.parse_nested_meta(|res| {
        let Some(key) = res.path.get_ident().cloned() else {
            errors.push_spanned(
                &res.path,
                format!("expected `cpu`, `mem` or `gpu` in `{option}(…)`"),
            );
            return skip_value(&res);
        };
        let value: LitStr = res.value()?.parse()?;
        if let Err(e) = spec.set(option, &key, value) {
            errors.push(e);
        }
        Ok(())
    })?;
    Ok(spec)
}

/// Skips `= value` or `(…)` after a key already reported, so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _ = meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}
