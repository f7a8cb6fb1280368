//! Small expansions every macro writes: optional values and durations.

use std::time::Duration;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

/// `Some(value)` or `None`, with `Some` on the value's span so that a type error lands on it.
pub fn option_of<T: ToTokens>(value: Option<&T>) -> TokenStream {
    match value {
        Some(value) => quote_spanned!(value.span()=> ::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// A duration checked at compile time, as an `Option<Duration>` expression.
pub fn option_duration(duration: Option<Duration>) -> TokenStream {
    match duration {
        Some(d) => {
            let (secs, nanos) = (d.as_secs(), d.subsec_nanos());
            quote!(::core::option::Option::Some(::core::time::Duration::new(#secs, #nanos)))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// A path as the user would write it, without token spacing: `a::b::f`.
pub fn path_string(path: &syn::Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
