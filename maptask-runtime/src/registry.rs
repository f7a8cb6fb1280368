//! The registry of every `#[task]` and `#[workflow]` linked into a binary (feature `registry`).
//!
//! With the facade's `flyte` (or `registry`) feature, `#[task]` submits one [`Registration`] per
//! task through [`inventory`], so a binary finds any task by name with no list to maintain:
//! [`find`] and [`entries`]. An entry holds the task's name, interface and metadata, and, when
//! its inputs are `DeserializeOwned + Clone` and its output `Serialize`, the erased functions that
//! run it from serialized inputs: [`TaskEntry::decode`] reads every input through an
//! [`InputSource`] (any serde deserializer, erased), and [`TaskEntry::run`] runs one call with
//! the task's own retries and timeout on a [`Runtime`] and returns an erased serializable output.
//!
//! A task whose types are not serde types still registers, as [`Portability::NotPortable`] with
//! the reason; the choice is made by autoref specialization in the facade's registration macro,
//! so such a task compiles as before and only running it from serialized inputs fails.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use maptask_core::{ElementFailure, Execution, Interface, Metadata, Param, Task, TaskError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::runtime::{RunOptions, Runtime};
use crate::work::TaskWork;

pub use erased_serde;
pub use inventory;

/// What `#[task]` submits: the task's name, and a function that builds its [`TaskEntry`].
///
/// The entry is built on demand because an [`Interface`] allocates and statics cannot.
pub struct Registration {
    name: &'static str,
    entry: fn() -> TaskEntry,
}

impl Registration {
    /// The registration of the task named `name`, whose entry `entry` builds.
    pub const fn new(name: &'static str, entry: fn() -> TaskEntry) -> Registration {
        Registration { name, entry }
    }

    /// The task's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Builds the task's entry.
    pub fn entry(&self) -> TaskEntry {
        (self.entry)()
    }
}

inventory::collect!(Registration);

/// Every registered task and workflow, sorted by name.
pub fn entries() -> Vec<TaskEntry> {
    let mut all: Vec<&Registration> = inventory::iter::<Registration>.into_iter().collect();
    all.sort_by_key(|r| r.name);
    all.into_iter().map(Registration::entry).collect()
}

/// The names of every registered task and workflow, sorted.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = inventory::iter::<Registration>
        .into_iter()
        .map(Registration::name)
        .collect();
    names.sort_unstable();
    names
}

/// The task or workflow named `name`.
///
/// ```
/// let error = maptask_runtime::registry::find("no.such.task").unwrap_err();
/// assert!(error.to_string().starts_with("no task named `no.such.task` is linked into this binary"));
/// ```
pub fn find(name: &str) -> Result<TaskEntry, RegistryError> {
    let mut matching = inventory::iter::<Registration>
        .into_iter()
        .filter(|r| r.name == name);
    let Some(first) = matching.next() else {
        return Err(RegistryError::Unknown {
            name: name.to_owned(),
            known: names().into_iter().map(str::to_owned).collect(),
        });
    };
    if matching.next().is_some() {
        return Err(RegistryError::Duplicate {
            name: name.to_owned(),
        });
    }
    Ok(first.entry())
}

/// A name that does not select exactly one task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No task has this name.
    #[error("no task named `{name}` is linked into this binary; registered: {}", list_names(.known))]
    Unknown {
        /// The name asked for.
        name: String,
        /// Every registered name, sorted.
        known: Vec<String>,
    },
    /// Two tasks were given the same name (with `name = "…"`).
    #[error(
        "two tasks linked into this binary are named `{name}`; give one another `name = \"…\"`"
    )]
    Duplicate {
        /// The name both share.
        name: String,
    },
}

