//! `map_task!(task, option = value, …, param = value, …)`.
//!
//! The macro cannot see the task's signature, so it runs in two steps:
//! 1. [`entry`] parses the task path and expands to `path! { path = {…}, args = {…} }`, a call of
//!    the signature macro that `#[task]` emitted next to the function;
//! 2. that macro calls `__with_signature! { params = [names…], kind = …, path = {…}, args = {…} }`
//!    (see `callback.rs`), which lands in [`expand_map`]: validate against the parameter names,
//!    expand.

pub mod expand;
pub mod parse;
pub mod validate;

pub use validate::Feed;

use proc_macro2::TokenStream;
use quote::quote;

pub use parse::{Invocation, MapArg, MapArgs};

/// `map_task!` in the facade is a `macro_rules!` that passes its `$crate` first, so the path of
/// `maptask` is right even under a renamed dependency: `krate = { $crate }, task, args…`.
pub fn entry(input: TokenStream) -> TokenStream {
    let (krate, input) = match split_krate(input) {
        Ok(split) => split,
        Err(e) => return crate::callback::expression_error(e),
    };
    // The arguments are parsed here, before the call into the task's macro, so that mistakes that
    // need no signature are reported even when the path is wrong; they are forwarded as written.
    let Invocation { path, rest, .. } = match syn::parse2::<Invocation>(input) {
        Ok(invocation) => invocation,
        Err(e) => return crate::callback::expression_error(e),
    };
    let signature = crate::common::tokens::signature_macro(&path);
    quote! {
        #signature! { krate = { #krate }, path = { #path }, args = { #rest } }
    }
}

/// `krate = { path }, rest` into the path and the rest.
fn split_krate(input: TokenStream) -> syn::Result<(TokenStream, TokenStream)> {
    syn::parse::Parser::parse2(
        |input: syn::parse::ParseStream<'_>| {
            let key: syn::Ident = input.parse()?;
            if key != "krate" {
                return Err(syn::Error::new(
                    key.span(),
                    "call `map_task!` through the `maptask` crate: `maptask::map_task!(…)`",
                ));
            }
            input.parse::<syn::Token![=]>()?;
            let krate;
            syn::braced!(krate in input);
            let krate: TokenStream = krate.parse()?;
            input.parse::<syn::Token![,]>()?;
            let rest: TokenStream = input.parse()?;
            Ok((krate, rest))
        },
        input,
    )
}

/// Validates and expands a `map_task!` whose task has parameters `params`. With `call`, the map
/// is also called with those named mapped inputs (the workflow form `map_task!(…)(a = x)`).
pub fn expand_map(
    krate: &TokenStream,
    path: &syn::Path,
    params: &[syn::Ident],
    args: &MapArgs,
    call: Option<&crate::callback::CallArgs>,
) -> syn::Result<TokenStream> {
    let (plan, problems) = validate::validate(path, params, args)?;
    let map = expand::expand(krate, path, &plan);
    // The mistakes the plan left out are reported in front of a map that still has a type, so
    // that the code after it is neither unreachable nor a second error.
    let map = match problems {
        Some(problems) => {
            let errors = problems.into_iter().map(|e| e.to_compile_error());
            quote!({ #(#errors;)* #map })
        }
        None => map,
    };
    let Some(call) = call else {
        return Ok(map);
    };
    let (indices, mapped): (Vec<usize>, Vec<syn::Ident>) = plan
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.feed, Feed::Mapped))
        .map(|(i, p)| (i, p.name.clone()))
        .unzip();
    let ordered = call.order(path, &mapped, "mapped input")?;
    // Each input is checked against `Vec<parameter type>` at its own tokens, as a task call's
    // arguments are, so that a wrong element type is reported at the argument.
    let private = quote!(#krate::__private);
    let locals: Vec<syn::Ident> = (0..ordered.len())
        .map(|k| quote::format_ident!("__maptask_mapped{}", k))
        .collect();
    let lets = ordered
        .iter()
        .zip(&indices)
        .zip(&locals)
        .map(|((value, i), local)| {
            quote::quote_spanned! {syn::spanned::Spanned::span(value)=>
                #[allow(unused_braces)]
                let #local: ::std::vec::Vec<<#path as #private::TaskParam<#i>>::Type> = #value;
            }
        });
    // Each element's output ends up in the node's shared output, which is copied for each
    // node that uses it: checked at the task's path, once (see `node_output`).
    let map_local = quote::format_ident!("__maptask_map");
    let share = quote::quote_spanned! {syn::spanned::Spanned::span(path)=>
        #private::map_output::<<#path as #private::Task>::Output, _, _, _, _>(&#map_local)
    };
    Ok(quote! {
        {
            #(#lets)*
            let #map_local = #map;
            let __maptask_share = #share;
            #private::MapNodeCall::new(#map_local, (#(#locals,)*), __maptask_share)
        }
    })
}
