//! The typed side of a map: the few operations that need its element types, behind one trait
//! object ([`ElementOps`]), so that everything else (the fast path's scheduling and buffers,
//! the choice of path, the general engine, the report) is compiled once, in this crate.
//!
//! A map's inputs cross into the engine as a [`RawVec`] (a `Vec<I>` taken apart), and its
//! outputs come back as one: a `Vec` of the output form's slots (`Option<O>` or `O`, see
//! [`Form`]). Per map, only [`TypedOps`] is instantiated: the element loop of a chunk, and a
//! handful of one-line functions that drop, free or box values of the map's types.

use std::any::TypeId;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Range;
use std::panic::AssertUnwindSafe;

use maptask_core::{Execution, TaskError};

use super::erased::{AnyOutput, ErasedInput, ErasedWork};
use super::fast::{ChunkEnd, Core, Form};
use crate::panics;
use crate::work::Work;

/// A `Vec` taken apart: its start, length and capacity, in the element type that the
/// [`ElementOps`] it goes with knows.
///
/// Whoever holds one frees it through the `ElementOps`, or puts the `Vec` back together with
/// [`RawVec::into_vec`] of the right type; dropped as it is, it leaks.
pub(crate) struct RawVec {
    pub(crate) ptr: *mut u8,
    pub(crate) len: usize,
    pub(crate) cap: usize,
}

// SAFETY: a `RawVec` owns its values as the `Vec` did; the types that cross the engine are
// `Send` (`Work`'s inputs and outputs), and nothing shares the pointer.
unsafe impl Send for RawVec {}

impl RawVec {
    pub(crate) fn from_vec<T>(values: Vec<T>) -> RawVec {
        let mut values = ManuallyDrop::new(values);
        RawVec {
            ptr: values.as_mut_ptr().cast(),
            len: values.len(),
            cap: values.capacity(),
        }
    }

    /// The `Vec` back. SAFETY: `self` holds `len` values of `T` in an allocation of `cap` `T`s
    /// (as [`RawVec::from_vec::<T>`] made it, or the engine wrote it).
    pub(crate) unsafe fn into_vec<T>(self) -> Vec<T> {
        Vec::from_raw_parts(self.ptr.cast::<T>(), self.len, self.cap)
    }
}

/// A map's inputs, owned together with the operations that know their type: dropped unused
/// (a map's future dropped before its first poll), it drops and frees the inputs.
pub(crate) struct Elements {
    inputs: RawVec,
    ops: Box<dyn ElementOps>,
}

impl Elements {
    pub(crate) fn new<I>(inputs: Vec<I>, ops: Box<dyn ElementOps>) -> Elements {
        Elements {
            inputs: RawVec::from_vec(inputs),
            ops,
        }
    }

    /// How many inputs there are.
    pub(crate) fn len(&self) -> usize {
        self.inputs.len
    }

    /// The operations on the inputs' types.
    pub(crate) fn ops(&self) -> &dyn ElementOps {
        &*self.ops
    }

    /// The inputs and the operations, for the engine to use or free.
    pub(crate) fn into_parts(self) -> (RawVec, Box<dyn ElementOps>) {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again: each field is read once.
        unsafe { (std::ptr::read(&this.inputs), std::ptr::read(&this.ops)) }
    }
}

impl Drop for Elements {
    fn drop(&mut self) {
        let RawVec { ptr, len, cap } = self.inputs;
        // SAFETY: `inputs` holds `len` values of the type `ops` knows, in an allocation of `cap`.
        unsafe {
            self.ops.drop_inputs(ptr, 0..len);
            self.ops.free_inputs(ptr, cap);
        }
    }
}

