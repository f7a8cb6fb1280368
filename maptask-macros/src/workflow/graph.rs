//! Reads a workflow body, statement by statement, into values and nodes.
//!
//! A value is a workflow input, a constant, a node's output, an alias of another value, or one
//! element of a tuple value. A node is a task, `map_task!` or sub-workflow call. Node-like
//! expressions nested in arguments become anonymous nodes, replaced by a generated name, so the
//! expansion only ever sees names and constants where values flow.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Pat, Stmt, Token, Type};

use super::overrides::{self, Overrides};
use super::parse::WorkflowFn;
use crate::common::diagnostics::Errors;
use crate::common::tokens::path_string;
use crate::map::{Invocation, MapArg};

pub enum Producer {
    Input(usize),
    Constant(Expr),
    Node(usize),
    Alias(usize),
    Projection { of: usize, index: usize },
}

pub struct Value {
    /// The name the body uses; generated for anonymous nodes.
    pub name: Ident,
    /// The local that holds the shared value in the generated code.
    pub local: Ident,
    pub ty: Option<Type>,
    pub producer: Producer,
}

pub enum Call {
    /// A `#[task]` or `#[workflow]` call; which one is learnt from the callee's signature macro.
    Entity {
        path: syn::Path,
        args: Vec<Expr>,
        span: Span,
    },
    /// `map_task!(path, key = value…)(args…)`.
    Map {
        /// The path of `map_task!` as written, e.g. `map_task` or `mt::map_task`.
        macro_path: syn::Path,
        path: syn::Path,
        map_args: Vec<MapArg>,
        args: Vec<Expr>,
        span: Span,
    },
}

pub struct Node {
    pub id: String,
    pub call: Call,
    pub overrides: Overrides,
    /// The values the node consumes, by index.
    pub deps: Vec<usize>,
    /// The value the node produces.
    pub value: usize,
}

pub struct Output {
    pub expr: Expr,
    pub deps: Vec<usize>,
}

pub struct Body {
    pub values: Vec<Value>,
    pub nodes: Vec<Node>,
    pub output: Option<Output>,
}

impl Body {
    /// Where a value comes from in the graph: `start`, a node id, or nowhere (a constant).
    pub fn origin(&self, value: usize) -> Option<String> {
        match &self.values[value].producer {
            Producer::Input(_) => Some("inputs".to_owned()),
            Producer::Constant(_) => None,
            Producer::Node(k) => Some(self.nodes[*k].id.clone()),
            Producer::Alias(of) | Producer::Projection { of, .. } => self.origin(*of),
        }
    }
}

struct Analyzer {
    values: Vec<Value>,
    nodes: Vec<Node>,
    /// Names in scope, later bindings shadowing earlier ones.
    scope: Vec<(String, usize)>,
    errors: Errors,
}

pub fn analyze(wf: &WorkflowFn<'_>) -> syn::Result<Body> {
    let mut a = Analyzer {
        values: Vec::new(),
        nodes: Vec::new(),
        scope: Vec::new(),
        errors: Errors::default(),
    };
    for (i, (name, ty)) in wf.inputs.iter().enumerate() {
        a.push_value(name.clone(), Some(ty.clone()), Producer::Input(i));
    }
    let stmts = &wf.func.block.stmts;
    let mut output = None;
    for (i, stmt) in stmts.iter().enumerate() {
        let last = i + 1 == stmts.len();
        match stmt {
            Stmt::Local(local) => a.local(local),
            Stmt::Expr(expr, None) if last => {
                let lowered = a.lower(expr);
                let deps = a.refs(&lowered.to_token_stream());
                output = Some(Output {
                    expr: lowered,
                    deps,
                });
            }
            Stmt::Expr(expr, _) => {
                if let Some((at, message)) = not_in_workflows(expr) {
                    a.errors.push_spanned(at, message);
                } else if is_node_like(expr) {
                    a.node(expr, None, None);
                } else {
                    a.errors.push_spanned(
                        expr,
                        "a statement in a workflow is a `let` binding or a task, `map_task!` or workflow call; this expression does nothing here",
                    );
                }
            }
            Stmt::Item(item) => a.errors.push_spanned(
                item,
                "items cannot be declared inside a workflow body; move this out of the function",
            ),
            Stmt::Macro(mac) => a.errors.push_spanned(
                &mac.mac.path,
                format!(
                    "the macro `{}!` is not part of the workflow language; a workflow body holds `let` bindings of task, `map_task!(…)(…)` and workflow calls, constants and a final value",
                    path_string(&mac.mac.path)
                ),
            ),
        }
    }
    if output.is_none() {
        if let Some(ty) = &wf.output {
            a.errors.push_spanned(
                ty,
                "this workflow declares an output, so its body must end with the value it returns (an expression without `;`)",
            );
        }
    }
    a.errors.finish()?;
    Ok(Body {
        values: a.values,
        nodes: a.nodes,
        output,
    })
}

