//! Writes the function back unchanged, plus its task description:
//!
//! * a braced struct with the function's name (the type namespace), implementing `Task` and one
//!   `TaskParam<I>` per parameter, so other code reaches the task by the function's own path;
//! * a signature macro with the function's name (the macro namespace), which hands the parameter
//!   names to `map_task!` and `#[workflow]` at their call sites.

use std::hash::{Hash, Hasher};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::attr::{ResourceSpec, TaskAttr};
use super::signature::{Output, Signature};

pub fn expand(func: &syn::ItemFn, attr: &TaskAttr, sig: &Signature) -> TokenStream {
    let krate = match &attr.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::maptask),
    };
    let private = quote!(#krate::__private);
    let vis = &func.vis;
    let fn_name = &func.sig.ident;
    let doc = doc_string(&func.attrs);

    let name = match &attr.name {
        Some(lit) => quote!(#lit),
        None => {
            let fn_str = fn_name.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #fn_str))
        }
    };
    let param_names: Vec<String> = sig.params.iter().map(|p| p.name.to_string()).collect();
    let param_types: Vec<&syn::Type> = sig.params.iter().map(|p| &p.ty).collect();
    let locals: Vec<syn::Ident> = sig
        .params
        .iter()
        .map(|p| format_ident!("__maptask_{}", p.name))
        .collect();

    let (output_ty, into_attempt) = match &sig.output {
        Output::Unit => (quote!(()), quote!(::core::result::Result::Ok)),
        Output::Value(ty) => (quote!(#ty), quote!(::core::result::Result::Ok)),
        Output::Result(ty) => (
            quote_spanned!(ty.span()=> <#ty as #private::TaskResult>::Ok),
            quote_spanned!(ty.span()=> <#ty as #private::TaskResult>::into_attempt),
        ),
    };
    let output_rust_type = match &sig.output {
        Output::Unit => "()".to_owned(),
        Output::Value(ty) | Output::Result(ty) => type_string(ty),
    };

    let params_desc = sig.params.iter().map(|p| {
        let name = p.name.to_string();
        let ty = &p.ty;
        let rust_type = type_string(ty);
        let describe = quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc());
        quote! {
            #private::Param { name: #name, rust_type: #rust_type, ty: #describe }
        }
    });
    let output_desc = match &sig.output {
        Output::Unit => quote!(<() as #private::Describe>::type_desc()),
        Output::Value(ty) => quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc()),
        Output::Result(ty) => quote_spanned!(ty.span()=>
            <<#ty as #private::TaskResult>::Ok as #private::Describe>::type_desc()
        ),
    };

    let param_impls = sig.params.iter().enumerate().map(|(i, p)| {
        let ty = &p.ty;
        quote! {
            impl #private::TaskParam<#i> for #fn_name {
                type Type = #ty;
            }
        }
    });

    let (execution, call, call_blocking) = if sig.is_async {
        (
            quote!(#private::Execution::Async),
            quote! {
                async move {
                    let (#(#locals,)*) = __maptask_inputs;
                    #into_attempt(#fn_name(#(#locals),*).await)
                }
            },
            quote!(#private::block_on(<Self as #private::Task>::call(__maptask_inputs))),
        )
    } else {
        (
            quote!(#private::Execution::Blocking),
            quote! {
                async move { <Self as #private::Task>::call_blocking(__maptask_inputs) }
            },
            quote! {
                let (#(#locals,)*) = __maptask_inputs;
                #into_attempt(#fn_name(#(#locals),*))
            },
        )
    };

    let metadata = metadata(attr, &private);
    let macro_name = unique_macro_name(fn_name, &param_names);
    let struct_doc = format!("The task description of [`{fn_name}()`].");

    quote! {
        #func

        #[doc = #struct_doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #fn_name {}

        const _: () = {
            impl #private::Task for #fn_name {
                type Inputs = (#(#param_types,)*);
                type Output = #output_ty;
                const NAME: &'static str = #name;
                const PARAMS: &'static [&'static str] = &[#(#param_names),*];
                const DOC: &'static str = #doc;
                const METADATA: #private::Metadata = #metadata;
                const EXECUTION: #private::Execution = #execution;

                fn interface() -> #private::Interface {
                    #private::Interface {
                        inputs: ::std::vec![#(#params_desc),*],
                        output: #output_desc,
                        output_rust_type: #output_rust_type,
                    }
                }

                #[allow(clippy::unused_unit, unused_variables)]
                fn call(
                    __maptask_inputs: Self::Inputs,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<Self::Output, #private::TaskError>,
                > + ::core::marker::Send + 'static {
                    #call
                }

                #[allow(clippy::unused_unit, unused_variables)]
                fn call_blocking(
                    __maptask_inputs: Self::Inputs,
                ) -> ::core::result::Result<Self::Output, #private::TaskError> {
                    #call_blocking
                }
            }

            #(#param_impls)*
        };

        #[doc(hidden)]
        #[macro_export]
        macro_rules! #macro_name {
            ($($input:tt)*) => {
                #krate::__private::__expand_map! {
                    params = [#(#param_names),*],
                    $($input)*
                }
            };
        }

        #[doc(hidden)]
        #[allow(unused_imports, clippy::single_component_path_imports)]
        #vis use #macro_name as #fn_name;
    }
}

fn metadata(attr: &TaskAttr, private: &TokenStream) -> TokenStream {
    let retries = attr.retries.unwrap_or(0);
    let timeout = match attr.timeout {
        Some(d) => {
            let secs = d.as_secs();
            let nanos = d.subsec_nanos();
            quote!(::core::option::Option::Some(::core::time::Duration::new(#secs, #nanos)))
        }
        None => quote!(::core::option::Option::None),
    };
    let cache = option_lit(attr.cache.as_ref());
    let interruptible = attr.interruptible.unwrap_or(false);
    let requests = resources(&attr.requests, private);
    let limits = resources(&attr.limits, private);
    let env = attr.env.iter().map(|(k, v)| quote!((#k, #v)));
    quote! {
        #private::Metadata {
            retries: #retries,
            timeout: #timeout,
            cache_version: #cache,
            interruptible: #interruptible,
            requests: #requests,
            limits: #limits,
            env: &[#(#env),*],
        }
    }
}

fn resources(spec: &ResourceSpec, private: &TokenStream) -> TokenStream {
    let cpu = option_lit(spec.cpu.as_ref());
    let mem = option_lit(spec.mem.as_ref());
    let gpu = option_lit(spec.gpu.as_ref());
    quote!(#private::Resources { cpu: #cpu, mem: #mem, gpu: #gpu })
}

fn option_lit(lit: Option<&syn::LitStr>) -> TokenStream {
    match lit {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    }
}

/// The doc comment, one line per `///` line, with the single leading space removed.
fn doc_string(attrs: &[syn::Attribute]) -> String {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
            {
                let value = s.value();
                lines.push(value.strip_prefix(' ').unwrap_or(&value).to_owned());
            }
        }
    }
    lines.join("\n").trim().to_owned()
}

fn type_string(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
    // `Vec < i64 >` → `Vec<i64>`: token spacing is not what the user wrote.
    text.replace(" < ", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace("& ", "&")
}

/// A `#[macro_export]` name unique in the crate: two tasks with the same function name in two
/// modules must not collide, and the same source must always give the same name.
fn unique_macro_name(fn_name: &syn::Ident, params: &[String]) -> syn::Ident {
    let site = proc_macro::Span::call_site();
    let mut hasher = std::hash::DefaultHasher::new();
    site.file().hash(&mut hasher);
    site.line().hash(&mut hasher);
    site.column().hash(&mut hasher);
    fn_name.to_string().hash(&mut hasher);
    params.hash(&mut hasher);
    format_ident!(
        "__maptask_task_{}_{:016x}",
        fn_name,
        hasher.finish(),
        span = Span::call_site()
    )
}
