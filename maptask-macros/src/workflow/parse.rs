//! The `#[workflow(...)]` attribute and the function's signature.

use proc_macro2::TokenStream;
use syn::{Ident, Type};

use crate::common::diagnostics::Errors;
use crate::common::signature::{self, Output};

/// A workflow function, checked.
pub struct WorkflowFn<'a> {
    pub func: &'a syn::ItemFn,
    pub name: Option<syn::LitStr>,
    /// `crate = path`: where `maptask` is, for a renamed dependency.
    pub krate: Option<syn::Path>,
    pub inputs: Vec<(Ident, Type)>,
    /// The declared output; `None` for `()`.
    pub output: Option<Type>,
}

pub fn parse(args: TokenStream, func: &syn::ItemFn) -> syn::Result<WorkflowFn<'_>> {
    let mut errors = Errors::default();
    let mut name = None;
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            if name.is_some() {
                errors.push_spanned(&meta.path, "duplicate workflow option `name`; give it once");
            }
            name = Some(meta.value()?.parse::<syn::LitStr>()?);
            Ok(())
        } else if meta.path.is_ident("crate") {
            if krate.is_some() {
                errors.push_spanned(
                    &meta.path,
                    "duplicate workflow option `crate`; give it once",
                );
            }
            let value = meta.value()?;
            krate = Some(if value.peek(syn::LitStr) {
                value.parse::<syn::LitStr>()?.parse()?
            } else {
                value.parse()?
            });
            Ok(())
        } else {
            Err(meta.error(
                "unknown workflow option; the options are `name = \"…\"` and `crate = path`",
            ))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }

    if let Some(token) = &func.sig.asyncness {
        errors.push_spanned(
            token,
            "a workflow is declared without `async`: its body describes a graph; calling it, `my_wf(…).await`, runs the graph",
        );
    }
    let (inputs, output) = match signature::parse(func, "workflow") {
        Ok(sig) => {
            let inputs = sig.params.into_iter().map(|p| (p.name, p.ty)).collect();
            let output = match sig.output {
                Output::Unit => None,
                Output::Value(ty) | Output::Result(ty, _) => Some(ty),
            };
            (inputs, output)
        }
        Err(e) => {
            errors.push(e);
            (Vec::new(), None)
        }
    };
    errors.finish()?;
    Ok(WorkflowFn {
        func,
        name,
        krate,
        inputs,
        output,
    })
}
