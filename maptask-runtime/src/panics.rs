//! Quiet element panics: a panic inside an element is caught, reported once through `tracing`
//! (with the map, the index and the attempt) and in the map's report, and does not go through
//! the process's panic hook. Every other panic still does.
//!
//! The panic hook is process-wide, so the filter is a hook installed once that wraps whatever
//! hook was there before (the default one, or the user's). It consults a thread-local depth
//! counter that the engine raises only while it runs an element's code on that thread, so
//! panics on other threads, or on this thread outside an element, go to the previous hook
//! unchanged, whatever runs concurrently.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe, PanicHookInfo, UnwindSafe};
use std::sync::Once;

use maptask_core::TaskError;

thread_local! {
    /// How many element calls are running on this thread (nested maps run elements inside
    /// elements).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where the last element panic on this thread happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALLED: Once = Once::new();

/// Installs the filter, once per process. Called when a runtime is built.
pub(crate) fn install() {
    // `take_hook` may not run while this thread unwinds; a later runtime installs it then.
    if !std::thread::panicking() {
        INSTALLED.call_once(filter_element_panics);
    }
}

/// Wraps the current panic hook so that panics inside map elements skip it.
///
/// The runtime does this once per process, when the first [`Runtime`](crate::Runtime) is built,
/// around the hook in place at that moment. Call it again after installing a hook of your own
/// later (with [`std::panic::set_hook`]) if element panics should skip that hook too; calling it
/// more than once is harmless.
///
/// Must not be called while the current thread is panicking (like [`std::panic::set_hook`]).
pub fn filter_element_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        if DEPTH.with(Cell::get) > 0 {
            let location = info.location().map(ToString::to_string);
            LOCATION.with(|slot| *slot.borrow_mut() = location);
            return;
        }
        previous(info);
    }));
}

/// Marks the current thread as running element code while alive.
pub(crate) struct InElement;

impl InElement {
    pub(crate) fn enter() -> InElement {
        DEPTH.with(|depth| depth.set(depth.get() + 1));
        InElement
    }
}

impl Drop for InElement {
    fn drop(&mut self) {
        DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// Runs element code (a call, a clone of an input), catching its panic quietly.
#[inline]
pub(crate) fn catch<R>(f: impl FnOnce() -> R + UnwindSafe) -> std::thread::Result<R> {
    let _in = InElement::enter();
    catch_unwind(f)
}

/// Polls element code: every poll of `body` counts as running the element.
pub(crate) async fn in_element<F: std::future::Future>(body: F) -> F::Output {
    let mut body = std::pin::pin!(body);
    std::future::poll_fn(move |cx| {
        let _in = InElement::enter();
        body.as_mut().poll(cx)
    })
    .await
}

/// The error of an element attempt that panicked with `payload`, reported once through
/// `tracing` with where it happened.
#[cold]
pub(crate) fn element_panicked(
    map: &str,
    index: usize,
    attempt: u32,
    payload: &(dyn Any + Send),
) -> TaskError {
    let error = TaskError::from_panic(payload);
    let location = LOCATION.with(|slot| slot.borrow_mut().take());
    tracing::warn!(
        map,
        index,
        attempt,
        location = location.as_deref().unwrap_or("unknown"),
        "element {index} of map `{map}` {}",
        error.message()
    );
    error
}

/// Runs `f`, catching a panic as a failed attempt of element `index`.
#[inline]
pub(crate) fn run_element<O>(
    map: &str,
    index: usize,
    attempt: u32,
    f: impl FnOnce() -> Result<O, TaskError>,
) -> Result<O, TaskError> {
    match catch(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(element_panicked(map, index, attempt, payload.as_ref())),
    }
}
