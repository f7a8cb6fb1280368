//! Checks that a function can be a task or a workflow, and records its signature. Both are
//! called with owned, named, concretely typed values, so the same rules apply; `what` names which
//! one the user wrote in the messages.

use syn::{FnArg, Ident, Pat, ReturnType, Type};

use crate::common::diagnostics::Errors;

/// One parameter: its name and its type as written.
pub struct Param {
    pub name: Ident,
    pub ty: Type,
}

/// What the function returns.
pub enum Output {
    /// No return type: `()`.
    Unit,
    /// A plain value.
    Value(Type),
    /// A `Result`: `Err` is a failed attempt. With both arguments spelled out, they are kept, so
    /// that an unsuitable error type is reported on its own tokens.
    Result(Type, Option<Box<(Type, Type)>>),
}

pub struct Signature {
    pub params: Vec<Param>,
    pub output: Output,
    pub is_async: bool,
}

pub fn parse(func: &syn::ItemFn, what: &str) -> syn::Result<Signature> {
    let sig = &func.sig;
    let mut errors = Errors::default();
    if let Some(token) = &sig.constness {
        errors.push_spanned(
            token,
            format!("a {what} cannot be a `const fn`; remove `const`"),
        );
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        errors.push_spanned(
            token,
            format!("a {what} cannot be an `unsafe fn`: the runtime calls it with no way to uphold its contract; remove `unsafe` and keep the unsafe block inside the body"),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.push_spanned(
            abi,
            format!("a {what} cannot be an `extern` function; remove the ABI"),
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.push_spanned(
            variadic,
            format!("a {what} cannot be variadic; take a `Vec<T>` instead"),
        );
    }
    if !sig.generics.params.is_empty() {
        errors.push_spanned(
            &sig.generics.params,
            format!("a {what} cannot be generic: its interface must name concrete types; write a {what} per type, or take an enum"),
        );
    } else if let Some(where_clause) = &sig.generics.where_clause {
        errors.push_spanned(
            where_clause,
            format!("a {what} cannot have a `where` clause; remove it"),
        );
    }

    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push_spanned(
                receiver,
                format!("a {what} cannot take `self`: {what}s are free functions; move it out of the `impl` block"),
            ),
            FnArg::Typed(typed) => {
                check_type(&typed.ty, what, &mut errors);
                match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        params.push(Param {
                            name: pat.ident.clone(),
                            ty: (*typed.ty).clone(),
                        })
                    }
                    other => errors.push_spanned(
                        other,
                        format!("a {what} parameter must be a plain name, e.g. `x: i64`, because the name becomes part of the {what}'s interface; destructure inside the body"),
                    ),
                }
            }
        }
    }

    let output = match &sig.output {
        ReturnType::Default => Output::Unit,
        ReturnType::Type(_, ty) => {
            check_output(ty, what, &mut errors);
            match &**ty {
                Type::Tuple(t) if t.elems.is_empty() => Output::Unit,
                ty if is_result(ty) => Output::Result(ty.clone(), result_arguments(ty)),
                ty => Output::Value(ty.clone()),
            }
        }
    };
    errors.finish()?;
    Ok(Signature {
        params,
        output,
        is_async: sig.asyncness.is_some(),
    })
}

/// Rejects parameter types a task cannot take.
fn check_type(ty: &Type, what: &str, errors: &mut Errors) {
    match ty {
        Type::Reference(r) => errors.push_spanned(
            r,
            format!(
                "a {what} takes owned values, because elements move between threads; take `{}` instead of a reference",
                owned_suggestion(&r.elem)
            ),
        ),
        Type::ImplTrait(t) => errors.push_spanned(
            t,
            format!("a {what} cannot take `impl Trait`: its interface must name a concrete type"),
        ),
        Type::Infer(t) => errors.push_spanned(
            t,
            format!("a {what} parameter needs a concrete type, not `_`"),
        ),
        Type::Paren(p) => check_type(&p.elem, what, errors),
        _ => {}
    }
}

fn check_output(ty: &Type, what: &str, errors: &mut Errors) {
    match ty {
        Type::Reference(r) => errors.push_spanned(
            r,
            format!(
                "a {what} returns an owned value; return `{}` instead of a reference",
                owned_suggestion(&r.elem)
            ),
        ),
        Type::ImplTrait(t) => errors.push_spanned(
            t,
            format!("a {what} cannot return `impl Trait`: its interface must name a concrete type"),
        ),
        _ => {}
    }
}

/// `str` → `String`, `[T]` → `Vec<T>`, otherwise the referenced type.
fn owned_suggestion(elem: &Type) -> String {
    match elem {
        Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
        Type::Slice(s) => {
            let inner = &s.elem;
            format!("Vec<{}>", quote::quote!(#inner)).replace(' ', "")
        }
        other => quote::quote!(#other).to_string().replace(' ', ""),
    }
}

/// Whether the type is spelled like a `Result`: a path whose last segment ends in `Result` and
/// has arguments (`Result<T, E>`, `io::Result<T>`, `anyhow::Result<T>`, `MyResult<T>`). An alias
/// named otherwise is taken for a plain value, since the macro sees only the spelling.
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident.to_string().ends_with("Result") && !s.arguments.is_empty()),
        _ => false,
    }
}

/// `T` and `E` of a `Result<T, E>` written with both arguments.
fn result_arguments(ty: &Type) -> Option<Box<(Type, Type)>> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    });
    let ok = types.next()?;
    let err = types.next()?;
    if types.next().is_some() || args.args.len() != 2 {
        return None;
    }
    Some(Box::new((ok, err)))
}
