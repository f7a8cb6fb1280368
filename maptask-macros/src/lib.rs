//! The procedural macros of `maptask`. Use them through the `maptask` crate, which documents
//! them; generated code reaches the runtime only through `::maptask::__private`.
//!
//! Each macro is three stages, one module each: `parse` builds a model that remembers the user's
//! tokens, `validate` checks it and reports every problem at those tokens, `expand` writes code.
//!
//! * [`task`](macro@task): `task/`.
//! * [`workflow`](macro@workflow): `workflow/`.
//! * [`map_task!`](macro@map_task): `map/`. It expands to a call of the task's hidden signature
//!   macro, which calls back into `__with_signature!` (`callback.rs`) with the parameter names.
//! * [`Describe`](macro@Describe): `describe/`.

use proc_macro::TokenStream;

mod callback;
mod common;
mod describe;
mod map;
mod task;
mod workflow;

/// Turns a function into a task. See the `maptask` crate for the documentation.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    task::entry(args.into(), item.into()).into()
}

/// Turns a function into a workflow. See the `maptask` crate for the documentation.
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    workflow::entry(args.into(), item.into()).into()
}

/// Maps a task over lists. See the `maptask` crate for the documentation.
#[proc_macro]
pub fn map_task(input: TokenStream) -> TokenStream {
    map::entry(input.into()).into()
}

/// Derives `Describe`: the type description of a user type. See the `maptask` crate for the
/// documentation.
#[proc_macro_derive(Describe, attributes(describe))]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    describe::entry(input.into()).into()
}

/// Called by a task's signature macro with the parameter names: the second half of `map_task!`
/// and of task calls in a `#[workflow]`.
#[doc(hidden)]
#[proc_macro]
pub fn __with_signature(input: TokenStream) -> TokenStream {
    callback::expand(input.into()).into()
}
