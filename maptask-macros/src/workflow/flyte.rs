//! The workflow's Flyte definition (facade feature `flyte`): `FlyteWorkflow::flyte_def` and its
//! registration, wrapped in `__private::if_flyte!` since this macro cannot see the facade's
//! features.
//!
//! Each node becomes a call of the callee's signature macro in the mode `flyte_node` or
//! `flyte_map`, whose values are sources, not values: a workflow input, a node's output, a
//! constant (marked `__maptask_const(…)`, typed by the callback as the parameter) or something
//! Flyte cannot bind (`Arg::Unsupported` with the reason). Nothing here reports an error: the
//! workflow's run already checks every call, and a second report would only repeat it.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::Expr;

use super::graph::{Body, Call, Node, Producer};
use super::parse::WorkflowFn;
use crate::common::tokens::{option_duration, option_of, signature_macro};
use crate::map::MapArg;

/// The map options, which are not task parameters (`bind(…)` says otherwise).
const MAP_OPTIONS: [&str; 6] = [
    "concurrency",
    "min_success_ratio",
    "min_successes",
    "retries",
    "timeout",
    "name",
];

pub fn expand(wf: &WorkflowFn<'_>, body: &Body, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let ident = &wf.func.sig.ident;
    let nodes = body.nodes.iter().map(|node| node_def(body, node, krate));
    let output = match (&body.output, &wf.output) {
        (Some(out), Some(ty)) => {
            let local = quote!(__maptask_output);
            let arg = arg_of(body, &out.deps, &out.expr);
            let lets = typed_arg(&private, &quote!(#ty), &arg, &local);
            quote!(::core::option::Option::Some({
                #lets
                (&&#private::flyte::ArgProbe(#local)).maptask_source()
            }))
        }
        _ => quote!(::core::option::Option::None),
    };
    quote! {
        #private::if_flyte! {
            const _: () = {
                impl #private::flyte::FlyteWorkflow for #ident {
                    fn flyte_def() -> ::core::result::Result<
                        #private::flyte::WorkflowDef,
                        #private::flyte::SerializeError,
                    > {
                        #[allow(unused_imports)]
                        use #private::flyte::{ArgViaAnything as _, ArgViaSerde as _};
                        #private::flyte::workflow_def::<Self>(
                            ::std::vec![#(#nodes),*],
                            #output,
                        )
                    }
                }

                #private::registry::inventory::submit! {
                    #private::flyte::WorkflowRegistration::new(
                        <#ident as #private::Task>::NAME,
                        <#ident as #private::flyte::FlyteWorkflow>::flyte_def,
                    )
                }
            };
        }
    }
}

