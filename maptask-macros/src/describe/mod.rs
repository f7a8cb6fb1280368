//! `#[derive(Describe)]`: the description of a user type, as serde writes it.
//!
//! * `attr.rs`: `#[describe(…)]`, and the `#[serde(…)]` attributes that change the shape;
//! * `case.rs`: serde's `rename_all` rules;
//! * `parse.rs`: the type, read into fields and variants with their serde names;
//! * `expand.rs`: the `Describe` implementation.

mod attr;
mod case;
mod expand;
mod parse;

use proc_macro2::TokenStream;

pub fn entry(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match parse::parse(&input) {
        Ok(container) => expand::expand(&container),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(expand::fallback(&input));
            out
        }
    }
}
