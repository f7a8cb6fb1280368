//! The `#[workflow(...)]` attribute and the function's signature.

use proc_macro2::TokenStream;
use syn::{FnArg, Ident, Pat, ReturnType, Type};

use crate::common::diagnostics::Errors;

/// A workflow function, checked.
pub struct WorkflowFn<'a> {
    pub func: &'a syn::ItemFn,
    pub name: Option<syn::LitStr>,
    pub inputs: Vec<(Ident, Type)>,
    /// The declared output; `None` for `()`.
    pub output: Option<Type>,
}

pub fn parse(args: TokenStream, func: &syn::ItemFn) -> syn::Result<WorkflowFn<'_>> {
    let mut errors = Errors::default();
    let mut name = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            if name.is_some() {
                errors.push_spanned(&meta.path, "duplicate workflow option `name`; give it once");
            }
            name = Some(meta.value()?.parse::<syn::LitStr>()?);
            Ok(())
        } else {
            Err(meta.error("unknown workflow option; the only option is `name = \"…\"`"))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        errors.push(e);
    }

    let sig = &func.sig;
    if sig.asyncness.is_some() {
        errors.push_spanned(
            sig.asyncness,
            "a workflow is declared without `async`: its body describes a graph, and `my_wf::run(…)` is the async call",
        );
    }
    if let Some(token) = &sig.constness {
        errors.push_spanned(token, "a workflow cannot be a `const fn`; remove `const`");
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        errors.push_spanned(token, "a workflow cannot be `unsafe`; remove `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.push_spanned(
            abi,
            "a workflow cannot be an `extern` function; remove the ABI",
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push_spanned(
            &sig.generics,
            "a workflow cannot be generic: its interface must name concrete types",
        );
    }
    let mut inputs = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => {
                errors.push_spanned(r, "a workflow cannot take `self`; make it a free function")
            }
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                    if matches!(&*typed.ty, Type::Reference(_) | Type::ImplTrait(_)) {
                        errors.push_spanned(
                            &typed.ty,
                            "a workflow input is an owned value of a concrete type",
                        );
                    }
                    inputs.push((p.ident.clone(), (*typed.ty).clone()));
                }
                other => errors.push_spanned(
                    other,
                    "a workflow input must be a plain name, e.g. `xs: Vec<i64>`",
                ),
            },
        }
    }
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(t) if t.elems.is_empty() => None,
            ty => Some(ty.clone()),
        },
    };
    errors.finish()?;
    Ok(WorkflowFn {
        func,
        name,
        inputs,
        output,
    })
}
