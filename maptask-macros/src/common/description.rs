//! What `#[task]` and `#[workflow]` both emit next to a function:
//!
//! * a braced struct with the function's name (the type namespace), implementing `Task` and one
//!   `TaskParam<I>` per parameter, so other code reaches the task by the function's own path;
//! * a signature macro with the function's name (the macro namespace), which hands the parameter
//!   names to `map_task!` and `#[workflow]` at their call sites. Its caller passes the path of
//!   `maptask` as the caller's crate knows it (`krate = { … }`), which may be renamed.

use std::hash::{Hash, Hasher};

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

/// The pieces of a description, already written as tokens.
pub struct Description<'a> {
    pub vis: &'a syn::Visibility,
    pub ident: &'a syn::Ident,
    pub krate: &'a TokenStream,
    /// `task` or `workflow`, passed on to `__with_signature!`.
    pub kind: TokenStream,
    pub name: TokenStream,
    pub doc: String,
    pub param_names: &'a [String],
    pub param_types: &'a [&'a syn::Type],
    pub output_ty: TokenStream,
    pub output_desc: TokenStream,
    pub output_rust_type: String,
    pub metadata: TokenStream,
    pub execution: TokenStream,
    /// The body of `Task::call`, with the inputs in `__maptask_inputs`.
    pub call: TokenStream,
    /// The body of `Task::call_blocking`.
    pub call_blocking: TokenStream,
    /// More items of the `Task` implementation.
    pub task_items: TokenStream,
}

impl Description<'_> {
    pub fn emit(&self) -> TokenStream {
        let Description {
            vis,
            ident,
            krate,
            kind,
            name,
            doc,
            param_names,
            param_types,
            output_ty,
            output_desc,
            output_rust_type,
            metadata,
            execution,
            call,
            call_blocking,
            task_items,
        } = self;
        let private = quote!(#krate::__private);
        let params_desc = param_names
            .iter()
            .zip(param_types.iter())
            .map(|(name, ty)| {
                let rust_type = type_string(ty);
                let describe = quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc());
                quote!(#private::Param { name: #name, rust_type: #rust_type, ty: #describe })
            });
        let param_impls = param_types.iter().enumerate().map(|(i, ty)| {
            quote! {
                impl #private::TaskParam<#i> for #ident {
                    type Type = #ty;
                }
            }
        });
        let macro_name = unique_macro_name(ident, param_names);
        // The signature macro is reachable from the whole crate even when the task is private:
        // a caller outside the task's module then fails on the struct, whose error names the
        // task and its visibility, instead of on a hidden macro that rustc offers to import.
        let macro_vis = match vis {
            syn::Visibility::Public(_) => quote!(#vis),
            _ => quote!(pub(crate)),
        };
        let struct_doc = format!("The description of [`{ident}`](fn@{ident}).");
        quote! {
            #[doc = #struct_doc]
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #vis struct #ident {}

            const _: () = {
                impl #private::Task for #ident {
                    type Inputs = (#(#param_types,)*);
                    type Output = #output_ty;
                    const NAME: &'static str = #name;
                    const PARAMS: &'static [&'static str] = &[#(#param_names),*];
                    const DOC: &'static str = #doc;
                    const METADATA: #private::Metadata = #metadata;
                    const EXECUTION: #private::Execution = #execution;
                    #task_items

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

            // A task declared inside a function still exports its signature macro; that is
            // what lets `map_task!` reach it, so the lint against it does not apply.
            #[doc(hidden)]
            #[macro_export]
            #[allow(non_local_definitions)]
            macro_rules! #macro_name {
                // The caller names `maptask` as its own crate knows it: the facade's `$crate`
                // for `map_task!`, a workflow's `crate = path`.
                (krate = { $($krate:tt)* }, $($input:tt)*) => {
                    $($krate)*::__private::__with_signature! {
                        krate = { $($krate)* },
                        params = [#(#param_names),*],
                        kind = #kind,
                        $($input)*
                    }
                };
            }

            #[doc(hidden)]
            #[allow(unused_imports, clippy::single_component_path_imports)]
            #macro_vis use #macro_name as #ident;
        }
    }
}

/// The doc comment, one line per `///` line, with the single leading space removed.
pub fn doc_string(attrs: &[syn::Attribute]) -> String {
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

/// A type as the user would write it: `Vec<i64>`, not `Vec < i64 >`.
pub fn type_string(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
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
///
/// The name hashes where the attribute was written (file name, line, column). Two tasks made by one `macro_rules!` in two
/// modules share that place (the macro's body), so a hash seen before in this compilation gets
/// a counter: the first task keeps the plain hash, later ones follow in expansion order, which
/// is deterministic for a given source.
fn unique_macro_name(ident: &syn::Ident, params: &[String]) -> syn::Ident {
    static SEEN: std::sync::Mutex<Vec<(u64, usize)>> = std::sync::Mutex::new(Vec::new());
    let site = proc_macro::Span::call_site();
    let mut hasher = std::hash::DefaultHasher::new();
    // The file's name, not its path: the name must not change with where the crate is checked
    // out (a hidden name can show in a diagnostic), and a collision only costs a counter.
    let file = site.file();
    std::path::Path::new(&file).file_name().hash(&mut hasher);
    site.line().hash(&mut hasher);
    site.column().hash(&mut hasher);
    ident.to_string().hash(&mut hasher);
    params.hash(&mut hasher);
    let hash = hasher.finish();
    let repeat = {
        let mut seen = SEEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match seen.iter_mut().find(|(h, _)| *h == hash) {
            Some((_, count)) => {
                *count += 1;
                *count
            }
            None => {
                seen.push((hash, 0));
                0
            }
        }
    };
    let ident = syn::ext::IdentExt::unraw(ident);
    let name = if repeat == 0 {
        format!("__maptask_task_{ident}_{hash:016x}")
    } else {
        format!("__maptask_task_{ident}_{hash:016x}_{repeat}")
    };
    syn::Ident::new(&name, Span::call_site())
}