/// How one value reaches a Flyte node.
enum Arg {
    Input(String),
    Node(String),
    Const(Expr),
    Unsupported(&'static str),
}

/// `let local: Arg<ty> = …;` for a value of type `ty` (the workflow's output).
fn typed_arg(
    private: &TokenStream,
    ty: &TokenStream,
    arg: &Arg,
    local: &TokenStream,
) -> TokenStream {
    match arg {
        Arg::Const(expr) => quote! {
            #[allow(unused_braces)]
            let #local: #ty = #expr;
            let #local = #private::flyte::Arg::Const(#local);
        },
        other => {
            let source = arg_tokens(private, other);
            quote!(let #local: #private::flyte::Arg<#ty> = #source;)
        }
    }
}

/// An argument as the callback reads it: an `Arg` expression, or a marked constant.
fn arg_tokens(private: &TokenStream, arg: &Arg) -> TokenStream {
    match arg {
        Arg::Input(name) => quote!(#private::flyte::input(#name)),
        Arg::Node(id) => quote!(#private::flyte::output(#id)),
        Arg::Const(expr) => quote!(__maptask_const(#expr)),
        Arg::Unsupported(reason) => quote!(#private::flyte::Arg::Unsupported(#reason)),
    }
}

/// What an argument (already lowered: a value's name or a constant) binds to. `deps` are the
/// values the node (or output) uses, which resolve its names as the body's scope did.
fn arg_of(body: &Body, deps: &[usize], expr: &Expr) -> Arg {
    let named = |ident: &syn::Ident| {
        deps.iter()
            .copied()
            .find(|v| body.values[*v].name == *ident)
    };
    if let Expr::Path(p) = expr {
        if let Some(v) = p.path.get_ident().and_then(named) {
            return value_arg(body, v);
        }
    }
    if let Expr::Paren(p) = expr {
        return arg_of(body, deps, &p.expr);
    }
    let mut uses_value = false;
    visit_idents(expr.to_token_stream(), &mut |ident| {
        uses_value |= named(ident).is_some();
    });
    if uses_value {
        Arg::Unsupported("a tuple of workflow values, which Flyte cannot bind as one value")
    } else {
        Arg::Const(expr.clone())
    }
}

fn visit_idents(tokens: TokenStream, f: &mut dyn FnMut(&syn::Ident)) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => f(&ident),
            proc_macro2::TokenTree::Group(group) => visit_idents(group.stream(), f),
            _ => {}
        }
    }
}

/// What a value binds to: a workflow input, a node's output, or the constant it was bound to.
fn value_arg(body: &Body, value: usize) -> Arg {
    match &body.values[value].producer {
        Producer::Input(_) => Arg::Input(body.values[value].name.to_string()),
        Producer::Node(k) => Arg::Node(body.nodes[*k].id.clone()),
        Producer::Constant(expr) => Arg::Const(expr.clone()),
        Producer::Alias(of) => value_arg(body, *of),
        Producer::Projection { .. } => Arg::Unsupported(
            "an element of a destructured tuple output, which the Flyte serialization does not bind yet",
        ),
    }
}

/// The arguments of a call with each value replaced by its source, names kept.
fn rewrite_args(
    private: &TokenStream,
    body: &Body,
    node: &Node,
    args: &[Expr],
) -> Vec<TokenStream> {
    args.iter()
        .map(|arg| match arg {
            Expr::Assign(assign) => {
                let left = &assign.left;
                let right = arg_tokens(private, &arg_of(body, &node.deps, &assign.right));
                quote!(#left = #right)
            }
            other => arg_tokens(private, &arg_of(body, &node.deps, other)),
        })
        .collect()
}

fn is_option(arg: &MapArg) -> bool {
    use crate::map::parse::Group;
    match arg.group {
        Group::Options => true,
        Group::Bind => false,
        Group::Bare => MAP_OPTIONS.contains(&arg.key.to_string().as_str()),
    }
}

/// One node's definition: a `NodeResult` expression.
fn node_def(body: &Body, node: &Node, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let id = &node.id;
    let o = &node.overrides;
    let retries = option_of(o.retries.as_ref());
    let timeout = option_duration(o.timeout);
    let concurrency = option_of(o.concurrency.as_ref());
    let requests = o.requests.to_tokens(&private);
    let limits = o.limits.to_tokens(&private);
    let overrides = quote! {
        #private::flyte::NodeOverrides {
            retries: #retries,
            timeout: #timeout,
            concurrency: #concurrency,
            requests: #requests,
            limits: #limits,
        }
    };
    match &node.call {
        Call::Entity { path, args, .. } => {
            let signature = signature_macro(path);
            let args = rewrite_args(&private, body, node, args);
            quote! {
                #signature! { krate = { #krate }, path = { #path }, flyte_node = {
                    id = #id, overrides = { #overrides }, inputs = { #(#args),* }
                } }
            }
        }
        Call::Map {
            path,
            map_args,
            args,
            ..
        } => {
            let mut rewritten = Vec::new();
            for arg in map_args {
                if is_option(arg) {
                    let mut uses_value = false;
                    visit_idents(arg.value.to_token_stream(), &mut |ident| {
                        uses_value |= node.deps.iter().any(|v| body.values[*v].name == *ident);
                    });
                    if uses_value {
                        let reason = format!(
                            "its map option `{}` is computed from a workflow value; Flyte needs it when the workflow is registered",
                            arg.key
                        );
                        return quote!(#private::flyte::invalid_node(#id, #reason));
                    }
                    rewritten.push(arg.tokens());
                } else {
                    let value = arg_tokens(&private, &arg_of(body, &node.deps, &arg.value));
                    let value: Expr = match syn::parse2(value) {
                        Ok(value) => value,
                        Err(_) => {
                            return quote!(#private::flyte::invalid_node(#id, "its call does not compile"))
                        }
                    };
                    rewritten.push(
                        MapArg {
                            value,
                            ..arg.clone()
                        }
                        .tokens(),
                    );
                }
            }
            let signature = signature_macro(path);
            let args = rewrite_args(&private, body, node, args);
            quote! {
                #signature! { krate = { #krate }, path = { #path }, flyte_map = {
                    id = #id, overrides = { #overrides }, args = { #(#rewritten),* }, call = { #(#args),* }
                } }
            }
        }
    }
}
