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
    "`retries`, `timeout`, `cache`, `cache_ignore`, `interruptible`, `name`, `requests(…)`, `limits(…)`, `env(…)`, `crate`";

/// The options of one `#[task(...)]`.
#[derive(Default)]
pub struct TaskAttr {
    pub retries: Option<u32>,
    pub timeout: Option<Duration>,
    pub cache: Option<LitStr>,
    /// `cache_ignore = ["param", …]`: the key and the names, as written.
    pub cache_ignore: Option<(syn::Path, Vec<LitStr>)>,
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
            "cache_ignore" => {
                let names = parse_cache_ignore(&meta, &mut errors)?;
                attr.cache_ignore = Some((meta.path.clone(), names));
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

/// `cache_ignore = ["a", "b"]`: a list of string literals.
fn parse_cache_ignore(meta: &ParseNestedMeta<'_>, errors: &mut Errors) -> syn::Result<Vec<LitStr>> {
    const USAGE: &str =
        "`cache_ignore` takes a list of parameter names, e.g. `cache_ignore = [\"seed\"]`";
    let value: syn::Expr = meta.value()?.parse()?;
    let syn::Expr::Array(array) = &value else {
        errors.push_spanned(&value, USAGE);
        return Ok(Vec::new());
    };
    let mut names: Vec<LitStr> = Vec::new();
    for element in &array.elems {
        match element {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => names.push(lit.clone()),
            other => errors.push_spanned(other, USAGE),
        }
    }
    Ok(names)
}

/// Checks `cache_ignore` against the function's parameters and the `cache` option.
pub fn check_cache_ignore(
    attr: &TaskAttr,
    fn_name: &syn::Ident,
    params: &[String],
) -> syn::Result<()> {
    let Some((key, names)) = &attr.cache_ignore else {
        return Ok(());
    };
    let mut errors = Errors::default();
    if attr.cache.is_none() {
        errors.push_spanned(
            key,
            "`cache_ignore` needs a cache version: add `cache = \"1.0\"`",
        );
    }
    for (i, lit) in names.iter().enumerate() {
        if names[..i].iter().any(|n| n.value() == lit.value()) {
            errors.push_spanned(
                lit,
                format!(
                    "`{}` is already in `cache_ignore`; give it once",
                    lit.value()
                ),
            );
        } else if !params.contains(&lit.value()) {
            let valid = params
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let valid = if valid.is_empty() {
                "none".to_owned()
            } else {
                valid
            };
            errors.push_spanned(
                lit,
                format!(
                    "`{}` is not a parameter of `{fn_name}`; its parameters are {valid}",
                    lit.value()
                ),
            );
        }
    }
    errors.finish()
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
