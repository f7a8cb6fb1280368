//! `.with_overrides(retries = 2, timeout = "1m", concurrency = 4, name = "…", requests(…), limits(…))`.

use std::time::Duration;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Expr, Lit, LitStr};

use crate::common::diagnostics::Errors;
use crate::common::duration::parse_duration;
use crate::common::resources::ResourceSpec;
use crate::common::tokens::{option_duration, option_of};

const KEYS: &str = "`retries`, `timeout`, `concurrency` (maps), `name`, `requests(…)`, `limits(…)`";

#[derive(Default)]
pub struct Overrides {
    pub retries: Option<Expr>,
    pub timeout: Option<Duration>,
    pub concurrency: Option<Expr>,
    pub name: Option<LitStr>,
    pub requests: ResourceSpec,
    pub limits: ResourceSpec,
}

pub fn parse(args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>) -> syn::Result<Overrides> {
    let mut out = Overrides::default();
    let mut errors = Errors::default();
    let mut seen = Vec::new();
    for arg in args {
        match arg {
            Expr::Assign(assign) => {
                let Some(key) = ident_of(&assign.left) else {
                    errors.push_spanned(&assign.left, format!("expected an override name: {KEYS}"));
                    continue;
                };
                if seen.contains(&key) {
                    errors.push_spanned(
                        &assign.left,
                        format!("duplicate override `{key}`; give it once"),
                    );
                    continue;
                }
                seen.push(key.clone());
                let value = &*assign.right;
                match key.as_str() {
                    "retries" => out.retries = Some(value.clone()),
                    "concurrency" => out.concurrency = Some(value.clone()),
                    "timeout" => match string_lit(value) {
                        Some(lit) => match parse_duration(&lit.value()) {
                            Ok(d) => out.timeout = Some(d),
                            Err(message) => errors.push_spanned(lit, message),
                        },
                        None => errors.push_spanned(value, "`timeout` takes a duration string, e.g. `timeout = \"30s\"`"),
                    },
                    "name" => match string_lit(value) {
                        Some(lit) if is_node_name(&lit.value()) => out.name = Some(lit.clone()),
                        _ => errors.push_spanned(
                            value,
                            "`name` takes a string of letters, digits, `_` and `-`, e.g. `name = \"render\"`",
                        ),
                    },
                    _ => errors.push_spanned(&assign.left, format!("unknown override `{key}`; the overrides are {KEYS}")),
                }
            }
            Expr::Call(call) => {
                let Some(key) = ident_of(&call.func) else {
                    errors.push_spanned(&call.func, format!("expected an override: {KEYS}"));
                    continue;
                };
                let slot = match key.as_str() {
                    "requests" => &mut out.requests,
                    "limits" => &mut out.limits,
                    _ => {
                        errors.push_spanned(
                            &call.func,
                            format!("unknown override `{key}`; the overrides are {KEYS}"),
                        );
                        continue;
                    }
                };
                if seen.contains(&key) {
                    errors.push_spanned(
                        &call.func,
                        format!("duplicate override `{key}`; give it once"),
                    );
                    continue;
                }
                seen.push(key.clone());
                for resource in &call.args {
                    let Expr::Assign(assign) = resource else {
                        errors.push_spanned(
                            resource,
                            format!("write `{key}(cpu = \"500m\", mem = \"1Gi\")`"),
                        );
                        continue;
                    };
                    let Expr::Path(left) = &*assign.left else {
                        errors.push_spanned(
                            &assign.left,
                            format!("expected `cpu`, `mem` or `gpu` in `{key}(…)`"),
                        );
                        continue;
                    };
                    let Some(name) = left.path.get_ident() else {
                        errors.push_spanned(
                            &assign.left,
                            format!("expected `cpu`, `mem` or `gpu` in `{key}(…)`"),
                        );
                        continue;
                    };
                    let Some(value) = string_lit(&assign.right) else {
                        errors.push_spanned(
                            &assign.right,
                            "a resource quantity is a string such as \"500m\", \"2\", \"1Gi\" or \"512Mi\"",
                        );
                        continue;
                    };
                    if let Err(e) = slot.set(&key, name, value.clone()) {
                        errors.push(e);
                    }
                }
            }
            other => errors.push_spanned(other, format!("expected an override: {KEYS}")),
        }
    }
    errors.finish()?;
    Ok(out)
}

fn ident_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    }
}

fn string_lit(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        _ => None,
    }
}

fn is_node_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Overrides {
    /// The run-time overrides, as a `__private::Overrides` value.
    pub fn to_tokens(&self, private: &TokenStream) -> TokenStream {
        let retries = option_of(self.retries.as_ref());
        let concurrency = option_of(self.concurrency.as_ref());
        let timeout = option_duration(self.timeout);
        quote! {
            #private::Overrides {
                retries: #retries,
                timeout: #timeout,
                concurrency: #concurrency,
            }
        }
    }
}
