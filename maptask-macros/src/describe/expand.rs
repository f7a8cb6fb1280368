//! Writes `impl Describe` for a parsed type. Each field's description is spanned on the field's
//! type, so that a field whose type has no description is reported there.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::parse::{Container, Field, FieldKind, Payload, Shape};
use crate::common::description::type_string;

pub fn expand(container: &Container<'_>) -> TokenStream {
    let krate = match &container.krate {
        Some(path) => path.to_token_stream(),
        None => quote!(::maptask),
    };
    let private = quote!(#krate::__private);
    let input = container.input;
    let ident = &input.ident;
    let name = ident.unraw().to_string();

    let mut generics = input.generics.clone();
    let (body, bound) = match &container.shape {
        Shape::Opaque(span) => (
            quote_spanned!(*span=> #private::serde_struct::<Self>(#name)),
            quote!(#private::SerdeValue),
        ),
        Shape::Via(ty) => (describe(ty, &private), quote!(#private::Describe)),
        Shape::Transparent(ty, kind) => {
            (field_desc(ty, kind, &private), quote!(#private::Describe))
        }
        Shape::Unit => (quote!(#private::TypeDesc::Unit), quote!(#private::Describe)),
        Shape::Tuple(fields) => {
            let of = fields
                .iter()
                .map(|(ty, kind)| field_desc(ty, kind, &private));
            (
                quote!(#private::TypeDesc::Tuple { of: ::std::vec![#(#of),*] }),
                quote!(#private::Describe),
            )
        }
        Shape::Struct(fields) => (
            struct_desc(&name, fields, &private),
            quote!(#private::Describe),
        ),
        Shape::Enum(variants) => {
            let variants = variants.iter().map(|v| {
                let variant_name = &v.name;
                let payload = match &v.payload {
                    Payload::Unit => quote!(::core::option::Option::None),
                    Payload::Newtype(ty, kind) => {
                        let desc = field_desc(ty, kind, &private);
                        quote!(::core::option::Option::Some(#desc))
                    }
                    Payload::Tuple(fields) => {
                        let of = fields
                            .iter()
                            .map(|(ty, kind)| field_desc(ty, kind, &private));
                        quote!(::core::option::Option::Some(
                            #private::TypeDesc::Tuple { of: ::std::vec![#(#of),*] }
                        ))
                    }
                    Payload::Struct(fields) => {
                        let desc = struct_desc(&v.ident.unraw().to_string(), fields, &private);
                        quote!(::core::option::Option::Some(#desc))
                    }
                };
                quote!(#private::VariantDesc::new(#variant_name, #payload))
            });
            (
                quote! {
                    #private::TypeDesc::Enum {
                        name: ::std::string::String::from(#name),
                        variants: ::std::vec![#(#variants),*],
                    }
                },
                quote!(#private::Describe),
            )
        }
    };

    // Each type parameter must be described (or, for an opaque type, be serde) for the type to be.
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#bound));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #private::Describe for #ident #ty_generics #where_clause {
                fn type_desc() -> #private::TypeDesc {
                    // A type that contains itself is described once; the inner occurrence is
                    // its name, as an opaque type.
                    #private::describe_once::<Self>(#name, || #body)
                }
            }
        };
    }
}

fn describe(ty: &syn::Type, private: &TokenStream) -> TokenStream {
    quote_spanned!(ty.span()=> <#ty as #private::Describe>::type_desc())
}

fn field_desc(ty: &syn::Type, kind: &FieldKind, private: &TokenStream) -> TokenStream {
    match kind {
        FieldKind::Plain | FieldKind::Flatten => describe(ty, private),
        FieldKind::Opaque => {
            let name = type_string(ty);
            quote_spanned!(ty.span()=> #private::serde_struct::<#ty>(#name))
        }
    }
}

fn struct_desc(name: &str, fields: &[Field<'_>], private: &TokenStream) -> TokenStream {
    let pushes = fields.iter().map(|field| {
        let field_name = &field.name;
        match field.kind {
            FieldKind::Flatten => {
                let desc = describe(field.ty, private);
                quote! {
                    if !#private::flatten_into(&mut __maptask_fields, #desc) {
                        return #private::TypeDesc::Opaque { name: ::std::string::String::from(#name) };
                    }
                }
            }
            _ => {
                let desc = field_desc(field.ty, &field.kind, private);
                quote!(__maptask_fields.push(#private::FieldDesc::new(#field_name, #desc));)
            }
        }
    });
    quote! {{
        #[allow(unused_mut)]
        let mut __maptask_fields = ::std::vec::Vec::new();
        #(#pushes)*
        #private::TypeDesc::Struct {
            name: ::std::string::String::from(#name),
            fields: __maptask_fields,
        }
    }}
}

/// An implementation that never runs, emitted beside the errors of a rejected derive, so that the
/// tasks using the type do not each report that it has no description.
pub fn fallback(input: &syn::DeriveInput) -> TokenStream {
    // The crate path, if it can be read; its own mistakes are among the errors reported.
    let mut ignored = crate::common::diagnostics::Errors::default();
    let krate = match super::attr::describe_attrs(
        &input.attrs,
        super::attr::Position::Container,
        &mut ignored,
    )
    .krate
    {
        Some(path) => path.to_token_stream(),
        None => quote!(::maptask),
    };
    drop(ignored);
    let private = quote!(#krate::__private);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            impl #impl_generics #private::Describe for #ident #ty_generics #where_clause {
                fn type_desc() -> #private::TypeDesc {
                    ::core::unreachable!()
                }
            }
        };
    }
}