impl Analyzer {
    fn push_value(&mut self, name: Ident, ty: Option<Type>, producer: Producer) -> usize {
        let index = self.values.len();
        let local = format_ident!("__maptask_v{}", index);
        self.scope.push((name.to_string(), index));
        self.values.push(Value {
            name,
            local,
            ty,
            producer,
        });
        index
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
    }

    /// The values an expression mentions, in order of first mention.
    fn refs(&self, tokens: &TokenStream) -> Vec<usize> {
        let mut found = Vec::new();
        self.collect_refs(tokens.clone(), &mut found);
        found
    }

    fn collect_refs(&self, tokens: TokenStream, found: &mut Vec<usize>) {
        for tree in tokens {
            match tree {
                TokenTree::Ident(ident) => {
                    if let Some(v) = self.lookup(&ident.to_string()) {
                        if !found.contains(&v) {
                            found.push(v);
                        }
                    }
                }
                TokenTree::Group(group) => self.collect_refs(group.stream(), found),
                _ => {}
            }
        }
    }

    fn local(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else {
            self.errors.push_spanned(
                local,
                "a workflow `let` binds a value: write `let name = task(…);`",
            );
            return;
        };
        if let Some((_, diverge)) = &init.diverge {
            self.errors
                .push_spanned(diverge, "`let … else` is not part of the workflow language");
            return;
        }
        let (pat, ty) = match &local.pat {
            Pat::Type(t) => (&*t.pat, Some((*t.ty).clone())),
            other => (other, None),
        };
        let expr = &*init.expr;
        match pat {
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                self.bind(p.ident.clone(), ty, expr);
            }
            Pat::Tuple(tuple) => {
                let mut names = Vec::new();
                for elem in &tuple.elems {
                    match elem {
                        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                            names.push(Some(p.ident.clone()))
                        }
                        Pat::Wild(_) => names.push(None),
                        other => {
                            self.errors.push_spanned(other, "destructure a tuple output into plain names, e.g. `let (a, b) = f(x);`");
                            return;
                        }
                    }
                }
                let whole_name = format_ident!("__maptask_tuple{}", self.values.len());
                let whole = self.bind(whole_name, ty, expr);
                let Some(whole) = whole else { return };
                for (index, name) in names.into_iter().enumerate() {
                    if let Some(name) = name {
                        self.push_value(name, None, Producer::Projection { of: whole, index });
                    }
                }
            }
            other => self.errors.push_spanned(
                other,
                "a workflow `let` binds a plain name or a tuple of names, e.g. `let ys = f(xs);`",
            ),
        }
    }

    /// Binds `name` to what `expr` produces.
    fn bind(&mut self, name: Ident, ty: Option<Type>, expr: &Expr) -> Option<usize> {
        if let Some((at, message)) = not_in_workflows(expr) {
            self.errors.push_spanned(at, message);
            return None;
        }
        if is_node_like(expr) {
            return Some(self.node(expr, Some(name), ty));
        }
        if let Some(v) = self.value_path(expr) {
            return Some(self.push_value(name, ty, Producer::Alias(v)));
        }
        if self.refs(&expr.to_token_stream()).is_empty() {
            return Some(self.push_value(name, ty, Producer::Constant(expr.clone())));
        }
        self.disallowed(expr);
        None
    }

    /// The value a bare name refers to.
    fn value_path(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                p.path.get_ident().and_then(|i| self.lookup(&i.to_string()))
            }
            Expr::Paren(p) => self.value_path(&p.expr),
            _ => None,
        }
    }

    /// Rewrites an argument or output: node-like parts become anonymous nodes, names and
    /// constants stay, anything else that uses a workflow value is an error.
    fn lower(&mut self, expr: &Expr) -> Expr {
        if let Some((at, message)) = not_in_workflows(expr) {
            self.errors.push_spanned(at, message);
            return expr.clone();
        }
        if is_node_like(expr) {
            let v = self.node(expr, None, None);
            // The generated name carries the call's span, so that a type error about the value
            // (a wrong output, a wrong argument) points at the call.
            let name = &self.values[v].name;
            return syn::parse_quote!(#name);
        }
        match expr {
            Expr::Tuple(t) => {
                let elems: Vec<Expr> = t.elems.iter().map(|e| self.lower(e)).collect();
                syn::parse_quote_spanned!(t.span()=> (#(#elems,)*))
            }
            Expr::Paren(p) => self.lower(&p.expr),
            _ if self.value_path(expr).is_some() => expr.clone(),
            _ if self.refs(&expr.to_token_stream()).is_empty() => expr.clone(),
            _ => {
                self.disallowed(expr);
                expr.clone()
            }
        }
    }

    /// Lowers call arguments, keeping the names of named ones.
    fn lower_args(&mut self, args: &Punctuated<Expr, Token![,]>) -> Vec<Expr> {
        args.iter()
            .map(|arg| match arg {
                Expr::Assign(assign) => {
                    let mut assign = assign.clone();
                    *assign.right = self.lower(&assign.right);
                    Expr::Assign(assign)
                }
                other => self.lower(other),
            })
            .collect()
    }

    /// Adds the node for a node-like expression and returns its value.
    fn node(&mut self, expr: &Expr, binding: Option<Ident>, ty: Option<Type>) -> usize {
        let (call_expr, overrides) = match expr {
            Expr::MethodCall(m) if m.method == "with_overrides" => {
                if matches!(&*m.receiver, Expr::MethodCall(inner) if inner.method == "with_overrides")
                {
                    self.errors
                        .push_spanned(&m.method, "give all overrides in one `.with_overrides(…)`");
                }
                let overrides = match overrides::parse(&m.args) {
                    Ok(o) => o,
                    Err(e) => {
                        self.errors.push(e);
                        Overrides::default()
                    }
                };
                (&*m.receiver, overrides)
            }
            other => (other, Overrides::default()),
        };
        let call = match call_expr {
            Expr::Call(c) => match &*c.func {
                Expr::Macro(mac) => self.map_call(mac, &c.args, c.paren_token.span.join()),
                Expr::Path(p) => Call::Entity {
                    path: p.path.clone(),
                    args: self.lower_args(&c.args),
                    span: c.paren_token.span.join(),
                },
                other => {
                    self.errors
                        .push_spanned(other, "expected a task, `map_task!(…)` or workflow here");
                    return self.push_value(
                        anon_name(self.values.len(), Span::call_site()),
                        ty,
                        Producer::Constant(syn::parse_quote!(())),
                    );
                }
            },
            other => {
                self.errors.push_spanned(
                    other,
                    "`.with_overrides(…)` applies to a task, `map_task!(…)(…)` or workflow call",
                );
                return self.push_value(
                    anon_name(self.values.len(), Span::call_site()),
                    ty,
                    Producer::Constant(syn::parse_quote!(())),
                );
            }
        };
        if let (Some(concurrency), Call::Entity { .. }) = (&overrides.concurrency, &call) {
            self.errors.push_spanned(
                concurrency,
                "`concurrency` applies to `map_task!(…)(…)` nodes only; a task or workflow call runs once",
            );
        }
        let deps = self.refs(&call_values(&call));
        let index = self.nodes.len();
        let base = match (&overrides.name, &binding) {
            (Some(lit), _) => lit.value(),
            (None, Some(name)) => name.to_string().trim_start_matches("__maptask_").to_owned(),
            (None, None) => format!("n{index}"),
        };
        let id = self.unique_id(base);
        let name = binding.unwrap_or_else(|| anon_name(self.values.len(), expr.span()));
        let value = self.push_value(name, ty, Producer::Node(index));
        self.nodes.push(Node {
            id,
            call,
            overrides,
            deps,
            value,
        });
        value
    }

    fn map_call(
        &mut self,
        mac: &syn::ExprMacro,
        args: &Punctuated<Expr, Token![,]>,
        span: Span,
    ) -> Call {
        let parsed = syn::parse2::<Invocation>(mac.mac.tokens.clone());
        let (path, map_args) = match parsed {
            Ok(Invocation { path, args, .. }) => (path, args.items),
            Err(e) => {
                self.errors.push(e);
                (syn::parse_quote!(__invalid), Vec::new())
            }
        };
        let map_args = map_args
            .into_iter()
            .map(|arg| MapArg {
                value: self.lower(&arg.value),
                ..arg
            })
            .collect();
        Call::Map {
            macro_path: mac.mac.path.clone(),
            path,
            map_args,
            args: self.lower_args(args),
            span,
        }
    }

    fn unique_id(&self, base: String) -> String {
        // `inputs` and `outputs` name the graph's two pseudo-nodes.
        let taken =
            |id: &str| id == "inputs" || id == "outputs" || self.nodes.iter().any(|n| n.id == id);
        if !taken(&base) {
            return base;
        }
        (2..)
            .map(|k| format!("{base}_{k}"))
            .find(|id| !taken(id))
            .unwrap_or(base)
    }

    fn disallowed(&mut self, expr: &Expr) {
        let what = match expr {
            Expr::Binary(b) => format!(
                "arithmetic or comparison on a workflow value (`{}`)",
                b.op.to_token_stream()
            ),
            Expr::Unary(_) => "an operator on a workflow value".to_owned(),
            Expr::If(_) => "`if` on a workflow value".to_owned(),
            Expr::Match(_) => "`match` on a workflow value".to_owned(),
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => "a loop over a workflow value".to_owned(),
            Expr::MethodCall(m) => format!(
                "the method call `.{}(…)` on a workflow value (only `.with_overrides(…)` is allowed, on a task, map or workflow call)",
                m.method
            ),
            Expr::Call(c) => format!(
                "the call of `{}`, which is not a task (only `#[task]` functions and `#[workflow]`s take workflow values)",
                c.func.to_token_stream().to_string().replace(' ', "")
            ),
            Expr::Field(_) => "a field access on a workflow value".to_owned(),
            Expr::Index(_) => "indexing a workflow value".to_owned(),
            Expr::Macro(m) => format!("the macro `{}!` on a workflow value", path_string(&m.mac.path)),
            Expr::Closure(_) => "a closure over a workflow value".to_owned(),
            Expr::Reference(_) => "a reference to a workflow value (pass values by value)".to_owned(),
            Expr::Block(_) => "a block that uses a workflow value".to_owned(),
            _ => "this use of a workflow value".to_owned(),
        };
        self.errors.push_spanned(
            expr,
            format!(
                "{what} is not part of the workflow language: a workflow value only exists when the graph runs. \
                 Do this inside a #[task]; the body may hold `let` bindings of task, `map_task!(…)(…)` and workflow calls, \
                 constants, `.with_overrides(…)`, and a final value or tuple of values"
            ),
        );
    }
}

/// The constructs a reader of ordinary Rust reaches for that a workflow body must not hold,
/// each with the fix, whether or not they touch a workflow value.
fn not_in_workflows(expr: &Expr) -> Option<(TokenStream, String)> {
    let message = not_in_workflows_message(expr)?;
    // At the token to remove or replace, not the whole expression.
    let at = match expr {
        Expr::Await(a) => {
            let (dot, token) = (&a.dot_token, &a.await_token);
            quote!(#dot #token)
        }
        Expr::Try(t) => t.question_token.to_token_stream(),
        Expr::ForLoop(f) => {
            let (token, pat, in_token, of) = (&f.for_token, &f.pat, &f.in_token, &f.expr);
            quote!(#token #pat #in_token #of)
        }
        other => other.to_token_stream(),
    };
    Some((at, message))
}

fn not_in_workflows_message(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Await(_) => Some(
            "remove `.await`: nodes are awaited for you. A workflow body only wires calls; the graph runs them, every independent node at once, when the workflow is called"
                .to_owned(),
        ),
        Expr::Try(_) => Some(
            "remove `?`: a failing node fails the workflow, with the node's name and its error"
                .to_owned(),
        ),
        Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => Some(
            "a loop cannot run tasks in a workflow: map the task over the list instead, e.g. `let ys = map_task!(my_task)(x = xs);`, which runs one element per item"
                .to_owned(),
        ),
        _ => None,
    }
}

/// The tokens of a call's value expressions (not the names of named arguments or map options).
fn call_values(call: &Call) -> TokenStream {
    let arg_values = |args: &[Expr]| {
        args.iter()
            .map(|a| match a {
                Expr::Assign(assign) => assign.right.to_token_stream(),
                other => other.to_token_stream(),
            })
            .collect::<Vec<_>>()
    };
    match call {
        Call::Entity { args, .. } => {
            let values = arg_values(args);
            quote!(#(#values)*)
        }
        Call::Map { map_args, args, .. } => {
            let values = arg_values(args);
            let options = map_args.iter().map(|arg| &arg.value);
            quote!(#(#values)* #(#options)*)
        }
    }
}

fn anon_name(index: usize, span: Span) -> Ident {
    format_ident!("__maptask_anon{}", index, span = span)
}

/// A call of a task or workflow (a path whose last segment is lowercase and that is not an
/// associated function of a type), a called `map_task!`, or either with `.with_overrides(…)`.
pub fn is_node_like(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(m) if m.method == "with_overrides" => true,
        Expr::Call(c) => match &*c.func {
            Expr::Macro(mac) => mac
                .mac
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "map_task"),
            Expr::Path(p) if p.qself.is_none() => {
                let segments: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let starts_lower = |s: &String| {
                    s.chars()
                        .next()
                        .is_some_and(|c| c.is_lowercase() || c == '_')
                };
                segments.last().is_some_and(starts_lower) && segments.iter().all(starts_lower)
            }
            _ => false,
        },
        _ => false,
    }
}
