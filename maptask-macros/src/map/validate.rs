//! Checks a `map_task!` against the task's parameter names and decides its shape.

use std::time::Duration;

use syn::{Expr, Ident, Lit, LitStr, UnOp};

use super::parse::{Group, MapArgs};
use crate::common::diagnostics::{list, Errors};
use crate::common::duration::parse_duration;
use crate::common::tokens::path_string;

const OPTIONS: [&str; 6] = [
    "concurrency",
    "min_success_ratio",
    "min_successes",
    "retries",
    "timeout",
    "name",
];

/// How one task parameter is fed.
pub enum Feed {
    Mapped,
    Bound(Expr),
}

pub struct ParamPlan {
    pub name: Ident,
    pub feed: Feed,
}

pub enum CriterionPlan {
    All,
    /// A literal ratio, validated, as its decimal digits.
    RatioLiteral(LitStr),
    RatioExpr(Expr),
    MinSuccesses(Expr),
}

/// A validated map: every parameter's feed, the options, and whether outputs are `Option`s.
/// When some options or bindings were wrong, the plan leaves them out, so that the map still
/// expands (next to the errors) and the code around it type-checks without a second error.
pub struct Plan {
    pub params: Vec<ParamPlan>,
    pub concurrency: Option<Expr>,
    pub criterion: CriterionPlan,
    pub retries: Option<Expr>,
    pub timeout: Option<Duration>,
    pub name: Option<LitStr>,
    pub tolerant: bool,
}