/// What the engine calls on one map's element types: input `I`, work `W`, output form `F`.
///
/// The `unsafe` functions take places of the map's buffers: `inputs` holds `I`s and `slots`
/// holds `F::Slot`s; the caller guarantees what each place holds, as [`super::fast`] documents.
pub(crate) trait ElementOps: Send + Sync + 'static {
    /// Where attempts run.
    fn execution(&self) -> Execution;
    /// The kind of work, for the record of quick work (see `inline`).
    fn kind(&self) -> TypeId;
    /// Whether a place without an output holds a gap (`Option` slots), or no place may lack
    /// one (slots of the outputs themselves).
    fn has_gaps(&self) -> bool;
    /// Whether a slot can take an input's place: the same size and alignment, and not zero
    /// sized (see `fast::Buffers`).
    fn slots_over_inputs(&self) -> bool;
    /// A buffer for `n` slots, holding none.
    fn alloc_slots(&self, n: usize) -> RawVec;

    /// Runs the elements of `range` in order, stopping before an element once the map is
    /// closed; sets `local.ran` and `local.written`, and keeps retried failures in `local`.
    /// SAFETY: this thread claimed `range`, whose places hold inputs.
    unsafe fn run_chunk(
        &self,
        core: &Core,
        inputs: *mut u8,
        slots: *mut u8,
        range: Range<usize>,
        traced: bool,
        local: &mut ChunkEnd,
    );
    /// Like [`run_chunk`](Self::run_chunk), for a thread that runs the whole map (see
    /// `fast::solo`): only its own failures can close the map, so the map is looked at only
    /// after one. A separate method, so that the general loop's code stays as it is.
    /// SAFETY: as for `run_chunk`.
    unsafe fn run_alone(
        &self,
        core: &Core,
        inputs: *mut u8,
        slots: *mut u8,
        range: Range<usize>,
        traced: bool,
        local: &mut ChunkEnd,
    );
    /// Drops the inputs at `range`. SAFETY: they hold inputs that nothing uses afterwards.
    unsafe fn drop_inputs(&self, inputs: *mut u8, range: Range<usize>);
    /// Drops the slots at `range`. SAFETY: they hold slots that nothing uses afterwards.
    unsafe fn drop_slots(&self, slots: *mut u8, range: Range<usize>);
    /// Writes a gap at each place of `range`, when the form has gaps. SAFETY: the places hold
    /// nothing (their inputs were moved or dropped).
    unsafe fn write_gaps(&self, slots: *mut u8, range: Range<usize>);
    /// Frees an allocation of `cap` inputs, holding none.
    unsafe fn free_inputs(&self, inputs: *mut u8, cap: usize);
    /// Frees an allocation of `cap` slots, holding none.
    unsafe fn free_slots(&self, slots: *mut u8, cap: usize);

    /// The inputs, one box each, for the general engine. SAFETY: `inputs` holds `I`s.
    unsafe fn box_inputs(&self, inputs: RawVec) -> Vec<ErasedInput>;
    /// The work, for the general engine.
    fn into_work(self: Box<Self>) -> ErasedWork;
    /// What turns the general engine's outputs into slots of this form.
    fn unboxer(&self) -> Unboxer;
}

/// The [`ElementOps`] of input `I`, work `W` and form `F`.
pub(crate) struct TypedOps<I, W, F> {
    work: W,
    types: PhantomData<fn(I) -> F>,
}

impl<I, W, F> TypedOps<I, W, F> {
    pub(crate) fn new(work: W) -> TypedOps<I, W, F> {
        TypedOps {
            work,
            types: PhantomData,
        }
    }
}

/// Drops the values at `range` of the buffer at `base`. SAFETY: they hold values, nobody else
/// uses them, and nothing uses them afterwards.
unsafe fn drop_range<T>(base: *mut T, range: Range<usize>) {
    if std::mem::needs_drop::<T>() && !range.is_empty() {
        std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(
            base.add(range.start),
            range.len(),
        ));
    }
}

