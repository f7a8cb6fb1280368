//! Writes a workflow: its description (a `Task` like any task, plus its signature macro), the
//! `Workflow` implementation that runs the graph, and `run`, `run_on` and `graph`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::graph::{Body, Call, Node, Producer};
use super::parse::WorkflowFn;
use crate::common::description::{doc_string, type_string, Description};

pub fn expand(wf: &WorkflowFn<'_>, body: &Body) -> TokenStream {
    let private = quote!(::maptask::__private);
    let krate = quote!(::maptask);
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

    let run_graph = run_graph(wf, body);
    let graph = graph(wf, body, &output_desc);
    let run_doc = format!("Runs the workflow `{ident}` on the default runtime.");

    quote! {
        #described
        #private::register_task!(#ident);

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
                runtime: &#private::Runtime,
                #(#input_idents: #param_types),*
            ) -> ::core::result::Result<#output_ty, #krate::WorkflowError> {
                let ctx = #private::WorkflowCtx::new(
                    ::core::clone::Clone::clone(runtime),
                    <Self as #private::Task>::NAME,
                );
                <Self as #private::Workflow>::run_in(ctx, (#(#input_idents,)*)).await
            }

            /// The workflow's static graph: nodes, edges and interface.
            #vis fn graph() -> #private::Graph {
                <Self as #private::Workflow>::graph()
            }
        }
    }
}

/// The body of `run_in`: every value as a shared future, every node polled at once, the output.
fn run_graph(wf: &WorkflowFn<'_>, body: &Body) -> TokenStream {
    let private = quote!(::maptask::__private);
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
                quote! {{
                    let __maptask_whole = ::core::clone::Clone::clone(&#of);
                    #private::node_value(async move {
                        let __maptask_tuple = __maptask_whole.await?;
                        ::core::result::Result::Ok(__maptask_tuple.#index)
                    })
                }}
            }
            Producer::Node(k) => node(body, &body.nodes[*k]),
        };
        // A constant may be a block, which is how the workflow language tells a plain function
        // call from a task call; the braces are meaningful, not unused.
        lets.push(quote! {
            #[allow(unused_braces)]
            let #local #typed = #init;
        });
    }
    let node_locals = body.nodes.iter().map(|n| &body.values[n.value].local);
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
        let (#(#input_tmps,)*) = __maptask_inputs;
        #(#lets)*
        #private::join_nodes(::std::vec![#(#private::completion(&#node_locals)),*]).await?;
        #output_lets
        let __maptask_output: #output_ty = #output_expr;
        ::core::result::Result::Ok(__maptask_output)
    }
}

/// One node: wait for its inputs, then run its call in the workflow's context.
fn node(body: &Body, node: &Node) -> TokenStream {
    let private = quote!(::maptask::__private);
    let tmps: Vec<_> = (0..node.deps.len())
        .map(|i| format_ident!("__maptask_dep{}", i))
        .collect();
    let dep_locals = node.deps.iter().map(|v| &body.values[*v].local);
    let dep_names = node.deps.iter().map(|v| &body.values[*v].name);
    let call = match &node.call {
        Call::Entity { path, args, span } => {
            let inputs = braced(quote!(#(#args),*), *span);
            quote! {
                #path! { path = { #path }, inputs = #inputs }
            }
        }
        Call::Map {
            path,
            map_args,
            args,
            span,
        } => {
            let keys = map_args.iter().map(|(k, _)| k);
            let values = map_args.iter().map(|(_, v)| v);
            let call = braced(quote!(#(#args),*), *span);
            quote! {
                #path! { path = { #path }, args = { #(#keys = #values),* }, call = #call }
            }
        }
    };
    let id = &node.id;
    let overrides = node.overrides.to_tokens();
    quote! {{
        #(let #tmps = ::core::clone::Clone::clone(&#dep_locals);)*
        let __maptask_ctx = ::core::clone::Clone::clone(&__maptask_ctx);
        #private::node_value(async move {
            #(
                #[allow(unused_variables)]
                let #dep_names = #tmps.await?;
            )*
            let __maptask_call = #call;
            #private::NodeCall::run(__maptask_call, __maptask_ctx, #id, #overrides).await
        })
    }}
}

/// `Workflow::graph`: the nodes and edges known at compile time, the entity names and resources
/// read from each callee's `Task` implementation.
fn graph(wf: &WorkflowFn<'_>, body: &Body, output_desc: &TokenStream) -> TokenStream {
    let private = quote!(::maptask::__private);
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
        quote! {
            #path! { path = { #path }, graph_node = { #id, #is_map, #requests, #limits } }
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