/// The plan and, apart from it, the mistakes it leaves out. A map with nothing to map has no plan.
pub fn validate(
    path: &syn::Path,
    params: &[Ident],
    args: &MapArgs,
) -> syn::Result<(Plan, Option<syn::Error>)> {
    let mut errors = Errors::default();
    let task = path_string(path);
    let param_names: Vec<String> = params.iter().map(ToString::to_string).collect();
    let mut bound: Vec<Option<Expr>> = vec![None; params.len()];
    let mut seen: Vec<String> = Vec::new();
    let mut plan = Plan {
        params: Vec::new(),
        concurrency: None,
        criterion: CriterionPlan::All,
        retries: None,
        timeout: None,
        name: None,
        tolerant: false,
    };
    let mut criterion_key: Option<Ident> = None;

    for arg in &args.items {
        let key = arg.key.to_string();
        let is_option = OPTIONS.contains(&key.as_str());
        let param = params.iter().position(|p| *p == key);
        // What the key means: an option, or the parameter at this index.
        let binds = match (arg.group, is_option, param) {
            (Group::Bare, true, Some(_)) => {
                errors.push_spanned(
                    &arg.key,
                    format!(
                        "`{key}` is both a map option and a parameter of task `{task}`; write `bind({key} = …)` to bind the parameter, or `options({key} = …)` to set the map's `{key}`"
                    ),
                );
                continue;
            }
            (Group::Bind, _, Some(i)) | (Group::Bare, false, Some(i)) => Some(i),
            (Group::Options, true, _) | (Group::Bare, true, None) => None,
            (Group::Bind, _, None) => {
                errors.push_spanned(
                    &arg.key,
                    format!(
                        "task `{task}` has no parameter `{key}` to bind; its parameters are {}{}",
                        list(&param_names),
                        did_you_mean(&key, param_names.iter().map(String::as_str))
                    ),
                );
                continue;
            }
            (Group::Options, false, _) => {
                errors.push_spanned(
                    &arg.key,
                    format!(
                        "unknown map option `{key}`; the options are {}{}",
                        list(&OPTIONS.map(String::from)),
                        did_you_mean(&key, OPTIONS.iter().copied())
                    ),
                );
                continue;
            }
            (Group::Bare, false, None) => {
                let near = did_you_mean(
                    &key,
                    OPTIONS
                        .iter()
                        .copied()
                        .chain(param_names.iter().map(String::as_str)),
                );
                let message = if params.is_empty() {
                    format!(
                        "`{key}` is neither a map option nor a parameter of task `{task}`, which takes no parameters; the options are {}{near}",
                        list(&OPTIONS.map(String::from))
                    )
                } else {
                    format!(
                        "task `{task}` has no parameter `{key}`; its parameters are {}, and the map options are {}{near}",
                        list(&param_names),
                        list(&OPTIONS.map(String::from))
                    )
                };
                errors.push_spanned(&arg.key, message);
                continue;
            }
        };
        let seen_key = match binds {
            Some(_) => format!("param {key}"),
            None => format!("option {key}"),
        };
        if seen.contains(&seen_key) {
            let what = if binds.is_some() { "binding" } else { "option" };
            errors.push_spanned(&arg.key, format!("duplicate {what} `{key}`; give it once"));
            continue;
        }
        seen.push(seen_key);
        if let Some(i) = binds {
            bound[i] = Some(arg.value.clone());
            continue;
        }
        match key.as_str() {
            "concurrency" => {
                if check_concurrency(&arg.value, &mut errors) {
                    plan.concurrency = Some(arg.value.clone());
                }
            }
            "min_success_ratio" | "min_successes" => {
                if let Some(first) = &criterion_key {
                    errors.push_spanned(
                        &arg.key,
                        format!(
                            "`{key}` conflicts with `{first}`: give either `min_success_ratio` or `min_successes`, not both"
                        ),
                    );
                    continue;
                }
                criterion_key = Some(arg.key.clone());
                if key == "min_successes" {
                    plan.criterion = CriterionPlan::MinSuccesses(arg.value.clone());
                    plan.tolerant = true;
                } else {
                    match ratio_literal(&arg.value) {
                        RatioLiteral::Valid(text, span) => {
                            plan.tolerant = !is_one(&text);
                            plan.criterion = CriterionPlan::RatioLiteral(LitStr::new(&text, span));
                        }
                        RatioLiteral::OutOfRange(text) => errors.push_spanned(
                            &arg.value,
                            format!(
                                "min_success_ratio must lie in [0, 1], but `{text}` does not; write e.g. `min_success_ratio = 0.75`"
                            ),
                        ),
                        RatioLiteral::NotANumber => errors.push_spanned(
                            &arg.value,
                            "min_success_ratio takes a number in [0, 1], e.g. `min_success_ratio = 0.75`",
                        ),
                        RatioLiteral::NotLiteral => {
                            // Only a literal can be known to be 1, so an expression tolerates failures.
                            plan.tolerant = true;
                            plan.criterion = CriterionPlan::RatioExpr(arg.value.clone());
                        }
                    }
                }
            }
            "retries" => {
                if let Some(text) = negative_literal(&arg.value) {
                    errors.push_spanned(
                        &arg.value,
                        format!("`retries` counts extra attempts and cannot be negative (`{text}`); write e.g. `retries = 2`"),
                    );
                } else {
                    plan.retries = Some(arg.value.clone());
                }
            }
            "timeout" => match &arg.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => match parse_duration(&s.value()) {
                    Ok(d) => plan.timeout = Some(d),
                    Err(message) => errors.push_spanned(s, message),
                },
                other => errors.push_spanned(
                    other,
                    "`timeout` takes a duration string, e.g. `timeout = \"30s\"` or `timeout = \"1m30s\"`",
                ),
            },
            "name" => match &arg.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) if !s.value().trim().is_empty() => plan.name = Some(s.clone()),
                other => errors.push_spanned(
                    other,
                    "`name` takes a non-empty string literal, e.g. `name = \"render-all\"`",
                ),
            },
            _ => unreachable!("only options reach here"),
        }
    }

    if params.is_empty() {
        errors.push_spanned(
            path,
            format!("nothing to map: task `{task}` has no parameters; map a task that takes at least one input"),
        );
    } else if bound.iter().all(Option::is_some) {
        errors.push_spanned(
            path,
            format!(
                "nothing to map: every parameter of task `{task}` is bound; leave at least one of {} unbound, so that it becomes a list input",
                list(&param_names)
            ),
        );
    }
    let nothing_to_map = params.is_empty() || bound.iter().all(Option::is_some);
    let problems = errors.finish().err();
    if let (true, Some(problems)) = (nothing_to_map, &problems) {
        return Err(problems.clone());
    }

    plan.params = params
        .iter()
        .zip(bound)
        .map(|(name, value)| ParamPlan {
            name: name.clone(),
            feed: match value {
                Some(expr) => Feed::Bound(expr),
                None => Feed::Mapped,
            },
        })
        .collect();
    Ok((plan, problems))
}

