//! Resources as `#[task(requests(…), limits(…))]` and `.with_overrides(requests(…), limits(…))`
//! write them: one model, one check, one expansion.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, LitStr};

use super::tokens::option_of;

/// Requested or limited resources, as written.
#[derive(Default)]
pub struct ResourceSpec {
    pub cpu: Option<LitStr>,
    pub mem: Option<LitStr>,
    pub gpu: Option<LitStr>,
}

impl ResourceSpec {
    /// Sets resource `key` to `value` inside `option(…)` (`requests` or `limits`), or explains at
    /// the offending token why it cannot: an unknown resource, a malformed quantity, a duplicate.
    pub fn set(&mut self, option: &str, key: &Ident, value: LitStr) -> syn::Result<()> {
        let slot = match key.to_string().as_str() {
            "cpu" => &mut self.cpu,
            "mem" => &mut self.mem,
            "gpu" => &mut self.gpu,
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown resource in `{option}(…)`; the resources are `cpu`, `mem`, `gpu`"
                    ),
                ))
            }
        };
        if !is_quantity(&value.value()) {
            return Err(syn::Error::new(
                value.span(),
                format!(
                    "`{}` is not a resource quantity; write e.g. \"500m\", \"2\", \"1Gi\" or \"512Mi\"",
                    value.value()
                ),
            ));
        }
        if slot.is_some() {
            return Err(syn::Error::new(
                key.span(),
                format!("duplicate resource `{key}` in `{option}(…)`"),
            ));
        }
        *slot = Some(value);
        Ok(())
    }

    /// The spec as a `Resources` value; unset resources are `None`.
    pub fn to_tokens(&self, private: &TokenStream) -> TokenStream {
        let cpu = option_of(self.cpu.as_ref());
        let mem = option_of(self.mem.as_ref());
        let gpu = option_of(self.gpu.as_ref());
        quote!(#private::Resources { cpu: #cpu, mem: #mem, gpu: #gpu })
    }
}

/// A Kubernetes quantity: a decimal number and an optional suffix.
fn is_quantity(text: &str) -> bool {
    const SUFFIXES: [&str; 14] = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let digits = text
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (number, suffix) = text.split_at(digits);
    !number.is_empty()
        && number.bytes().filter(|b| *b == b'.').count() <= 1
        && number != "."
        && SUFFIXES.contains(&suffix)
}
