//! Writes a workflow: its description (a `Task` like any task, plus its signature macro), the
//! `Workflow` implementation that runs the graph, and `run`, `run_on` and `graph`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Expr;

use super::graph::{Body, Call, Node, Producer};
use super::parse::WorkflowFn;
use crate::common::description::{doc_string, type_string, Description};
use crate::common::tokens::signature_macro;

pub fn expand(wf: &WorkflowFn<'_>, body: &Body) -> TokenStream {
    let krate = match &wf.krate {
        Some(path) => quote!(#path),
        None => quote!(::maptask),
    };
    let private = quote!(#krate::__private);
    let func = wf.func;
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let name = match &wf.name {
        Some(lit) => quote!(#lit),
        None => {
            let s = ident.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #s))
        }
    };
    let param_names: Vec<String> = wf.inputs.iter().map(|(n, _)| n.to_string()).collect();
    let param_types: Vec<&syn::Type> = wf.inputs.iter().map(|(_, t)| t).collect();
    let input_idents: Vec<&syn::Ident> = wf.inputs.iter().map(|(n, _)| n).collect();
    let output_ty = match &wf.output {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    let output_desc = match &wf.output {
        Some(ty) => quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc()),
        None => quote!(<() as #private::Describe>::type_desc()),
    };
    let description = Description {
        vis,
        ident,
        krate: &krate,
        kind: quote!(workflow),
        name,
        doc: doc_string(&func.attrs),
        param_names: &param_names,
        param_types: &param_types,
        output_ty: output_ty.clone(),
        output_desc: output_desc.clone(),
        output_rust_type: wf
            .output
            .as_ref()
            .map_or_else(|| "()".to_owned(), type_string),
        metadata: quote!(#private::Metadata::DEFAULT),
        execution: quote!(#private::Execution::Async),
        call: quote!(#private::call_as_task::<Self>(__maptask_inputs)),
        call_blocking: quote!(#private::block_on(<Self as #private::Task>::call(__maptask_inputs))),
        task_items: quote!(
            const IS_WORKFLOW: bool = true;
        ),
    };
    let described = description.emit();

    let run_graph = run_graph(wf, body, &krate);
    let graph = graph(wf, body, &output_desc, &krate);
    let run_doc = format!("Runs the workflow `{ident}` on the default runtime.");
    let function = function(wf, &krate, &output_ty);
    let flyte = super::flyte::expand(wf, body, &krate);

    quote! {
        #function

        #described
        #private::register_task!(#ident);
        #flyte

        const _: () = {
            impl #private::Workflow for #ident {
                // A node call that does not compile expands to a diverging block; its errors
                // are what matters, not the code after it.
                #[allow(unreachable_code)]
                fn run_in(
                    __maptask_ctx: #private::WorkflowCtx,
                    __maptask_inputs: <Self as #private::Task>::Inputs,
                ) -> #private::BoxFuture<'static, ::core::result::Result<#output_ty, #krate::WorkflowError>> {
                    ::std::boxed::Box::pin(async move { #run_graph })
                }

                fn graph() -> #private::Graph {
                    #graph
                }
            }
        };

        #[allow(dead_code)]
        impl #ident {
            #[doc = #run_doc]
            #vis async fn run(
                #(#input_idents: #param_types),*
            ) -> ::core::result::Result<#output_ty, #krate::WorkflowError> {
                Self::run_on(#private::Runtime::global(), #(#input_idents),*).await
            }

            /// Runs the workflow on `runtime`.
            #vis async fn run_on(
                __maptask_runtime: &#private::Runtime,
                #(#input_idents: #param_types),*
            ) -> ::core::result::Result<#output_ty, #krate::WorkflowError> {
                let __maptask_ctx = #private::WorkflowCtx::new(
                    ::core::clone::Clone::clone(__maptask_runtime),
                    <Self as #private::Task>::NAME,
                );
                <Self as #private::Workflow>::run_in(__maptask_ctx, (#(#input_idents,)*)).await
            }

            /// The workflow's static graph: nodes, edges and interface.
            #vis fn graph() -> #private::Graph {
                <Self as #private::Workflow>::graph()
            }
        }
    }
}

/// The workflow as the user declared it: an `async fn` with the user's name, attributes and
/// doc comment, which runs the graph on the default runtime. So `my_wf(x).await` works, rustdoc
/// lists it as a function, and `missing_docs` applies to it as to any function.
fn function(wf: &WorkflowFn<'_>, krate: &TokenStream, output_ty: &TokenStream) -> TokenStream {
    let func = wf.func;
    let vis = &func.vis;
    let ident = &func.sig.ident;
    let attrs = &func.attrs;
    let inputs = wf.inputs.iter().map(|(name, ty)| quote!(#name: #ty));
    let names = wf.inputs.iter().map(|(name, _)| name);
    let has_doc = attrs.iter().any(|a| a.path().is_ident("doc"));
    // Appended to the user's own doc comment, never instead of it: without one, `missing_docs`
    // must still fire.
    let more_doc = has_doc.then(|| {
        let text = format!(
            " A `#[workflow]`: runs its graph on the default runtime, every independent node at once. \
             `{ident}::run_on(&runtime, …)` runs it on another runtime, and `{ident}::graph()` returns its graph."
        );
        // On the user's tokens: doc lints (clippy's `missing_errors_doc`) skip doc attributes
        // that come from another crate's macro.
        quote_spanned! {ident.span()=>
            #[doc = ""]
            #[doc = #text]
            #[doc = ""]
            #[doc = " # Errors"]
            #[doc = ""]
            #[doc = " A `WorkflowError` that names the first node to fail and why."]
        }
    });
    // The signature carries the user's spans, so that lints about the function (`missing_docs`)
    // point at it rather than at `#[workflow]`.
    let function = quote_spanned! {func.sig.span()=>
        #vis async fn #ident(
            #(#inputs),*
        ) -> ::core::result::Result<#output_ty, #krate::WorkflowError> {
            <#ident>::run(#(#names),*).await
        }
    };
    // `my_wf::run`, a sub-workflow call and `map_task!` use the workflow without this function.
    quote! {
        #(#attrs)*
        #more_doc
        #[allow(dead_code)]
        #function
    }
}

/// The body of `run_in`: every value as a shared future, every node polled at once, the output.
fn run_graph(wf: &WorkflowFn<'_>, body: &Body, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let input_tmps: Vec<_> = (0..wf.inputs.len())
        .map(|i| format_ident!("__maptask_input{}", i))
        .collect();
    let mut lets = Vec::new();
    for value in &body.values {
        let local = &value.local;
        let typed = match &value.ty {
            Some(ty) => quote_spanned!(ty.span()=> : #private::Value<#ty>),
            None => quote!(),
        };
        let init = match &value.producer {
            Producer::Input(i) => {
                let tmp = &input_tmps[*i];
                quote!(#private::ready_value(#tmp))
            }
            Producer::Constant(expr) => quote_spanned!(expr.span()=> #private::ready_value(#expr)),
            Producer::Alias(of) => {
                let of = &body.values[*of].local;
                quote!(::core::clone::Clone::clone(&#of))
            }
            Producer::Projection { of, index } => {
                let of = &body.values[*of].local;
                let index = syn::Index::from(*index);
                // An element that cannot be shared is reported at its name.
                let share = quote_spanned!(value.name.span()=> #private::node_output());
                quote! {{
                    let __maptask_whole = ::core::clone::Clone::clone(&#of);
                    #private::node_value(async move {
                        let __maptask_tuple = __maptask_whole.await?;
                        ::core::result::Result::Ok(#private::Copyable::new(
                            __maptask_tuple.#index,
                            #share,
                        ))
                    })
                }}
            }
            Producer::Node(k) => node(body, &body.nodes[*k], krate),
        };
        // A constant may be a block, which is how the workflow language tells a plain function
        // call from a task call; the braces are meaningful, not unused.
        lets.push(quote! {
            #[allow(unused_braces)]
            let #local #typed = #init;
        });
    }
    let node_locals = body.nodes.iter().map(|n| &body.values[n.value].local);
    // The body's `map_task!`s are read here, never expanded; naming each macro marks the user's
    // import of it as used.
    let map_macros = body.nodes.iter().filter_map(|n| match &n.call {
        Call::Map { macro_path, .. } => Some(quote!(#macro_path!(@used);)),
        Call::Entity { .. } => None,
    });
    let (output_lets, output_expr) = match &body.output {
        Some(out) => {
            let lets = out.deps.iter().map(|v| {
                let value = &body.values[*v];
                let (name, local) = (&value.name, &value.local);
                quote! {
                    #[allow(unused_variables)]
                    let #name = ::core::clone::Clone::clone(&#local).await?;
                }
            });
            let expr = &out.expr;
            (quote!(#(#lets)*), quote_spanned!(expr.span()=> #expr))
        }
        None => (quote!(), quote!(())),
    };
    let output_ty = match &wf.output {
        Some(ty) => quote!(#ty),
        None => quote!(()),
    };
    quote! {
        #(#map_macros)*
        let (#(#input_tmps,)*) = __maptask_inputs;
        #(#lets)*
        #private::join_nodes(::std::vec![#(#private::completion(&#node_locals)),*]).await?;
        #output_lets
        let __maptask_output: #output_ty = #output_expr;
        ::core::result::Result::Ok(__maptask_output)
    }
}

/// One node: wait for its inputs, then run its call in the workflow's context.
fn node(body: &Body, node: &Node, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let tmps: Vec<_> = (0..node.deps.len())
        .map(|i| format_ident!("__maptask_dep{}", i))
        .collect();
    let dep_locals = node.deps.iter().map(|v| &body.values[*v].local);
    let dep_names = node.deps.iter().map(|v| &body.values[*v].name);
    // A task or sub-workflow call keeps the values it uses, to make its inputs again for a
    // retry (see `Rebuild`): fresh copies of the workflow values, and copies of its constants,
    // each evaluated once, when the node starts, as before; a map clones its inputs.
    let rebuilds = matches!(node.call, Call::Entity { .. });
    let mut constants = Vec::new();
    let call = match &node.call {
        Call::Entity { path, args, span } => {
            let signature = signature_macro(path);
            let names: Vec<&syn::Ident> = node.deps.iter().map(|v| &body.values[*v].name).collect();
            let args: Vec<Expr> = args
                .iter()
                .map(|arg| match arg {
                    Expr::Assign(assign) => {
                        let mut assign = assign.clone();
                        *assign.right = take_constants(&assign.right, &names, &mut constants);
                        Expr::Assign(assign)
                    }
                    other => take_constants(other, &names, &mut constants),
                })
                .collect();
            let inputs = braced(quote!(#(#args),*), *span);
            let constant_names: Vec<&syn::Ident> = constants.iter().map(|(n, _)| n).collect();
            // The closure keeps a copy of each constant; the first inputs take the constant.
            let copies: Vec<TokenStream> = constant_names
                .iter()
                .map(|name| quote_spanned!(name.span()=> ::core::clone::Clone::clone(&#name)))
                .collect();
            quote! {{
                let __maptask_again = {
                    #(let #constant_names = #copies;)*
                    move || (
                        #(#private::Value::now(&#tmps),)*
                        #(#copies,)*
                    )
                };
                #signature! {
                    krate = { #krate },
                    path = { #path },
                    inputs = #inputs,
                    values = { (#(#names,)* #(#constant_names,)*) },
                    again = { __maptask_again }
                }
            }}
        }
        Call::Map {
            path,
            map_args,
            args,
            span,
            ..
        } => {
            let signature = signature_macro(path);
            let map_args = map_args.iter().map(crate::map::MapArg::tokens);
            let call = braced(quote!(#(#args),*), *span);
            quote! {
                #signature! { krate = { #krate }, path = { #path }, args = { #(#map_args),* }, call = #call }
            }
        }
    };
    let id = &node.id;
    let overrides = node.overrides.to_tokens(&private);
    // At the callee's path, so that an output that cannot be shared is reported at the call.
    let callee = match &node.call {
        Call::Entity { path, .. } | Call::Map { path, .. } => path,
    };
    let run = quote_spanned!(callee.span()=> #private::NodeCall::run);
    let (constant_names, constant_exprs): (Vec<_>, Vec<_>) = constants.into_iter().unzip();
    let waits = tmps.iter().map(|tmp| {
        if rebuilds {
            quote!(::core::clone::Clone::clone(&#tmp).await?)
        } else {
            quote!(#tmp.await?)
        }
    });
    quote! {{
        #(let #tmps = ::core::clone::Clone::clone(&#dep_locals);)*
        let __maptask_ctx = ::core::clone::Clone::clone(&__maptask_ctx);
        #private::node_value(async move {
            #(
                #[allow(unused_variables)]
                let #dep_names = #waits;
            )*
            #(
                #[allow(unused_braces)]
                let #constant_names = #constant_exprs;
            )*
            #[allow(unused_variables)]
            let __maptask_call = #call;
            #run(__maptask_call, __maptask_ctx, #id, #overrides).await
        })
    }}
}

/// Replaces each constant of a call's argument `expr` by a name, pushed with the constant onto
/// `constants`; keeps the workflow values (`values`), and tuples of either, as they are. A
/// retry then copies a constant, evaluated once, rather than evaluating it again. The name
/// carries the constant's span, so that a type error about it points at the constant.
fn take_constants(
    expr: &Expr,
    values: &[&syn::Ident],
    constants: &mut Vec<(syn::Ident, Expr)>,
) -> Expr {
    let is_value = |ident: &proc_macro2::Ident| values.contains(&ident);
    match expr {
        Expr::Tuple(tuple) => {
            let mut tuple = tuple.clone();
            for elem in tuple.elems.iter_mut() {
                *elem = take_constants(elem, values, constants);
            }
            Expr::Tuple(tuple)
        }
        Expr::Paren(paren) => {
            let mut paren = paren.clone();
            *paren.expr = take_constants(&paren.expr, values, constants);
            Expr::Paren(paren)
        }
        Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some_and(is_value) => {
            expr.clone()
        }
        // What uses a workflow value and is none of the above is an error the graph reports.
        _ if mentions(expr.to_token_stream(), &is_value) => expr.clone(),
        _ => {
            let name = format_ident!("__maptask_const{}", constants.len(), span = expr.span());
            constants.push((name.clone(), expr.clone()));
            syn::parse_quote!(#name)
        }
    }
}

/// Whether `tokens` name an identifier for which `is_value` holds.
fn mentions(tokens: TokenStream, is_value: &dyn Fn(&proc_macro2::Ident) -> bool) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => is_value(&ident),
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), is_value),
        _ => false,
    })
}

/// `Workflow::graph`: the nodes and edges known at compile time, the entity names and resources
/// read from each callee's `Task` implementation.
fn graph(
    wf: &WorkflowFn<'_>,
    body: &Body,
    output_desc: &TokenStream,
    krate: &TokenStream,
) -> TokenStream {
    let private = quote!(#krate::__private);
    let nodes = body.nodes.iter().map(|node| {
        let id = &node.id;
        let (path, is_map) = match &node.call {
            Call::Entity { path, .. } => (path, false),
            Call::Map { path, .. } => (path, true),
        };
        let requests = node.overrides.requests.to_tokens(&private);
        let limits = node.overrides.limits.to_tokens(&private);
        // Through the callee's signature macro, like the node call itself, so that a callee
        // that is not a task is reported once, at the call.
        let signature = signature_macro(path);
        quote! {
            #signature! { krate = { #krate }, path = { #path }, graph_node = { #id, #is_map, #requests, #limits } }
        }
    });
    let mut edges: Vec<(String, String)> = Vec::new();
    let mut add = |from: Option<String>, to: &str| {
        if let Some(from) = from {
            let edge = (from, to.to_owned());
            if !edges.contains(&edge) {
                edges.push(edge);
            }
        }
    };
    for node in &body.nodes {
        for dep in &node.deps {
            add(body.origin(*dep), &node.id);
        }
    }
    if let Some(out) = &body.output {
        for dep in &out.deps {
            add(body.origin(*dep), "outputs");
        }
    }
    let edges = edges.iter().map(
        |(from, to)| quote!((::std::string::String::from(#from), ::std::string::String::from(#to))),
    );
    let inputs = wf.inputs.iter().map(|(name, _)| name.to_string());
    let input_descs = wf
        .inputs
        .iter()
        .map(|(_, ty)| quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc()));
    quote! {
        #private::Graph {
            name: ::std::string::String::from(<Self as #private::Task>::NAME),
            inputs: ::std::vec![#((::std::string::String::from(#inputs), #input_descs)),*],
            output: #output_desc,
            nodes: ::std::vec![#(#nodes),*],
            edges: ::std::vec![#(#edges),*],
        }
    }
}

/// `{ tokens }` whose braces carry the user's parentheses' span, so that errors about the
/// arguments as a whole point at the call.
fn braced(tokens: TokenStream, span: proc_macro2::Span) -> proc_macro2::Group {
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, tokens);
    group.set_span(span);
    group
}
