//! `#[task]`: parse the attribute and the function, validate, expand.

mod attr;
mod expand;
mod signature;

use proc_macro2::TokenStream;

use crate::common::diagnostics::with_fallback;

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
    let signature = signature::parse(&func);
    match (attr, signature) {
        (Ok(attr), Ok(signature)) => expand::expand(&func, &attr, &signature),
        (Err(mut a), Err(b)) => {
            a.combine(b);
            with_fallback(a, item)
        }
        (Err(e), _) | (_, Err(e)) => with_fallback(e, item),
    }
}
