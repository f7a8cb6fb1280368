//! `map_task!(task, option = value, …, param = value, …)`.
//!
//! The macro cannot see the task's signature, so it runs in two steps:
//! 1. [`entry`] parses the task path and expands to `path! { path = {…}, args = {…} }`, a call of
//!    the signature macro that `#[task]` emitted next to the function;
//! 2. that macro calls `__expand_map! { params = [names…], path = {…}, args = {…} }`, which lands in
//!    [`expand_with_signature`]: parse, validate against the parameter names, expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};

pub use parse::MapArgs;

/// The user's `map_task!(path, rest…)`.
struct Entry {
    path: syn::Path,
    rest: TokenStream,
}

impl Parse for Entry {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "map_task! needs a task: write `map_task!(my_task, concurrency = 10, param = value)`",
            ));
        }
        let path: syn::Path = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "map_task! starts with the path of a #[task] function, e.g. `map_task!(my_task, …)`",
            )
        })?;
        if !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
        }
        Ok(Entry {
            path,
            rest: input.parse()?,
        })
    }
}

pub fn entry(input: TokenStream) -> TokenStream {
    let Entry { path, rest } = match syn::parse2::<Entry>(input) {
        Ok(entry) => entry,
        Err(e) => return e.to_compile_error(),
    };
    // Checked here, before the call into the task's macro, so that mistakes that need no
    // signature are reported even when the path is wrong.
    if let Err(e) = syn::parse2::<MapArgs>(rest.clone()) {
        return e.to_compile_error();
    }
    quote! {
        #path! { path = { #path }, args = { #rest } }
    }
}

/// The input of `__expand_map!`.
struct WithSignature {
    params: Vec<syn::Ident>,
    path: syn::Path,
    args: MapArgs,
}

impl Parse for WithSignature {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let content;
        keyword(input, "params")?;
        syn::bracketed!(content in input);
        let params = content
            .parse_terminated(<syn::LitStr as Parse>::parse, syn::Token![,])?
            .into_iter()
            .map(|lit| syn::Ident::new(&lit.value(), lit.span()))
            .collect();
        input.parse::<syn::Token![,]>()?;
        keyword(input, "path")?;
        let path_tokens;
        syn::braced!(path_tokens in input);
        let path = path_tokens.parse()?;
        input.parse::<syn::Token![,]>()?;
        keyword(input, "args")?;
        let args_tokens;
        syn::braced!(args_tokens in input);
        let args = args_tokens.parse()?;
        Ok(WithSignature { params, path, args })
    }
}

fn keyword(input: ParseStream<'_>, word: &str) -> syn::Result<()> {
    let ident: syn::Ident = input.parse()?;
    input.parse::<syn::Token![=]>()?;
    if ident != word {
        return Err(syn::Error::new(ident.span(), format!("expected `{word}`")));
    }
    Ok(())
}

pub fn expand_with_signature(input: TokenStream) -> TokenStream {
    let parsed = match syn::parse2::<WithSignature>(input) {
        Ok(parsed) => parsed,
        Err(e) => return e.to_compile_error(),
    };
    match validate::validate(&parsed.path, &parsed.params, &parsed.args) {
        Ok(plan) => expand::expand(&parsed.path, &plan),
        Err(e) => e.to_compile_error(),
    }
}
