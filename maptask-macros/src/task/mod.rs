//! `#[task]`: parse the attribute and the function, validate, expand.

mod attr;
mod expand;

use proc_macro2::TokenStream;

use crate::common::diagnostics::with_fallback;
use crate::common::signature;

pub fn entry(args: TokenStream, item: TokenStream) -> TokenStream {
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "#[task] applies to a free function: write `#[task] fn name(arg: Type) -> Output { … }`",
            );
            return with_fallback(error, item);
        }
    };
    let attr = attr::parse(args);
    let signature = signature::parse(&func, "task");
    match (attr, signature) {
        (Ok(attr), Ok(signature)) => {
            let params: Vec<String> = signature
                .params
                .iter()
                .map(|p| p.name.to_string())
                .collect();
            match attr::check_cache_ignore(&attr, &func.sig.ident, &params) {
                Ok(()) => expand::expand(&func, &attr, &signature),
                Err(e) => with_fallback(e, fallback(func)),
            }
        }
        (Err(mut a), Err(b)) => {
            a.combine(b);
            with_fallback(a, fallback(func))
        }
        (Err(e), _) | (_, Err(e)) => with_fallback(e, fallback(func)),
    }
}

/// The function as written, so that code calling it still compiles, minus what would only
/// repeat our error in rustc's words (a C variadic on a Rust function).
fn fallback(mut func: syn::ItemFn) -> TokenStream {
    if func.sig.variadic.take().is_some() {
        // Drop the comma that stood before `...`.
        let inputs = std::mem::take(&mut func.sig.inputs);
        func.sig.inputs = inputs.into_iter().collect();
    }
    quote::ToTokens::into_token_stream(func)
}
