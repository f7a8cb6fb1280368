//! Element types erased at the engine's boundary, so that the general engine (the driver, its
//! async tasks and its blocking queue) is compiled once, here, instead of once per map.
//!
//! A map that does not take the fast path boxes each input ([`ErasedInput`]) and wraps its work
//! ([`ErasedWork`]); the engine runs on those, and the outputs are unboxed at the end. The cost
//! is one allocation per input and per output, next to the tokio task or the pool round trip
//! that each element of these maps costs anyway. Inputs are still cloned only for attempts that
//! another may follow: cloning an `ErasedInput` clones the value inside.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use futures::future::BoxFuture;
use maptask_core::{Execution, TaskError};

use crate::work::Work;

/// An output, boxed.
pub(crate) type AnyOutput = Box<dyn Any + Send>;

/// A value that can be cloned and unboxed without knowing its type.
trait CloneAny: Send {
    fn clone_box(&self) -> Box<dyn CloneAny>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Clone + Send + 'static> CloneAny for T {
    fn clone_box(&self) -> Box<dyn CloneAny> {
        Box::new(self.clone())
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// One element's input, boxed.
pub(crate) struct ErasedInput(Box<dyn CloneAny>);

impl ErasedInput {
    pub(crate) fn new<I: Clone + Send + 'static>(input: I) -> ErasedInput {
        ErasedInput(Box::new(input))
    }

    /// The value, if it is an `I` (it always is: an `ErasedWork` only sees its own inputs).
    fn into_typed<I: 'static>(self) -> Result<I, TaskError> {
        match self.0.into_any().downcast::<I>() {
            Ok(input) => Ok(*input),
            Err(_) => Err(TaskError::permanent_msg(
                "internal error: an element's input has the wrong type",
            )),
        }
    }
}

impl Clone for ErasedInput {
    fn clone(&self) -> ErasedInput {
        ErasedInput(self.0.clone_box())
    }
}

/// The work of a map, on boxed inputs and outputs.
trait DynWork: Send + Sync + 'static {
    fn execution(&self) -> Execution;
    fn call(&self, input: ErasedInput) -> BoxFuture<'static, Result<AnyOutput, TaskError>>;
    fn call_blocking(&self, input: ErasedInput) -> Result<AnyOutput, TaskError>;
}

struct Typed<I, W>(W, PhantomData<fn(I)>);

impl<I, W> DynWork for Typed<I, W>
where
    I: Clone + Send + 'static,
    W: Work<I>,
{
    fn execution(&self) -> Execution {
        self.0.execution()
    }

    fn call(&self, input: ErasedInput) -> BoxFuture<'static, Result<AnyOutput, TaskError>> {
        match input.into_typed::<I>() {
            Ok(input) => {
                let attempt = self.0.call(input);
                Box::pin(async move { attempt.await.map(box_output::<W::Output>) })
            }
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    fn call_blocking(&self, input: ErasedInput) -> Result<AnyOutput, TaskError> {
        self.0
            .call_blocking(input.into_typed::<I>()?)
            .map(box_output::<W::Output>)
    }
}

/// An output, boxed (generic over the output only, so that maps of one output type share it).
fn box_output<O: Send + 'static>(output: O) -> AnyOutput {
    Box::new(output)
}

/// A map's work, with its element types erased.
#[derive(Clone)]
pub(crate) struct ErasedWork(Arc<dyn DynWork>);

impl ErasedWork {
    pub(crate) fn new<I, W>(work: W) -> ErasedWork
    where
        I: Clone + Send + 'static,
        W: Work<I>,
    {
        ErasedWork(Arc::new(Typed(work, PhantomData)))
    }
}

impl Work<ErasedInput> for ErasedWork {
    type Output = AnyOutput;

    fn execution(&self) -> Execution {
        self.0.execution()
    }

    fn call(
        &self,
        input: ErasedInput,
    ) -> impl Future<Output = Result<AnyOutput, TaskError>> + Send + 'static {
        self.0.call(input)
    }

    fn call_blocking(&self, input: ErasedInput) -> Result<AnyOutput, TaskError> {
        self.0.call_blocking(input)
    }
}