impl<I, W, F> ElementOps for TypedOps<I, W, F>
where
    I: Clone + Send + 'static,
    W: Work<I>,
    F: Form<W::Output>,
{
    fn execution(&self) -> Execution {
        self.work.execution()
    }

    fn kind(&self) -> TypeId {
        TypeId::of::<W>()
    }

    fn has_gaps(&self) -> bool {
        F::gap().is_some()
    }

    fn slots_over_inputs(&self) -> bool {
        std::mem::size_of::<I>() == std::mem::size_of::<F::Slot>()
            && std::mem::align_of::<I>() == std::mem::align_of::<F::Slot>()
            && std::mem::size_of::<I>() != 0
    }

    fn alloc_slots(&self, n: usize) -> RawVec {
        RawVec::from_vec(Vec::<F::Slot>::with_capacity(n))
    }

    unsafe fn run_chunk(
        &self,
        core: &Core,
        inputs: *mut u8,
        slots: *mut u8,
        range: Range<usize>,
        traced: bool,
        local: &mut ChunkEnd,
    ) {
        let inputs = inputs.cast::<I>();
        let slots = slots.cast::<F::Slot>();
        let mut i = range.start;
        let mut gap_at_end = false;
        // Read once: the work's calls may write memory, so a field would be read per element.
        let straight = core.retries == 0 && !traced;
        while i < range.end && !core.is_closed() {
            // SAFETY: this thread claimed `range`; each index's input is moved out once, and
            // its output written once, after (they may share the place).
            let input = inputs.add(i).read();
            let output = if straight {
                // The common case, kept straight: one attempt, no span.
                match std::panic::catch_unwind(AssertUnwindSafe(|| self.work.call_blocking(input)))
                {
                    Ok(Ok(output)) => Some(output),
                    Ok(Err(error)) => {
                        core.attempt_failed(local, i, 1, error, false);
                        None
                    }
                    Err(payload) => {
                        let error = panics::element_panicked(&core.name, i, 1, payload.as_ref());
                        core.attempt_failed(local, i, 1, error, false);
                        None
                    }
                }
            } else {
                // Another attempt may follow, or a span: the first attempt works on a clone.
                self.run_element(core, local, i, input, traced, 1)
            };
            match output {
                Some(output) => slots.add(i).write(F::ok(output)),
                None => match F::gap() {
                    Some(gap) => slots.add(i).write(gap),
                    None => {
                        // No gaps: this failure stopped the map (see `Whole`); nothing more
                        // runs.
                        gap_at_end = true;
                        i += 1;
                        break;
                    }
                },
            }
            i += 1;
        }
        let ran = i - range.start;
        local.ran = ran;
        local.written = ran - usize::from(gap_at_end);
        // The map stopped: the rest of the chunk never runs. Each input is dropped before a
        // gap is written over it.
        drop_range(inputs, i..range.end);
        self.write_gaps(slots.cast(), i..range.end);
    }

    unsafe fn run_alone(
        &self,
        core: &Core,
        inputs: *mut u8,
        slots: *mut u8,
        range: Range<usize>,
        traced: bool,
        local: &mut ChunkEnd,
    ) {
        if core.retries > 0 || traced {
            // Another attempt may follow, or a span: the general loop.
            return self.run_chunk(core, inputs, slots, range, traced, local);
        }
        let inputs = inputs.cast::<I>();
        let slots = slots.cast::<F::Slot>();
        let mut i = range.start;
        let mut gap_at_end = false;
        // An element that succeeds costs its call and its store: a loop the compiler
        // vectorizes when the call is trivial.
        while i < range.end {
            // SAFETY: as in `run_chunk`.
            let input = inputs.add(i).read();
            let failure =
                match std::panic::catch_unwind(AssertUnwindSafe(|| self.work.call_blocking(input)))
                {
                    Ok(Ok(output)) => {
                        slots.add(i).write(F::ok(output));
                        i += 1;
                        continue;
                    }
                    Ok(Err(error)) => Ok(error),
                    Err(payload) => Err(payload),
                };
            self.only_attempt_failed(core, local, i, failure);
            i += 1;
            let Some(gap) = F::gap() else {
                // No gaps: this failure stopped the map (see `Whole`).
                gap_at_end = true;
                break;
            };
            slots.add(i - 1).write(gap);
            if core.is_closed() {
                break;
            }
        }
        let ran = i - range.start;
        local.ran = ran;
        local.written = ran - usize::from(gap_at_end);
        // The map stopped: as in `run_chunk`.
        drop_range(inputs, i..range.end);
        self.write_gaps(slots.cast(), i..range.end);
    }

    unsafe fn drop_inputs(&self, inputs: *mut u8, range: Range<usize>) {
        drop_range(inputs.cast::<I>(), range);
    }

    unsafe fn drop_slots(&self, slots: *mut u8, range: Range<usize>) {
        drop_range(slots.cast::<F::Slot>(), range);
    }

    unsafe fn write_gaps(&self, slots: *mut u8, range: Range<usize>) {
        let slots = slots.cast::<F::Slot>();
        for j in range {
            match F::gap() {
                Some(gap) => slots.add(j).write(gap),
                None => return,
            }
        }
    }

    unsafe fn free_inputs(&self, inputs: *mut u8, cap: usize) {
        drop(Vec::from_raw_parts(inputs.cast::<I>(), 0, cap));
    }

    unsafe fn free_slots(&self, slots: *mut u8, cap: usize) {
        drop(Vec::from_raw_parts(slots.cast::<F::Slot>(), 0, cap));
    }

    unsafe fn box_inputs(&self, inputs: RawVec) -> Vec<ErasedInput> {
        inputs
            .into_vec::<I>()
            .into_iter()
            .map(ErasedInput::new)
            .collect()
    }

    fn into_work(self: Box<Self>) -> ErasedWork {
        ErasedWork::new::<I, W>(self.work)
    }

    fn unboxer(&self) -> Unboxer {
        unbox_slots::<W::Output, F>
    }
}

