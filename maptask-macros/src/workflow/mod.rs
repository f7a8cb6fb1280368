//! `#[workflow]`: parse the function, analyze its body into a graph, expand.
//!
//! * `parse.rs`: the attribute and the signature;
//! * `graph.rs`: the body, statement by statement, into values and nodes, rejecting what the
//!   workflow language does not allow;
//! * `overrides.rs`: `.with_overrides(…)`;
//! * `expand.rs`: the description (as for a task) plus the code that runs the graph;
//! * `flyte.rs`: the Flyte definition of the graph, under the facade's feature `flyte`.

mod expand;
mod flyte;
mod graph;
mod overrides;
mod parse;

use proc_macro2::TokenStream;

use crate::common::diagnostics::with_fallback;

pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[workflow] applies to a free function: write `#[workflow] fn name(input: Type) -> Output { … }`",
            );
            return with_fallback(error, item);
        }
    };
    let result = parse::parse(args, &func).and_then(|wf| {
        let graph = graph::analyze(&wf)?;
        Ok(expand::expand(&wf, &graph))
    });
    match result {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}
