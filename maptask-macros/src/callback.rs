//! `__with_signature!`: where a task's signature macro hands over the parameter names.
//!
//! Input: `krate = { path of maptask }, params = ["a", "b"], kind = task | workflow,
//! path = { path }`, then one of
//! * `args = { … }` and optionally `call = { a = x, … }`: a `map_task!`;
//! * `inputs = { x, y }` or `inputs = { a = x, b = y }`, then `values = { (v, w,) }` and
//!   `again = { closure }`: the inputs of a task or sub-workflow call in a `#[workflow]`,
//!   type-checked one by one and ordered as declared, made from the values the call uses (`v`
//!   and `w`, a tuple pattern and expression at once), and made again from `again()`, a tuple
//!   of fresh copies of those values, for a retry;
//! * `graph_node = { id, is_map, requests, limits }`: the callee's node in a workflow's graph;
//! * `flyte_node = { id = "…", overrides = { … }, inputs = { … } }` and `flyte_map = { id = "…",
//!   overrides = { … }, args = { … }, call = { … } }`: the callee's node in a workflow's Flyte
//!   definition (see `workflow/flyte.rs`), each value an `Arg` expression or a constant marked
//!   `__maptask_const(…)`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Token};

use crate::common::diagnostics::{list, Errors};
use crate::common::tokens::path_string;
use crate::map::{self, MapArgs};

/// Whether the callee is a task or a workflow.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Task,
    Workflow,
}

enum Mode {
    Map {
        args: MapArgs,
        call: Option<CallArgs>,
    },
    Inputs {
        call: CallArgs,
        values: TokenStream,
        again: TokenStream,
    },
    /// A workflow graph's node for this callee: `id, is_map, requests, limits`.
    GraphNode(TokenStream),
    /// A node of a workflow's Flyte definition that calls this task or workflow.
    FlyteNode { head: FlyteHead, inputs: CallArgs },
    /// A node of a workflow's Flyte definition that maps this task.
    FlyteMap {
        head: FlyteHead,
        args: MapArgs,
        call: CallArgs,
    },
}

/// The node id and the `NodeOverrides` expression of a Flyte node.
pub struct FlyteHead {
    id: syn::LitStr,
    overrides: TokenStream,
}

struct Input {
    /// The path of `maptask` at the call site.
    krate: TokenStream,
    params: Vec<Ident>,
    kind: Kind,
    path: syn::Path,
    mode: Mode,
}

/// The arguments of a call: all positional, or all named.
pub struct CallArgs {
    /// The parentheses or braces around them, for errors about the whole call.
    pub span: Span,
    pub args: Vec<Expr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        keyword(input, "krate")?;
        let krate_tokens;
        syn::braced!(krate_tokens in input);
        let krate: TokenStream = krate_tokens.parse()?;
        input.parse::<Token![,]>()?;
        keyword(input, "params")?;
        let content;
        syn::bracketed!(content in input);
        let params = content
            .parse_terminated(<syn::LitStr as Parse>::parse, Token![,])?
            .into_iter()
            .map(|lit| Ident::new(&lit.value(), lit.span()))
            .collect();
        input.parse::<Token![,]>()?;
        keyword(input, "kind")?;
        let kind_ident: Ident = input.parse()?;
        let kind = if kind_ident == "workflow" {
            Kind::Workflow
        } else {
            Kind::Task
        };
        input.parse::<Token![,]>()?;
        keyword(input, "path")?;
        let path_tokens;
        syn::braced!(path_tokens in input);
        let path = path_tokens.parse()?;
        input.parse::<Token![,]>()?;
        let mode_ident: Ident = input.fork().parse()?;
        let mode = if mode_ident == "inputs" {
            keyword(input, "inputs")?;
            let call = braced_call_args(input)?;
            input.parse::<Token![,]>()?;
            keyword(input, "values")?;
            let values;
            syn::braced!(values in input);
            let values = values.parse()?;
            input.parse::<Token![,]>()?;
            keyword(input, "again")?;
            let again;
            syn::braced!(again in input);
            Mode::Inputs {
                call,
                values,
                again: again.parse()?,
            }
        } else if mode_ident == "flyte_node" || mode_ident == "flyte_map" {
            keyword(input, &mode_ident.to_string())?;
            let content;
            syn::braced!(content in input);
            keyword(&content, "id")?;
            let id = content.parse()?;
            content.parse::<Token![,]>()?;
            keyword(&content, "overrides")?;
            let overrides;
            syn::braced!(overrides in content);
            let head = FlyteHead {
                id,
                overrides: overrides.parse()?,
            };
            content.parse::<Token![,]>()?;
            if mode_ident == "flyte_node" {
                keyword(&content, "inputs")?;
                Mode::FlyteNode {
                    head,
                    inputs: braced_call_args(&content)?,
                }
            } else {
                keyword(&content, "args")?;
                let args_tokens;
                syn::braced!(args_tokens in content);
                let args = args_tokens.parse()?;
                content.parse::<Token![,]>()?;
                keyword(&content, "call")?;
                Mode::FlyteMap {
                    head,
                    args,
                    call: braced_call_args(&content)?,
                }
            }
        } else if mode_ident == "graph_node" {
            keyword(input, "graph_node")?;
            let content;
            syn::braced!(content in input);
            Mode::GraphNode(content.parse()?)
        } else {
            keyword(input, "args")?;
            let args_tokens;
            syn::braced!(args_tokens in input);
            let args = args_tokens.parse()?;
            let call = if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                keyword(input, "call")?;
                Some(braced_call_args(input)?)
            } else {
                None
            };
            Mode::Map { args, call }
        };
        Ok(Input {
            krate,
            params,
            kind,
            path,
            mode,
        })
    }
}