enum RatioLiteral {
    Valid(String, proc_macro2::Span),
    OutOfRange(String),
    NotANumber,
    NotLiteral,
}

fn ratio_literal(expr: &Expr) -> RatioLiteral {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Float(f)
                if f.suffix().is_empty() || f.suffix() == "f64" || f.suffix() == "f32" =>
            {
                decimal_in_unit_interval(f.base10_digits(), f.span())
            }
            Lit::Int(i) if i.suffix().is_empty() => {
                decimal_in_unit_interval(i.base10_digits(), i.span())
            }
            _ => RatioLiteral::NotANumber,
        },
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(lit) => match &lit.lit {
                Lit::Float(f) => RatioLiteral::OutOfRange(format!("-{}", f.base10_digits())),
                Lit::Int(i) => RatioLiteral::OutOfRange(format!("-{}", i.base10_digits())),
                _ => RatioLiteral::NotANumber,
            },
            _ => RatioLiteral::NotLiteral,
        },
        Expr::Paren(p) => ratio_literal(&p.expr),
        _ => RatioLiteral::NotLiteral,
    }
}

fn decimal_in_unit_interval(digits: &str, span: proc_macro2::Span) -> RatioLiteral {
    if digits.contains(['e', 'E']) {
        return RatioLiteral::NotANumber;
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac_nonzero = frac.bytes().any(|b| b != b'0');
    let in_range = int.is_empty() || (int == "1" && !frac_nonzero);
    if in_range {
        RatioLiteral::Valid(digits.to_owned(), span)
    } else {
        RatioLiteral::OutOfRange(digits.to_owned())
    }
}

fn is_one(digits: &str) -> bool {
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    int.trim_start_matches('0') == "1" && frac.bytes().all(|b| b == b'0')
}

/// Whether `concurrency = expr` can be used; reports why not.
fn check_concurrency(expr: &Expr, errors: &mut Errors) -> bool {
    if let Some(text) = negative_literal(expr) {
        errors.push_spanned(
            expr,
            format!("`concurrency` cannot be negative (`{text}`); write a whole number ≥ 1, or 0 for no limit"),
        );
        false
    } else if let Expr::Lit(syn::ExprLit {
        lit: Lit::Float(f), ..
    }) = expr
    {
        errors.push_spanned(
            f,
            format!(
                "`concurrency` is a whole number of elements, not `{}`; write e.g. `concurrency = 10`, or 0 for no limit",
                f.base10_digits()
            ),
        );
        false
    } else {
        true
    }
}

fn negative_literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Int(i), ..
            }) => Some(format!("-{}", i.base10_digits())),
            Expr::Lit(syn::ExprLit {
                lit: Lit::Float(f), ..
            }) => Some(format!("-{}", f.base10_digits())),
            _ => None,
        },
        Expr::Paren(p) => negative_literal(&p.expr),
        _ => None,
    }
}

/// ", did you mean `x`?" for the nearest candidate within a small edit distance, else "".
fn did_you_mean<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let limit = (key.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(key, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map_or_else(String::new, |(_, c)| format!("; did you mean `{c}`?"))
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, edit_distance};

    #[test]
    fn near_names_are_suggested() {
        assert_eq!(edit_distance("concurency", "concurrency"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(
            did_you_mean("concurency", ["concurrency", "retries"].into_iter()),
            "; did you mean `concurrency`?"
        );
        assert_eq!(did_you_mean("xyz", ["concurrency"].into_iter()), "");
        assert_eq!(
            did_you_mean("retires", ["retries", "name"].into_iter()),
            "; did you mean `retries`?"
        );
    }
}
