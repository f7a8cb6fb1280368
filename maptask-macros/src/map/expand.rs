//! Writes a validated map as a `MapTask` value of a nameable type:
//! `MapTask<task, (mapped types…), (bound types…), Strict | Tolerant>`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::validate::{CriterionPlan, Feed, Plan};
use crate::common::tokens::{option_duration, option_of};

pub fn expand(krate: &TokenStream, path: &syn::Path, plan: &Plan) -> TokenStream {
    let private = quote!(#krate::__private);
    let mut mapped_types = Vec::new();
    let mut mapped_names = Vec::new();
    let mut bound_types = Vec::new();
    let mut bound_names = Vec::new();
    let mut bound_lets = Vec::new();
    let mut bound_locals = Vec::new();
    let mut assemble = Vec::new();
    let mut element_checks = Vec::new();

    for (i, param) in plan.params.iter().enumerate() {
        let ty = quote!(<#path as #private::TaskParam<#i>>::Type);
        let name = param.name.to_string();
        match &param.feed {
            Feed::Mapped => {
                // A mapped parameter has no token of its own: its type is checked at the task.
                let mapped = format_ident!("mapped", span = path.span());
                element_checks.push(quote! {
                    #private::Element::<#ty>::of().#mapped();
                });
                let j = syn::Index::from(mapped_types.len());
                assemble.push(quote!(__maptask_m.#j));
                mapped_types.push(ty);
                mapped_names.push(name);
            }
            Feed::Bound(expr) => {
                let k = syn::Index::from(bound_types.len());
                let span = expr.span();
                let local = format_ident!("__maptask_bound_{}", param.name, span = span);
                let bound_new = quote_spanned!(span=> #private::Bound::new);
                bound_lets.push(quote_spanned! {span=>
                    let #local: #ty = #expr;
                });
                bound_lets.push(quote!(let #local = #bound_new(#local);));
                assemble.push(quote!(__maptask_b.#k.get()));
                bound_locals.push(local);
                bound_types.push(quote!(#private::Bound<#ty>));
                bound_names.push(name);
            }
        }
    }

    let tolerance = tolerance(&private, plan);
    let parts = parts(&private, plan, &mapped_names, &bound_names);

    quote! {
        {
            #(#element_checks)*
            #(#bound_lets)*
            #private::MapTask::<#path, (#(#mapped_types,)*), (#(#bound_types,)*), #tolerance>::__new(
                #parts,
                (#(#bound_locals,)*),
                |__maptask_b: &(#(#bound_types,)*), __maptask_m: (#(#mapped_types,)*)| {
                    let _ = &__maptask_b;
                    (#(#assemble,)*)
                },
            )
        }
    }
}

/// `Strict` or `Tolerant`: whether the map's output holds `Option`s.
pub fn tolerance(private: &TokenStream, plan: &Plan) -> TokenStream {
    if plan.tolerant {
        quote!(#private::Tolerant)
    } else {
        quote!(#private::Strict)
    }
}

/// The map's options as a `MapParts` expression, each value at the user's tokens.
pub fn parts(
    private: &TokenStream,
    plan: &Plan,
    mapped_names: &[String],
    bound_names: &[String],
) -> TokenStream {
    let name = option_of(plan.name.as_ref());
    let concurrency = option_of(plan.concurrency.as_ref());
    let retries = option_of(plan.retries.as_ref());
    let timeout = option_duration(plan.timeout);
    let criterion = match &plan.criterion {
        CriterionPlan::All => quote!(#private::CriterionInput::All),
        CriterionPlan::RatioLiteral(lit) => quote!(#private::CriterionInput::RatioLiteral(#lit)),
        CriterionPlan::RatioExpr(expr) => {
            quote_spanned!(expr.span()=> #private::CriterionInput::Ratio(#expr))
        }
        CriterionPlan::MinSuccesses(expr) => {
            quote_spanned!(expr.span()=> #private::CriterionInput::MinSuccesses(#expr))
        }
    };
    quote! {
        #private::MapParts {
            name: #name,
            mapped_names: &[#(#mapped_names),*],
            bound_names: &[#(#bound_names),*],
            concurrency: #concurrency,
            criterion: #criterion,
            retries: #retries,
            timeout: #timeout,
        }
    }
}
