//! Parses the options and bindings of `map_task!`, remembering every token for error spans.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token};

/// How a `key = value` was written: bare, or inside `bind(…)` or `options(…)`, which say
/// whether `key` is a task parameter or a map option when it could be either.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Bare,
    Bind,
    Options,
}

/// One `key = value` after the task path.
#[derive(Clone)]
pub struct MapArg {
    pub key: Ident,
    pub value: Expr,
    pub group: Group,
}

impl MapArg {
    /// The argument as it was written, to forward it.
    pub fn tokens(&self) -> TokenStream {
        let (key, value) = (&self.key, &self.value);
        match self.group {
            Group::Bare => quote::quote!(#key = #value),
            Group::Bind => quote::quote!(bind(#key = #value)),
            Group::Options => quote::quote!(options(#key = #value)),
        }
    }
}

/// Everything after the task path, in source order.
pub struct MapArgs {
    pub items: Vec<MapArg>,
}

impl Parse for MapArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `option = value` or `parameter = value`, e.g. `concurrency = 10` or `factor = 2`",
                )
            })?;
            let group = match key.to_string().as_str() {
                "bind" if input.peek(syn::token::Paren) => Some(Group::Bind),
                "options" if input.peek(syn::token::Paren) => Some(Group::Options),
                _ => None,
            };
            if let Some(group) = group {
                let content;
                syn::parenthesized!(content in input);
                let inner: MapArgs = content.parse()?;
                for arg in inner.items {
                    if arg.group != Group::Bare {
                        return Err(syn::Error::new(
                            arg.key.span(),
                            "`bind(…)` and `options(…)` hold `name = value` pairs, not other groups",
                        ));
                    }
                    items.push(MapArg { group, ..arg });
                }
            } else {
                if !input.peek(Token![=]) {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("`{key}` needs a value: write `{key} = …`"),
                    ));
                }
                let eq = input.parse::<Token![=]>()?;
                if input.is_empty() || input.peek(Token![,]) {
                    return Err(syn::Error::new(
                        eq.span,
                        format!("`{key} =` has no value: write `{key} = …`, or remove it"),
                    ));
                }
                let value: Expr = input.parse()?;
                items.push(MapArg {
                    key,
                    value,
                    group: Group::Bare,
                });
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(MapArgs { items })
    }
}

/// The inside of `map_task!(path, key = value, …)`, in `map_task!` itself and in a workflow.
pub struct Invocation {
    pub path: syn::Path,
    pub args: MapArgs,
    /// The arguments exactly as written, to forward with their spans.
    pub rest: TokenStream,
}

impl Parse for Invocation {
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
            input.parse::<Token![,]>()?;
        }
        let rest: TokenStream = input.parse()?;
        let args = syn::parse2(rest.clone())?;
        Ok(Invocation { path, args, rest })
    }
}
