//! The only paths generated code uses. Not a public API: anything here may change in any release.

/// The task model, implemented by `#[task]`.
pub use maptask_core::{Describe, Execution, Interface, Metadata, Param, Resources, Task, TaskError, TaskResult};

/// Runs an `async` task's future on the current thread for `Task::call_blocking`.
pub use futures::executor::block_on;

/// The second stage of `map_task!`, called by a task's signature macro.
pub use maptask_macros::__expand_map;

/// The value `map_task!` builds, and the pieces it builds it from.
pub use crate::mapped::{CriterionInput, MapParts, MapTask, Strict, Tolerant};

/// The type of a task's parameter number `I`, so generated code names a parameter's type by the
/// task's path, wherever the type itself was declared.
pub trait TaskParam<const I: usize> {
    /// The parameter's type.
    type Type;
}

/// A value bound in `map_task!`: every element gets its own clone.
#[diagnostic::on_unimplemented(
    message = "the bound value of type `{Self}` is not `Clone`",
    label = "bound here, but every element needs its own copy",
    note = "a value bound in `map_task!` is cloned for each element: derive or implement `Clone` for `{Self}`, or wrap it in `std::sync::Arc`"
)]
pub trait BoundValue: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> BoundValue for T {}

/// Checks, at the bound value's span, that it can be shared by every element.
pub fn assert_bound_clone<T: BoundValue>(_: &T) {}
