//! Parses the options and bindings of `map_task!`, remembering every token for error spans.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token};

/// One `key = value` after the task path.
pub struct MapArg {
    pub key: Ident,
    pub value: Expr,
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
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` needs a value: write `{key} = …`"),
                ));
            }
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            items.push(MapArg { key, value });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(MapArgs { items })
    }
}
