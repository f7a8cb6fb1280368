//! Writes the function back unchanged, plus its description (see `common/description.rs`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::LitStr;

use super::attr::TaskAttr;
use crate::common::description::{doc_string, type_string, Description};
use crate::common::signature::{Output, Signature};
use crate::common::tokens::{option_duration, option_of};

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
        .enumerate()
        .map(|(i, _)| format_ident!("__maptask_arg{}", i))
        .collect();

    let output_ty = match &sig.output {
        Output::Unit => quote!(()),
        Output::Value(ty) => quote!(#ty),
        Output::Result(_, Some(pair)) => {
            let ok = &pair.0;
            quote!(#ok)
        }
        Output::Result(ty, None) => {
            quote_spanned!(ty.span()=> <#ty as #private::TaskResult>::Ok)
        }
    };
    let output_rust_type = match &sig.output {
        Output::Unit => "()".to_owned(),
        Output::Value(ty) | Output::Result(ty, _) => type_string(ty),
    };

    let output_desc = match &sig.output {
        Output::Unit => quote!(<() as #private::Describe>::type_desc()),
        Output::Value(ty) => quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc()),
        Output::Result(_, Some(pair)) => {
            let ok = &pair.0;
            quote_spanned!(ok.span()=> <#ok as #private::Describe>::type_desc())
        }
        Output::Result(ty, None) => quote_spanned!(ty.span()=>
            <<#ty as #private::TaskResult>::Ok as #private::Describe>::type_desc()
        ),
    };

    let body_call = if sig.is_async {
        quote!(#fn_name(#(#locals),*).await)
    } else {
        quote!(#fn_name(#(#locals),*))
    };
    let into_attempt = into_attempt(&sig.output, &body_call, &private);
    let (execution, call, call_blocking) = if sig.is_async {
        (
            quote!(#private::Execution::Async),
            quote! {
                async move {
                    let (#(#locals,)*) = __maptask_inputs;
                    #into_attempt
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
                #into_attempt
            },
        )
    };

    let metadata = metadata(attr, &private);
    let description = Description {
        vis,
        ident: fn_name,
        krate: &krate,
        kind: quote!(task),
        name,
        doc,
        param_names: &param_names,
        param_types: &param_types,
        output_ty,
        output_desc,
        output_rust_type,
        metadata,
        execution,
        call,
        call_blocking,
        task_items: cache_codec(attr, &param_names, &param_types, &private),
    };
    let described = description.emit();
    let func = written_back(func);
    // The expansion: the function, then its description. Items that other crates of the
    // workspace register per task go after these, one line each.
    quote! {
        #func
        #described
        #private::register_task!(#fn_name);
    }
}

/// `Task::cache_codec` for a task with `cache = "…"`: the functions that key its inputs and
/// store its output. Each use of a type is spanned on the `cache` option, so a type that is not
/// a serde type is reported there, naming the type.
fn cache_codec(
    attr: &TaskAttr,
    param_names: &[String],
    param_types: &[&syn::Type],
    private: &TokenStream,
) -> TokenStream {
    let Some(cache) = &attr.cache else {
        return TokenStream::new();
    };
    let span = cache.span();
    let ignored: Vec<String> = attr
        .cache_ignore
        .iter()
        .flat_map(|(_, names)| names.iter().map(LitStr::value))
        .collect();
    let keyed = param_names
        .iter()
        .zip(param_types)
        .enumerate()
        .filter(|(_, (name, _))| !ignored.contains(name))
        .map(|(i, (_, ty))| {
            let encode = quote_spanned!(span=> #private::cache_encode_input::<#ty>);
            quote!(#i => #encode(__maptask_value, __maptask_out),)
        });
    let visits = (0..param_names.len()).map(|i| {
        let index = syn::Index::from(i);
        quote!(__maptask_visit(#i, &__maptask_inputs.#index);)
    });
    let encode_output = quote_spanned!(span=> #private::cache_encode_output::<Self::Output>);
    let decode_output = quote_spanned!(span=> #private::cache_decode_output::<Self::Output>);
    quote! {
        fn cache_codec() -> ::core::option::Option<
            #private::CacheCodec<Self::Inputs, Self::Output>,
        > {
            ::core::option::Option::Some(#private::CacheCodec {
                ignore: &[#(#ignored),*],
                encode_input: |__maptask_index, __maptask_value, __maptask_out| {
                    match __maptask_index {
                        #(#keyed)*
                        _ => ::core::result::Result::Err(
                            #private::CodecError::not_keyed(__maptask_index),
                        ),
                    }
                },
                each_input: |__maptask_inputs, __maptask_visit| {
                    #(#visits)*
                },
                encode_output: #encode_output,
                decode_output: #decode_output,
            })
        }
    }
}

/// The function as the user wrote it, minus the lints that a task's shape triggers for no fault
/// of the user's: a task takes owned values because elements move between threads
/// (`needless_pass_by_value`), and cannot be generic, so not over a set's or map's hasher
/// (`implicit_hasher`).
fn written_back(func: &syn::ItemFn) -> syn::ItemFn {
    let mut func = func.clone();
    func.attrs.push(syn::parse_quote!(
        #[allow(clippy::needless_pass_by_value, clippy::implicit_hasher)]
    ));
    func
}

/// The body's result as an attempt's `Result<T, TaskError>`. For a `Result` output, the error is
/// converted by the rule that fits its type (`__private::error_kind`), spanned on the error type
/// so that one that cannot be converted is reported there.
fn into_attempt(output: &Output, body_call: &TokenStream, private: &TokenStream) -> TokenStream {
    let span = match output {
        Output::Unit | Output::Value(_) => {
            return quote!(::core::result::Result::Ok(#body_call));
        }
        Output::Result(_, Some(pair)) => pair.1.span(),
        Output::Result(ty, None) => ty.span(),
    };
    let convert = quote_spanned! {span=>
        #[allow(unused_imports)]
        use #private::error_kind::{
            AnyhowKind as _, AsIsKind as _, BoxedKind as _, UnsupportedKind as _, WrapKind as _,
        };
        let __maptask_probe = #private::error_kind::probe(&__maptask_error);
        (&&&__maptask_probe).__maptask_error_kind().convert(__maptask_error)
    };
    quote! {
        match #body_call {
            ::core::result::Result::Ok(__maptask_value) => ::core::result::Result::Ok(__maptask_value),
            ::core::result::Result::Err(__maptask_error) => ::core::result::Result::Err({ #convert }),
        }
    }
}

fn metadata(attr: &TaskAttr, private: &TokenStream) -> TokenStream {
    let retries = attr.retries.unwrap_or(0);
    let timeout = option_duration(attr.timeout);
    let cache = option_of(attr.cache.as_ref());
    let interruptible = attr.interruptible.unwrap_or(false);
    let requests = attr.requests.to_tokens(private);
    let limits = attr.limits.to_tokens(private);
    let env = attr.env.iter().map(|(k, v)| quote!((#k, #v)));
    let cache_ignore = attr.cache_ignore.iter().flat_map(|(_, names)| names);
    quote! {
        #private::Metadata {
            retries: #retries,
            timeout: #timeout,
            cache_version: #cache,
            cache_ignore: &[#(#cache_ignore),*],
            interruptible: #interruptible,
            requests: #requests,
            limits: #limits,
            env: &[#(#env),*],
        }
    }
}