fn list_names(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One registered task or workflow.
pub struct TaskEntry {
    /// The task's name ([`Task::NAME`]).
    pub name: &'static str,
    /// The doc comment.
    pub doc: &'static str,
    /// Whether this is a `#[workflow]`.
    pub is_workflow: bool,
    /// Whether the body is async or blocking.
    pub execution: Execution,
    /// The typed interface.
    pub interface: Interface,
    /// Retries, timeout and the rest.
    pub metadata: Metadata,
    /// Whether the task can run from serialized inputs.
    pub portability: Portability,
    /// A workflow's graph and run ([`TaskEntry::with_workflow`]); `None` for a task.
    pub workflow: Option<WorkflowFns>,
    /// How a map's parent hands this task's elements to other processes
    /// ([`TaskEntry::with_remote`]); `None` when its types do not allow it.
    pub remote: Option<RemoteFns>,
}

/// Whether a task can run from serialized inputs, and how.
pub enum Portability {
    /// Its inputs are `DeserializeOwned + Clone` and its output `Serialize`.
    Portable(PortableFns),
    /// It cannot; the reason names the types at fault.
    NotPortable(String),
}

/// The erased functions that run a portable task, monomorphized for it at registration.
#[derive(Clone, Copy)]
pub struct PortableFns {
    decode: DecodeFn,
    run: fn(Box<dyn Any + Send>, Runtime, RunOptions) -> RunFuture,
}

/// Decodes a task's inputs tuple, erased.
type DecodeFn = fn(&mut dyn InputSource, &[Param]) -> Result<Box<dyn Any + Send>, DecodeError>;

/// The future of one erased task call.
type RunFuture = Pin<Box<dyn Future<Output = Result<TaskOutput, ElementFailure>> + Send>>;

/// The output of a task run through its entry: any `Serialize` value.
pub type TaskOutput = Box<dyn erased_serde::Serialize + Send>;

impl TaskEntry {
    /// The entry of task `T`, given what the probes found (see the facade's `register_task!`).
    ///
    /// `portable` is `Some` exactly when every bound holds; otherwise the reasons say which
    /// failed.
    pub fn new<T: Task>(
        portable: Option<PortableFns>,
        inputs_reason: Option<String>,
        output_reason: Option<String>,
    ) -> TaskEntry {
        let portability = match portable {
            Some(fns) => Portability::Portable(fns),
            None => {
                let reasons: Vec<String> = [inputs_reason, output_reason]
                    .into_iter()
                    .flatten()
                    .collect();
                Portability::NotPortable(if reasons.is_empty() {
                    "its inputs or output are not serde types".to_owned()
                } else {
                    reasons.join("; ")
                })
            }
        };
        TaskEntry {
            name: T::NAME,
            doc: T::DOC,
            is_workflow: T::IS_WORKFLOW,
            execution: T::EXECUTION,
            interface: T::interface(),
            metadata: T::METADATA,
            portability,
            workflow: None,
            remote: None,
        }
    }

    /// Why the task cannot run from serialized inputs, if it cannot.
    pub fn not_portable_reason(&self) -> Option<&str> {
        match &self.portability {
            Portability::Portable(_) => None,
            Portability::NotPortable(reason) => Some(reason),
        }
    }

    /// Reads every input, in declaration order, from `source`.
    pub fn decode(&self, source: &mut dyn InputSource) -> Result<DecodedInputs, DecodeError> {
        let fns = self.portable_fns()?;
        let value = (fns.decode)(source, &self.interface.inputs)?;
        Ok(DecodedInputs {
            task: self.name,
            value,
        })
    }

    /// Runs one call with the task's retries and timeout: up to `retries + 1` attempts, each
    /// bounded by the timeout; a panic is caught and is a permanent failure.
    ///
    /// Poll it inside a tokio runtime with its time driver enabled.
    pub fn run(
        &self,
        inputs: DecodedInputs,
        runtime: &Runtime,
        options: RunOptions,
    ) -> impl Future<Output = Result<TaskOutput, ElementFailure>> + Send + 'static {
        let started = match self.portable_fns() {
            Err(error) => Err(error.to_string()),
            Ok(_) if inputs.task != self.name => Err(format!(
                "inputs decoded for task `{}` were given to task `{}`",
                inputs.task, self.name
            )),
            Ok(fns) => Ok((fns.run)(inputs.value, runtime.clone(), options)),
        };
        async move {
            match started {
                Ok(future) => future.await,
                Err(message) => Err(ElementFailure {
                    index: 0,
                    attempts: 0,
                    errors: vec![TaskError::permanent_msg(message)],
                }),
            }
        }
    }

    fn portable_fns(&self) -> Result<PortableFns, DecodeError> {
        match &self.portability {
            Portability::Portable(fns) => Ok(*fns),
            Portability::NotPortable(reason) => Err(DecodeError::NotPortable {
                task: self.name.to_owned(),
                reason: reason.clone(),
            }),
        }
    }
}

