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

/// The macros of the std prelude. A task named like one (`file`, `line`, `env`…) defines its
/// signature macro under that name; called as a bare name, rustc finds both and refuses to
/// choose (E0659), so such a call goes through `self::`.
const PRELUDE_MACROS: [&str; 36] = [
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "compile_error",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "thread_local",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
    "debug",
];

/// The path by which to call a task's signature macro: as written, or through `self::` when a
/// bare name is also a prelude macro.
pub fn signature_macro(path: &syn::Path) -> TokenStream {
    match path.get_ident() {
        Some(ident) if PRELUDE_MACROS.contains(&ident.to_string().as_str()) => {
            quote!(self::#ident)
        }
        _ => path.to_token_stream(),
    }
}