/// Slots of form `F` from the general engine's outputs, or `None` when one is missing (where the
/// form has no gap) or is not an `O`.
pub(crate) type Unboxer = fn(Vec<Option<AnyOutput>>) -> Option<RawVec>;

fn unbox_slots<O: 'static, F: Form<O>>(outputs: Vec<Option<AnyOutput>>) -> Option<RawVec> {
    let slots: Option<Vec<F::Slot>> = outputs
        .into_iter()
        .map(|output| match output {
            None => F::gap(),
            Some(output) => output.downcast::<O>().ok().map(|o| F::ok(*o)),
        })
        .collect();
    slots.map(RawVec::from_vec)
}

impl<I, W, F> TypedOps<I, W, F>
where
    I: Clone + Send + 'static,
    W: Work<I>,
    F: Form<W::Output>,
{
    /// The only attempt of element `index` failed (`Ok(error)`) or panicked (`Err(payload)`).
    #[cold]
    #[inline(never)]
    fn only_attempt_failed(
        &self,
        core: &Core,
        local: &mut ChunkEnd,
        index: usize,
        failure: Result<TaskError, Box<dyn std::any::Any + Send>>,
    ) {
        let error = match failure {
            Ok(error) => error,
            Err(payload) => panics::element_panicked(&core.name, index, 1, payload.as_ref()),
        };
        core.attempt_failed(local, index, 1, error, false);
    }

    /// Runs the attempts of element `index` from attempt `first`: retries at once on this
    /// thread.
    fn run_element(
        &self,
        core: &Core,
        local: &mut ChunkEnd,
        index: usize,
        input: I,
        traced: bool,
        first: u32,
    ) -> Option<W::Output> {
        let retries = core.retries;
        let mut input = Some(input);
        let mut attempt = first;
        loop {
            // The input is cloned only while another attempt may follow.
            let last = attempt > retries;
            // One catch for the clone and the call: a panic in either fails the element for
            // good. (The chunk runs as element code already, see `drain_for`: neither reaches
            // the panic hook, and nothing per element touches the thread-local mark.) The
            // output is stored from inside the catch: what comes out of it is small when the
            // attempt succeeds, rather than the output moved through the catch's result.
            let mut output = None;
            let mut call = || {
                std::panic::catch_unwind(AssertUnwindSafe(|| {
                    let arg = if last { input.take() } else { input.clone() };
                    match arg {
                        Some(arg) => self.work.call_blocking(arg).map(|out| {
                            output = Some(out);
                            true
                        }),
                        None => Ok(false),
                    }
                }))
            };
            let caught = if traced {
                core.element_span(index, attempt).in_scope(call)
            } else {
                call()
            };
            let result = match caught {
                Ok(Ok(true)) => Ok(()),
                // No input left: only the last attempt takes it, and none follows.
                Ok(Ok(false)) => return None,
                Ok(Err(error)) => Err(error),
                Err(payload) => Err(panics::element_panicked(
                    &core.name,
                    index,
                    attempt,
                    payload.as_ref(),
                )),
            };
            match result {
                Ok(()) => {
                    if attempt > 1 {
                        core.retried_ok(local, index, attempt);
                    }
                    return output;
                }
                Err(error) => {
                    let will_retry = !error.is_permanent() && !last;
                    if !core.attempt_failed(local, index, attempt, error, will_retry) || !will_retry
                    {
                        return None;
                    }
                    attempt += 1;
                }
            }
        }
    }
}