impl fmt::Debug for TaskEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskEntry")
            .field("name", &self.name)
            .field("is_workflow", &self.is_workflow)
            .field("interface", &self.interface)
            .field("metadata", &self.metadata)
            .field("not_portable", &self.not_portable_reason())
            .finish()
    }
}

/// A task's inputs, decoded by [`TaskEntry::decode`] for that task.
pub struct DecodedInputs {
    task: &'static str,
    value: Box<dyn Any + Send>,
}

impl fmt::Debug for DecodedInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedInputs")
            .field("task", &self.task)
            .finish_non_exhaustive()
    }
}

/// What one input is read from: a deserializer per parameter, erased.
///
/// A Flyte entrypoint implements it over a `LiteralMap`; a CLI over JSON.
pub trait InputSource {
    /// Calls `sink` with a deserializer of the value of `param`, or returns why there is none
    /// (a missing input, a value of the wrong kind). An error that `sink` returns is the
    /// deserializer's own; pass it back, typically boxed.
    fn deserialize_param(
        &mut self,
        param: &Param,
        sink: &mut dyn FnMut(
            &mut dyn erased_serde::Deserializer<'_>,
        ) -> Result<(), erased_serde::Error>,
    ) -> Result<(), Box<dyn StdError + Send + Sync>>;
}

/// Why a task's inputs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The task's types are not serde types.
    #[error("task `{task}` cannot run from serialized inputs: {reason}")]
    NotPortable {
        /// The task's name.
        task: String,
        /// Which types are at fault.
        reason: String,
    },
    /// One input could not be read.
    #[error("input `{param}`: {source}")]
    Input {
        /// The parameter's name.
        param: &'static str,
        /// What is wrong with it.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Inputs that decode from any serde deserializer: `()` and tuples of `DeserializeOwned`
/// values, up to 12.
pub trait DecodeInputs: Sized {
    /// Reads each element from `source`, the `i`-th as `params[i]`.
    fn decode_inputs(source: &mut dyn InputSource, params: &[Param]) -> Result<Self, DecodeError>;
}

fn decode_one<T: DeserializeOwned>(
    source: &mut dyn InputSource,
    params: &[Param],
    index: usize,
) -> Result<T, DecodeError> {
    let Some(param) = params.get(index) else {
        // The interface and the inputs tuple come from the same `#[task]`; a hand-written Task
        // might disagree.
        return Err(DecodeError::Input {
            param: "?",
            source: format!("the task's interface has no parameter number {index}").into(),
        });
    };
    let mut out: Option<T> = None;
    source
        .deserialize_param(param, &mut |de| {
            out = Some(erased_serde::deserialize::<T>(de)?);
            Ok(())
        })
        .map_err(|source| DecodeError::Input {
            param: param.name,
            source,
        })?;
    out.ok_or_else(|| DecodeError::Input {
        param: param.name,
        source: "the input source produced no value".into(),
    })
}

impl DecodeInputs for () {
    fn decode_inputs(_: &mut dyn InputSource, _: &[Param]) -> Result<(), DecodeError> {
        Ok(())
    }
}

macro_rules! decode_tuple {
    ($($index:tt $ty:ident),+) => {
        impl<$($ty: DeserializeOwned),+> DecodeInputs for ($($ty,)+) {
            fn decode_inputs(
                source: &mut dyn InputSource,
                params: &[Param],
            ) -> Result<Self, DecodeError> {
                Ok(($(decode_one::<$ty>(source, params, $index)?,)+))
            }
        }
    };
}

decode_tuple!(0 A);
decode_tuple!(0 A, 1 B);
decode_tuple!(0 A, 1 B, 2 C);
decode_tuple!(0 A, 1 B, 2 C, 3 D);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
decode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);

