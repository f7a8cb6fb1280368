//! What runs one element: the [`Work`] trait and its adapters.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use maptask_core::{Execution, Task, TaskError};

/// What runs one element of a map, or one task call.
///
/// The runtime takes a `Work` by value and shares it between attempts behind an `Arc`, so it
/// needs no `Clone`. [`Work::execution`] decides where attempts run: `Async` work is polled as a
/// tokio task through [`Work::call`]; `Blocking` work runs on the runtime's compute pool through
/// [`Work::call_blocking`].
///
/// Implemented by [`TaskWork`] for every [`Task`], and by [`BlockingFn`] and [`AsyncFn`] for
/// closures.
pub trait Work<I>: Send + Sync + 'static {
    /// The output of a successful attempt.
    type Output: Send + 'static;

    /// Where attempts run.
    fn execution(&self) -> Execution;

    /// Runs one attempt as a future.
    fn call(
        &self,
        input: I,
    ) -> impl Future<Output = Result<Self::Output, TaskError>> + Send + 'static;

    /// Runs one attempt on the current thread.
    fn call_blocking(&self, input: I) -> Result<Self::Output, TaskError>;
}

/// The [`Work`] of a [`Task`]: its inputs tuple in, its output out.
///
/// A zero-sized handle; `TaskWork::<T>::new()` or `TaskWork::default()`.
pub struct TaskWork<T>(PhantomData<fn() -> T>);

impl<T> TaskWork<T> {
    /// The work of task `T`.
    pub const fn new() -> TaskWork<T> {
        TaskWork(PhantomData)
    }
}

impl<T> Default for TaskWork<T> {
    fn default() -> Self {
        TaskWork::new()
    }
}

impl<T> Clone for TaskWork<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TaskWork<T> {}

impl<T> fmt::Debug for TaskWork<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskWork<{}>", std::any::type_name::<T>())
    }
}

impl<T: Task> Work<T::Inputs> for TaskWork<T> {
    type Output = T::Output;

    fn execution(&self) -> Execution {
        T::EXECUTION
    }

    fn call(
        &self,
        input: T::Inputs,
    ) -> impl Future<Output = Result<T::Output, TaskError>> + Send + 'static {
        T::call(input)
    }

    fn call_blocking(&self, input: T::Inputs) -> Result<T::Output, TaskError> {
        T::call_blocking(input)
    }
}

/// Blocking work from a closure; see [`blocking`].
#[derive(Clone, Copy)]
pub struct BlockingFn<F>(F);

/// Blocking work that calls `f` on the compute pool.
///
/// ```
/// use maptask_runtime::work::{blocking, Work};
/// use maptask_core::{Execution, TaskError};
/// let double = blocking(|x: i64| Ok::<_, TaskError>(x * 2));
/// assert_eq!(double.execution(), Execution::Blocking);
/// assert_eq!(double.call_blocking(21), Ok(42));
/// ```
pub fn blocking<I, O, F>(f: F) -> BlockingFn<F>
where
    F: Fn(I) -> Result<O, TaskError> + Send + Sync + 'static,
    O: Send + 'static,
{
    BlockingFn(f)
}

impl<F> fmt::Debug for BlockingFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlockingFn")
    }
}

impl<I, O, F> Work<I> for BlockingFn<F>
where
    F: Fn(I) -> Result<O, TaskError> + Send + Sync + 'static,
    O: Send + 'static,
{
    type Output = O;

    fn execution(&self) -> Execution {
        Execution::Blocking
    }

    /// Runs the closure at once and returns its result as a ready future.
    fn call(&self, input: I) -> impl Future<Output = Result<O, TaskError>> + Send + 'static {
        std::future::ready((self.0)(input))
    }

    fn call_blocking(&self, input: I) -> Result<O, TaskError> {
        (self.0)(input)
    }
}

/// Async work from a closure that returns a future; see [`async_fn`].
#[derive(Clone, Copy)]
pub struct AsyncFn<F>(F);

/// Async work that polls the future `f` returns as a tokio task.
///
/// ```
/// use maptask_runtime::work::{async_fn, Work};
/// use maptask_core::{Execution, TaskError};
/// let double = async_fn(|x: i64| async move { Ok::<_, TaskError>(x * 2) });
/// assert_eq!(double.execution(), Execution::Async);
/// assert_eq!(double.call_blocking(21), Ok(42));
/// ```
pub fn async_fn<I, O, F, Fut>(f: F) -> AsyncFn<F>
where
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, TaskError>> + Send + 'static,
    O: Send + 'static,
{
    AsyncFn(f)
}

impl<F> fmt::Debug for AsyncFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncFn")
    }
}

impl<I, O, F, Fut> Work<I> for AsyncFn<F>
where
    F: Fn(I) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, TaskError>> + Send + 'static,
    O: Send + 'static,
{
    type Output = O;

    fn execution(&self) -> Execution {
        Execution::Async
    }

    fn call(&self, input: I) -> impl Future<Output = Result<O, TaskError>> + Send + 'static {
        (self.0)(input)
    }

    /// Blocks the current thread on the future.
    fn call_blocking(&self, input: I) -> Result<O, TaskError> {
        futures::executor::block_on((self.0)(input))
    }
}
