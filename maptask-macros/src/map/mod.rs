//! `map_task!(task, option = value, …, param = value, …)`.
//!
//! The macro cannot see the task's signature, so it runs in two steps:
//! 1. [`entry`] parses the task path and expands to `path! { path = {…}, args = {…} }`, a call of
//!    the signature macro that `#[task]` emitted next to the function;
//! 2. that macro calls `__with_signature! { params = [names…], kind = …, path = {…}, args = {…} }`
//!    (see `callback.rs`), which lands in [`expand_map`]: validate against the parameter names,
//!    expand.

mod expand;
mod parse;
mod validate;

pub use validate::Feed;

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
        Err(e) => return crate::callback::expression_error(e),
    };
    // Checked here, before the call into the task's macro, so that mistakes that need no
    // signature are reported even when the path is wrong.
    if let Err(e) = syn::parse2::<MapArgs>(rest.clone()) {
        return crate::callback::expression_error(e);
    }
    quote! {
        #path! { path = { #path }, args = { #rest } }
    }
}

/// Validates and expands a `map_task!` whose task has parameters `params`. With `call`, the map
/// is also called with those named mapped inputs (the workflow form `map_task!(…)(a = x)`).
pub fn expand_map(
    path: &syn::Path,
    params: &[syn::Ident],
    args: &MapArgs,
    call: Option<&crate::callback::CallArgs>,
) -> syn::Result<TokenStream> {
    let plan = validate::validate(path, params, args)?;
    let map = expand::expand(path, &plan);
    let Some(call) = call else {
        return Ok(map);
    };
    let mapped: Vec<syn::Ident> = plan
        .params
        .iter()
        .filter(|p| matches!(p.feed, Feed::Mapped))
        .map(|p| p.name.clone())
        .collect();
    let ordered = call.order(path, &mapped, "mapped input")?;
    Ok(quote! {
        ::maptask::__private::MapNodeCall::new(#map, (#(#ordered,)*))
    })
}