fn decode_erased<T: Task>(
    source: &mut dyn InputSource,
    params: &[Param],
) -> Result<Box<dyn Any + Send>, DecodeError>
where
    T::Inputs: DecodeInputs,
{
    Ok(Box::new(T::Inputs::decode_inputs(source, params)?))
}

fn run_erased<T: Task>(
    inputs: Box<dyn Any + Send>,
    runtime: Runtime,
    options: RunOptions,
) -> RunFuture
where
    T::Inputs: Clone,
    T::Output: Serialize,
{
    let metadata = T::METADATA;
    run_attempts::<T>(inputs, runtime, options, metadata.retries, metadata.timeout)
}

/// Runs task `T` on erased inputs with `retries` and `timeout`: the body of [`run_erased`] (the
/// task's own retries) and of `run_once_erased` (one attempt, for an element whose retries are
/// the target's).
fn run_attempts<T: Task>(
    inputs: Box<dyn Any + Send>,
    runtime: Runtime,
    options: RunOptions,
    retries: u32,
    timeout: Option<std::time::Duration>,
) -> RunFuture
where
    T::Inputs: Clone,
    T::Output: Serialize,
{
    Box::pin(async move {
        let inputs = match inputs.downcast::<T::Inputs>() {
            Ok(inputs) => *inputs,
            Err(_) => {
                return Err(ElementFailure {
                    index: 0,
                    attempts: 0,
                    errors: vec![TaskError::permanent_msg(format!(
                        "internal error: the inputs given to task `{}` are not its inputs",
                        T::NAME
                    ))],
                })
            }
        };
        let output = runtime
            .run_task(
                T::NAME,
                retries,
                timeout,
                inputs,
                TaskWork::<T>::new(),
                options,
            )
            .await?;
        Ok(Box::new(output) as TaskOutput)
    })
}

/// The probe that registration macros call methods on; see [`ViaSerde`] and [`ViaAnything`].
///
/// Autoref specialization: on `(&&Probe::<T>::new())`, a method of [`ViaSerde`] (implemented for
/// `&Probe<T>`) is found first when its bounds hold; otherwise method lookup derefs once and
/// finds [`ViaAnything`] (implemented for `Probe<T>` with no bounds). This only works where `T`
/// is a concrete type, which it is in the macro expansion.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// A probe for `T`.
    pub const fn new() -> Probe<T> {
        Probe(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Probe::new()
    }
}

/// The probe methods chosen when a task's types are serde types.
pub trait ViaSerde {
    /// The erased functions, when inputs and output are all serde types.
    fn maptask_portable(&self) -> Option<PortableFns>;
}

/// The probe methods chosen when the inputs are serde types.
pub trait InputsViaSerde {
    /// `None`: the inputs are fine.
    fn maptask_inputs_reason(&self) -> Option<String>;
}

/// The probe methods chosen when the output is a serde type.
pub trait OutputViaSerde {
    /// `None`: the output is fine.
    fn maptask_output_reason(&self) -> Option<String>;
}

/// The fallback probe methods, for any task.
pub trait ViaAnything {
    /// No erased functions.
    fn maptask_portable(&self) -> Option<PortableFns>;
    /// Why the inputs cannot be decoded.
    fn maptask_inputs_reason(&self) -> Option<String>;
    /// Why the output cannot be encoded.
    fn maptask_output_reason(&self) -> Option<String>;
}

impl<T: Task> ViaSerde for &Probe<T>
where
    T::Inputs: DecodeInputs + Clone,
    T::Output: Serialize,
{
    fn maptask_portable(&self) -> Option<PortableFns> {
        Some(PortableFns {
            decode: decode_erased::<T>,
            run: run_erased::<T>,
        })
    }
}

impl<T: Task> InputsViaSerde for &Probe<T>
where
    T::Inputs: DecodeInputs + Clone,
{
    fn maptask_inputs_reason(&self) -> Option<String> {
        None
    }
}

impl<T: Task> OutputViaSerde for &Probe<T>
where
    T::Output: Serialize,
{
    fn maptask_output_reason(&self) -> Option<String> {
        None
    }
}