fn braced_call_args(input: ParseStream<'_>) -> syn::Result<CallArgs> {
    let content;
    let brace = syn::braced!(content in input);
    let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    Ok(CallArgs {
        span: brace.span.join(),
        args: args.into_iter().collect(),
    })
}

fn keyword(input: ParseStream<'_>, word: &str) -> syn::Result<()> {
    let ident: Ident = input.parse()?;
    input.parse::<Token![=]>()?;
    if ident != word {
        return Err(syn::Error::new(ident.span(), format!("expected `{word}`")));
    }
    Ok(())
}

pub fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<Input>(input) {
        Ok(input) => input,
        Err(e) => return expression_error(e),
    };
    let result = match &input.mode {
        Mode::Map { args, call } => map::expand_map(
            &input.krate,
            &input.path,
            &input.params,
            args,
            call.as_ref(),
        ),
        Mode::Inputs {
            call,
            values,
            again,
        } => expand_inputs(&input, call, values, again),
        Mode::GraphNode(args) => {
            let (krate, path) = (&input.krate, &input.path);
            Ok(quote!(#krate::__private::graph_node::<#path>(#args)))
        }
        Mode::FlyteNode { head, inputs } => Ok(flyte_node(&input, head, inputs)),
        Mode::FlyteMap { head, args, call } => Ok(flyte_map(&input, head, args, call)),
    };
    result.unwrap_or_else(expression_error)
}

/// A node call: the inputs tuple, each value checked against its parameter's type at its own
/// span, wrapped in the node type of a task or a workflow. The inputs are made by a closure of
/// the values the call uses, so that a retry makes them again from fresh copies of those values
/// rather than by cloning them: the inputs need no `Clone` of their own.
fn expand_inputs(
    input: &Input,
    call: &CallArgs,
    values: &TokenStream,
    again: &TokenStream,
) -> syn::Result<TokenStream> {
    let path = &input.path;
    let ordered = call.order(path, &input.params, "argument")?;
    let krate = &input.krate;
    let private = quote!(#krate::__private);
    let locals: Vec<Ident> = (0..ordered.len())
        .map(|i| format_ident!("__maptask_input{}", i))
        .collect();
    let lets = ordered
        .iter()
        .zip(&locals)
        .enumerate()
        .map(|(i, (value, local))| {
            quote_spanned! {value.span()=>
                #[allow(unused_braces)]
                let #local: <#path as #private::TaskParam<#i>>::Type = #value;
            }
        });
    let node = match input.kind {
        Kind::Task => quote!(#private::task_node::<#path, _, _, _>),
        Kind::Workflow => quote!(#private::workflow_node::<#path, _, _, _>),
    };
    // At the callee's path, so that an output that cannot be shared is reported at the call,
    // once: the rest of the workflow takes the function that copies it from here.
    let share = quote_spanned! {path.span()=>
        #private::node_output::<<#path as #private::Task>::Output>()
    };
    Ok(quote! {
        {
            let __maptask_share = #share;
            #node(
                #values,
                #again,
                move |#values| {
                    #(#lets)*
                    (#(#locals,)*)
                },
                __maptask_share,
            )
        }
    })
}

/// A task or sub-workflow node of a Flyte definition. A call with errors, which the workflow's run reports,
/// becomes a node that fails to serialize, so that no error is reported twice.
fn flyte_node(input: &Input, head: &FlyteHead, call: &CallArgs) -> TokenStream {
    let (krate, path) = (&input.krate, &input.path);
    let private = quote!(#krate::__private);
    let FlyteHead { id, overrides } = head;
    let Ok(ordered) = call.order(path, &input.params, "argument") else {
        return invalid(&private, id);
    };
    let mut lets = Vec::new();
    let mut pairs = Vec::new();
    for (i, (value, param)) in ordered.iter().zip(&input.params).enumerate() {
        let local = format_ident!("__maptask_arg{}", i);
        lets.push(flyte_arg(&private, path, i, false, value, &local));
        let name = param.to_string();
        pairs.push(quote!((#name, (&&#private::flyte::ArgProbe(#local)).maptask_source())));
    }
    let node = match input.kind {
        Kind::Task => quote!(#private::flyte::task_node::<#path>),
        Kind::Workflow => quote!(#private::flyte::workflow_node::<#path>),
    };
    quote! {{
        #(#lets)*
        #node(#id, ::std::vec![#(#pairs),*], #overrides)
    }}
}

/// A map node of a Flyte definition: its options as `map_task!` reads them, its mapped and
/// bound inputs as sources.
fn flyte_map(input: &Input, head: &FlyteHead, args: &MapArgs, call: &CallArgs) -> TokenStream {
    let (krate, path) = (&input.krate, &input.path);
    let private = quote!(#krate::__private);
    let FlyteHead { id, overrides } = head;
    let plan = match map::validate::validate(path, &input.params, args) {
        Ok((plan, None)) => plan,
        _ => return invalid(&private, id),
    };
    let mapped: Vec<Ident> = plan
        .params
        .iter()
        .filter(|p| matches!(p.feed, map::Feed::Mapped))
        .map(|p| p.name.clone())
        .collect();
    let Ok(ordered) = call.order(path, &mapped, "mapped input") else {
        return invalid(&private, id);
    };
    let mut ordered = ordered.into_iter();
    let (mut lets, mut pairs) = (Vec::new(), Vec::new());
    let (mut mapped_names, mut bound_names) = (Vec::new(), Vec::new());
    for (i, param) in plan.params.iter().enumerate() {
        let local = format_ident!("__maptask_arg{}", i);
        let name = param.name.to_string();
        let arg = match &param.feed {
            map::Feed::Mapped => {
                mapped_names.push(name.clone());
                match ordered.next() {
                    Some(value) => flyte_arg(&private, path, i, true, &value, &local),
                    None => return invalid(&private, id),
                }
            }
            map::Feed::Bound(value) => {
                bound_names.push(name.clone());
                flyte_arg(&private, path, i, false, value, &local)
            }
        };
        lets.push(arg);
        pairs.push(quote!((#name, (&&#private::flyte::ArgProbe(#local)).maptask_source())));
    }
    let tolerance = map::expand::tolerance(&private, &plan);
    let parts = map::expand::parts(&private, &plan, &mapped_names, &bound_names);
    quote! {{
        #(#lets)*
        #private::flyte::map_node::<#path, #tolerance>(#id, #parts, ::std::vec![#(#pairs),*], #overrides)
    }}
}

fn invalid(private: &TokenStream, id: &syn::LitStr) -> TokenStream {
    quote!(#private::flyte::invalid_node(#id, "its call does not compile"))
}

/// `let local: Arg<parameter type> = …;` for one input of a Flyte node (a `Vec` of it for a
/// mapped input). A constant is checked against the type with the tokens and spans that the
/// workflow's run uses, so a wrong one is reported once.
fn flyte_arg(
    private: &TokenStream,
    path: &syn::Path,
    i: usize,
    mapped: bool,
    value: &Expr,
    local: &Ident,
) -> TokenStream {
    let Some(constant) = const_marker(value) else {
        let ty = param_type(private, path, i, mapped);
        return quote!(let #local: #private::flyte::Arg<#ty> = #value;);
    };
    let typed = if mapped {
        quote_spanned! {constant.span()=>
            #[allow(unused_braces)]
            let #local: ::std::vec::Vec<<#path as #private::TaskParam<#i>>::Type> = #constant;
        }
    } else {
        quote_spanned! {constant.span()=>
            #[allow(unused_braces)]
            let #local: <#path as #private::TaskParam<#i>>::Type = #constant;
        }
    };
    quote! {
        #typed
        let #local = #private::flyte::Arg::Const(#local);
    }
}

fn param_type(private: &TokenStream, path: &syn::Path, i: usize, mapped: bool) -> TokenStream {
    if mapped {
        quote!(::std::vec::Vec<<#path as #private::TaskParam<#i>>::Type>)
    } else {
        quote!(<#path as #private::TaskParam<#i>>::Type)
    }
}

/// The expression inside `__maptask_const(…)`, the workflow macro's mark of a constant.
fn const_marker(value: &Expr) -> Option<&Expr> {
    let Expr::Call(call) = value else { return None };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    (func.path.is_ident("__maptask_const") && call.args.len() == 1).then(|| &call.args[0])
}

impl CallArgs {
    /// The argument values in the order of `names`: positional arguments as given, named ones
    /// reordered. Reports unknown, repeated and missing names, and a wrong count.
    pub fn order(&self, path: &syn::Path, names: &[Ident], what: &str) -> syn::Result<Vec<Expr>> {
        let task = path_string(path);
        let expected: Vec<String> = names.iter().map(ToString::to_string).collect();
        let named = self
            .args
            .iter()
            .filter(|a| matches!(a, Expr::Assign(_)))
            .count();
        let mut errors = Errors::default();
        if named == 0 {
            if self.args.len() != names.len() {
                errors.push(syn::Error::new(
                    self.span,
                    format!(
                        "`{task}` takes {} {what}{} ({}) but {} {} given",
                        names.len(),
                        if names.len() == 1 { "" } else { "s" },
                        list(&expected),
                        self.args.len(),
                        if self.args.len() == 1 { "was" } else { "were" }
                    ),
                ));
            }
            errors.finish()?;
            return Ok(self.args.clone());
        }
        if named != self.args.len() {
            return Err(syn::Error::new(
                self.span,
                format!("pass every {what} of `{task}` by name (`a = x`) or every one by position, not a mix"),
            ));
        }
        let mut slots: Vec<Option<Expr>> = vec![None; names.len()];
        for arg in &self.args {
            let Expr::Assign(assign) = arg else { continue };
            let Expr::Path(left) = &*assign.left else {
                errors.push_spanned(
                    &assign.left,
                    format!("expected the name of a {what} of `{task}`"),
                );
                continue;
            };
            let Some(ident) = left.path.get_ident() else {
                errors.push_spanned(
                    &assign.left,
                    format!("expected the name of a {what} of `{task}`"),
                );
                continue;
            };
            match names.iter().position(|n| n == ident) {
                Some(i) if slots[i].is_some() => {
                    errors.push_spanned(ident, format!("{what} `{ident}` is given twice"))
                }
                Some(i) => slots[i] = Some((*assign.right).clone()),
                None => errors.push_spanned(
                    ident,
                    format!(
                        "`{task}` has no {what} `{ident}`; its {what}s are {}",
                        list(&expected)
                    ),
                ),
            }
        }
        let missing: Vec<String> = names
            .iter()
            .zip(&slots)
            .filter(|(_, slot)| slot.is_none())
            .map(|(n, _)| n.to_string())
            .collect();
        if !missing.is_empty() {
            errors.push(syn::Error::new(
                self.span,
                format!("missing {what} {} of `{task}`", list(&missing)),
            ));
        }
        errors.finish()?;
        Ok(slots.into_iter().flatten().collect())
    }
}

/// Errors where an expression is expected. The last `compile_error!` is the block's value: an
/// expression that failed to expand has rustc's error type, which fits wherever the expression
/// stood without a second error, and, unlike a diverging block, leaves the code after it
/// reachable (no "unreachable statement" warning).
pub fn expression_error(error: syn::Error) -> TokenStream {
    let mut errors: Vec<TokenStream> = error.into_iter().map(|e| e.to_compile_error()).collect();
    let last = errors.pop();
    // Parenthesized: a braced macro call at the start of a statement would be a statement.
    quote!({ #(#errors;)* (#last) })
}