impl<T: Task> ViaAnything for Probe<T> {
    fn maptask_portable(&self) -> Option<PortableFns> {
        None
    }

    fn maptask_inputs_reason(&self) -> Option<String> {
        let types: Vec<&str> = T::interface().inputs.iter().map(|p| p.rust_type).collect();
        Some(format!(
            "its inputs ({}) are not all `serde::de::DeserializeOwned + Clone`",
            types.join(", ")
        ))
    }

    fn maptask_output_reason(&self) -> Option<String> {
        Some(format!(
            "its output `{}` is not `serde::Serialize`",
            T::interface().output_rust_type
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// For the command line and the process backend (issue 10): workflows run on a given runtime and
// show their graph; a map's parent encodes element inputs and decodes element outputs.

/// The future of one erased workflow run: its output, or its error with the whole chain.
pub type WorkflowRunFuture =
    Pin<Box<dyn Future<Output = Result<TaskOutput, Box<dyn StdError + Send + Sync>>> + Send>>;

/// What a `#[workflow]` registers besides its task entry: its graph and, when its output is
/// `Serialize`, a run on a given runtime with given options (an observer, a token).
#[derive(Clone, Copy)]
pub struct WorkflowFns {
    /// The workflow's static graph.
    pub graph: fn() -> maptask_core::Graph,
    /// Runs the graph on the runtime with the options; `None` when the output is not
    /// `Serialize`. The inputs are what [`TaskEntry::decode`] read.
    pub run: Option<WorkflowRunFn>,
}

/// What a map's parent needs to hand a task's elements to another process: each element's
/// inputs as serde values, and each output read back.
#[derive(Clone, Copy)]
pub struct RemoteFns {
    /// Calls `visit(i, value)` for each input `i` of one element's inputs (a boxed
    /// `T::Inputs`), in declaration order.
    pub encode_inputs: fn(&(dyn Any + Send), &mut EncodeVisitor<'_>) -> Result<(), String>,
    /// Reads one `T::Output`, boxed.
    pub decode_output: DecodeOutputFn,
    /// Runs exactly one attempt, without the task's retries and timeout: what a child process
    /// runs when its parent counts the attempts and enforces the timeout itself.
    pub run_once: fn(Box<dyn Any + Send>, Runtime, RunOptions) -> RunFuture,
}

/// Runs a workflow from its erased inputs on a runtime with options.
pub type WorkflowRunFn = fn(Box<dyn Any + Send>, Runtime, RunOptions) -> WorkflowRunFuture;

/// Reads one erased output.
pub type DecodeOutputFn =
    fn(&mut dyn erased_serde::Deserializer<'_>) -> Result<Box<dyn Any + Send>, erased_serde::Error>;

/// The visitor of [`RemoteFns::encode_inputs`]: input index and value.
pub type EncodeVisitor<'a> =
    dyn FnMut(usize, &dyn erased_serde::Serialize) -> Result<(), String> + 'a;

impl TaskEntry {
    /// Adds what a workflow registers (see the facade's registration macro).
    pub fn with_workflow(mut self, workflow: Option<WorkflowFns>) -> TaskEntry {
        self.workflow = workflow;
        self
    }

    /// Adds the functions of a map's parent, when the task's types allow them.
    pub fn with_remote(mut self, remote: Option<RemoteFns>) -> TaskEntry {
        self.remote = remote;
        self
    }

    /// Runs exactly one attempt (no retry, no timeout), when the task's types allow a map's
    /// parent to hand it to another process; otherwise gives the inputs back. The parent
    /// process counts the attempts and enforces the timeout (see [`RemoteFns::run_once`]).
    pub fn run_single_attempt(
        &self,
        inputs: DecodedInputs,
        runtime: &Runtime,
        options: RunOptions,
    ) -> Result<RunFuture, DecodedInputs> {
        let Some(remote) = self.remote else {
            return Err(inputs);
        };
        if inputs.task != self.name {
            let message = format!(
                "inputs decoded for task `{}` were given to task `{}`",
                inputs.task, self.name
            );
            return Ok(Box::pin(async move {
                Err(ElementFailure {
                    index: 0,
                    attempts: 0,
                    errors: vec![TaskError::permanent_msg(message)],
                })
            }));
        }
        Ok((remote.run_once)(inputs.value, runtime.clone(), options))
    }

    /// Runs a workflow's graph on `runtime` with `options`: its maps use the runtime's backend
    /// and its events reach the observer. `None` when this is not a workflow whose output can
    /// be serialized.
    pub fn run_workflow(
        &self,
        inputs: DecodedInputs,
        runtime: &Runtime,
        options: RunOptions,
    ) -> Option<WorkflowRunFuture> {
        let run = self.workflow?.run?;
        if inputs.task != self.name {
            let message = format!(
                "inputs decoded for `{}` were given to workflow `{}`",
                inputs.task, self.name
            );
            return Some(Box::pin(async move { Err(message.into()) }));
        }
        Some(run(inputs.value, runtime.clone(), options))
    }
}

/// Inputs that encode to serde values: `()` and tuples of `Serialize` values, up to 12.
pub trait EncodeInputs {
    /// Calls `visit` for each element, in order.
    fn encode_inputs(&self, visit: &mut EncodeVisitor<'_>) -> Result<(), String>;
}

impl EncodeInputs for () {
    fn encode_inputs(&self, _: &mut EncodeVisitor<'_>) -> Result<(), String> {
        Ok(())
    }
}

macro_rules! encode_tuple {
    ($($index:tt $ty:ident),+) => {
        impl<$($ty: Serialize),+> EncodeInputs for ($($ty,)+) {
            fn encode_inputs(&self, visit: &mut EncodeVisitor<'_>) -> Result<(), String> {
                $(visit($index, &self.$index)?;)+
                Ok(())
            }
        }
    };
}

encode_tuple!(0 A);
encode_tuple!(0 A, 1 B);
encode_tuple!(0 A, 1 B, 2 C);
encode_tuple!(0 A, 1 B, 2 C, 3 D);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K);
encode_tuple!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H, 8 I, 9 J, 10 K, 11 L);

fn encode_erased<T: Task>(
    inputs: &(dyn Any + Send),
    visit: &mut EncodeVisitor<'_>,
) -> Result<(), String>
where
    T::Inputs: EncodeInputs,
{
    match inputs.downcast_ref::<T::Inputs>() {
        Some(inputs) => inputs.encode_inputs(visit),
        None => Err(format!(
            "internal error: the inputs given to encode for task `{}` are not its inputs",
            T::NAME
        )),
    }
}

fn run_once_erased<T: Task>(
    inputs: Box<dyn Any + Send>,
    runtime: Runtime,
    options: RunOptions,
) -> RunFuture
where
    T::Inputs: Clone,
    T::Output: Serialize,
{
    run_attempts::<T>(inputs, runtime, options, 0, None)
}

fn decode_output_erased<T: Task>(
    de: &mut dyn erased_serde::Deserializer<'_>,
) -> Result<Box<dyn Any + Send>, erased_serde::Error>
where
    T::Output: DeserializeOwned,
{
    Ok(Box::new(erased_serde::deserialize::<T::Output>(de)?))
}

/// The probe method chosen when a task's inputs are `Serialize + Clone` and its output
/// `Serialize + DeserializeOwned`: a map's parent can hand its elements to other processes.
pub trait RemoteViaSerde {
    /// The parent's functions.
    fn maptask_remote(&self) -> Option<RemoteFns>;
}

/// The fallback: a map of this task runs only in process.
pub trait RemoteViaAnything {
    /// None.
    fn maptask_remote(&self) -> Option<RemoteFns>;
}

impl<T: Task> RemoteViaSerde for &Probe<T>
where
    T::Inputs: EncodeInputs + Clone,
    T::Output: DeserializeOwned + Serialize,
{
    fn maptask_remote(&self) -> Option<RemoteFns> {
        Some(RemoteFns {
            encode_inputs: encode_erased::<T>,
            decode_output: decode_output_erased::<T>,
            run_once: run_once_erased::<T>,
        })
    }
}

impl<T: Task> RemoteViaAnything for Probe<T> {
    fn maptask_remote(&self) -> Option<RemoteFns> {
        None
    }
}
