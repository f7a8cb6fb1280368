//! The container entrypoint: `map-execute` (one element of a map task, the `pyflyte-map-execute`
//! of this project) and `execute` (a plain task).
//!
//! A user binary hands its arguments over:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     maptask_flyte::entrypoint::main()
//! }
//! ```
//!
//! `map-execute` computes the array index from the environment ([`index`]), reads the whole
//! `inputs.pb`, takes element `i` of each mapped input and every bound input whole
//! ([`inputs`]), runs the registered task with its own retries and timeout, and writes exactly
//! one file through a temporary name and a rename ([`crate::storage`]):
//! `<output-prefix>/<i>/outputs.pb`, a `LiteralMap {o0: <literal of the task's own output
//! type>}`, or `<output-prefix>/<i>/error.pb`, an `ErrorDocument` ([`failure`]). `execute` does
//! the same without an index, at `<output-prefix>/outputs.pb`.
//!
//! Exit codes, as flytekit's where it has one:
//!
//! | what happened | file written | exit |
//! |---|---|---|
//! | the task succeeded | `outputs.pb` | 0 |
//! | the task failed after its attempts; the index is past the end of the inputs | `error.pb` | 0; with `FLYTE_FAIL_ON_ERROR=true`, 3 if NON_RECOVERABLE, else 1 |
//! | unknown task, corrupt `inputs.pb`, inputs that do not fit the task, an output that does not fit its type (all NON_RECOVERABLE) | `error.pb` | 3 |
//! | `inputs.pb` unreadable for a reason other than its absence (RECOVERABLE) | `error.pb` | 1 |
//! | the index variable is missing or not a number, or the file cannot be written | none | 1 |
//! | malformed arguments | none | 2 |
//!
//! flytekit exits 1 wherever this exits non-zero; 3 ([`EXIT_NON_RECOVERABLE`]) tells Kubernetes
//! and AWS Batch, which see only exit codes, not to retry. A Flyte plugin reads `error.pb`.
//!
//! `collect --output-prefix <uri> --size <n> --min-successes <m> --task-name <name>` assembles a
//! map's output after its elements ran ([`crate::collect`]): exit 0 when `<prefix>/outputs.pb` was
//! written, 1 with too few successes (nothing written).
//!
//! Tasks are found in the registry that `#[task]` fills (the facade's `registry` feature, which
//! `flyte` enables): every task of every crate linked into the binary. A crate that the binary
//! does not otherwise use is not linked; name it with `extern crate my_tasks;`.
//!
//! Unlike flytekit, where every user exception is NON_RECOVERABLE, a failure's kind follows the
//! error: a permanent `TaskError` or a panic is NON_RECOVERABLE, any other error or a timeout is
//! RECOVERABLE.

pub mod args;
pub mod failure;
pub mod index;
pub mod inputs;

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::SystemTime;

use maptask_core::TypeDesc;
use maptask_runtime::registry::{self, DecodeError, DecodedInputs, TaskEntry};
use maptask_runtime::{RunOptions, Runtime};
use prost::Message;

use crate::literal::to_literal;
use crate::proto::core::LiteralMap;
use crate::storage;
use args::{CollectArgs, Command, ExecuteArgs, Mode};
use failure::Failure;
use inputs::LiteralInputs;

/// The name of a task's single output, as flytekit names it.
pub const OUTPUT_NAME: &str = "o0";
/// The file a successful run writes under its prefix.
pub const OUTPUTS_FILE: &str = "outputs.pb";
/// The file a failed run writes under its prefix.
pub const ERROR_FILE: &str = "error.pb";
/// When `true` (any case), a failure written to `error.pb` also exits 1, as in flytekit.
pub const FAIL_ON_ERROR: &str = "FLYTE_FAIL_ON_ERROR";
/// When `1`, run exactly one attempt, without the task's retries and timeout: the parent that
/// starts this process counts attempts and enforces the timeout (the process backend of
/// `maptask-cli` sets it).
pub const SINGLE_ATTEMPT: &str = "MAPTASK_SINGLE_ATTEMPT";

/// Runs the entrypoint on this process's arguments (after the binary's name) and environment,
/// prints what went wrong to stderr, and returns the exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    run(args)
}

/// Like [`main`], with the arguments given (starting at the subcommand).
pub fn run<I, S>(args: I) -> ExitCode
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let outcome = match Command::parse(args) {
        Err(error) => {
            eprintln!("error: {error}");
            eprintln!("usage: <binary> map-execute|execute --inputs <uri> --output-prefix <uri> [--raw-output-data-prefix <uri>] [--checkpoint-path <uri>] [--prev-checkpoint <uri>] --resolver maptask -- [vars <a,b>] task-name <name>");
            eprintln!("       <binary> collect --output-prefix <uri> --size <n> --min-successes <m> --task-name <name>");
            return ExitCode::from(EXIT_USAGE);
        }
        Ok(Command::Execute(args)) => execute(&args, |name| std::env::var_os(name)),
        Ok(Command::Collect(args)) => collect(&args),
    };
    if let Some(message) = &outcome.message {
        eprintln!("{message}");
    }
    ExitCode::from(outcome.exit_code)
}

/// The exit code of a failure that retrying cannot fix, when the process fails: Kubernetes
/// (`podFailurePolicy` `FailIndex`) and AWS Batch (`evaluateOnExit` `EXIT`) then stop retrying
/// the index. flytekit exits 1 in every such case.
pub const EXIT_NON_RECOVERABLE: u8 = 3;
/// The exit code of any other failure.
pub const EXIT_FAILURE: u8 = 1;
/// The exit code of malformed arguments.
pub const EXIT_USAGE: u8 = 2;

/// Runs `collect`: assembles the map's output under `args.output_prefix` for the outputs of
/// the task `args.task_name` ([`crate::collect::collect`]), and reports it.
pub fn collect(args: &CollectArgs) -> Outcome {
    let failed = |message: String| Outcome {
        written: None,
        exit_code: EXIT_FAILURE,
        message: Some(format!("error: {message}")),
    };
    let entry = match registry::find(&args.task_name) {
        Ok(entry) => entry,
        Err(error) => return failed(error.to_string()),
    };
    let names: &[&str] = if entry.interface.output == TypeDesc::Unit {
        &[]
    } else {
        &[OUTPUT_NAME]
    };
    match crate::collect::collect(&args.output_prefix, args.size, names, args.min_successes) {
        Ok(collected) => {
            let uri = storage::join(&args.output_prefix, OUTPUTS_FILE);
            Outcome {
                message: Some(format!(
                    "collected {} elements of `{}`: {} succeeded, {} failed; wrote {uri}",
                    args.size,
                    args.task_name,
                    collected.succeeded,
                    collected.failures.len()
                )),
                written: Some(Written::Outputs(uri)),
                exit_code: 0,
            }
        }
        Err(error) => failed(format!("map of `{}`: {error}", args.task_name)),
    }
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// `outputs.pb`, at this URI.
    Outputs(String),
    /// `error.pb`, at this URI, with this failure.
    Error(String, Failure),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The file written, if any.
    pub written: Option<Written>,
    /// The process's exit code.
    pub exit_code: u8,
    /// What to print on stderr, if anything.
    pub message: Option<String>,
}

/// Why a run stopped without outputs.
struct Stop {
    failure: Failure,
    /// The element's own failure (the task failed, the index is past the end): exit 0 unless
    /// `FLYTE_FAIL_ON_ERROR`, as flytekit. Anything else exits 1.
    element_failed: bool,
}

impl Stop {
    fn element(failure: Failure) -> Stop {
        Stop {
            failure,
            element_failed: true,
        }
    }

    fn broken(failure: Failure) -> Stop {
        Stop {
            failure,
            element_failed: false,
        }
    }
}

/// Runs `args`, reading environment variables through `env`, and reports what it wrote.
pub fn execute(args: &ExecuteArgs, env: impl Fn(&str) -> Option<OsString>) -> Outcome {
    let (prefix, index) = match args.mode {
        Mode::Single => (args.output_prefix.clone(), None),
        Mode::Map => match index::array_index(&env) {
            Ok(i) => (storage::join(&args.output_prefix, &i.to_string()), Some(i)),
            Err(error) => {
                return Outcome {
                    written: None,
                    exit_code: EXIT_FAILURE,
                    message: Some(format!("error: {error}; nothing was written")),
                }
            }
        },
    };
    let fail_on_error = env(FAIL_ON_ERROR).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    // A task's own panic is caught by the runtime; this catches a bug of the entrypoint itself,
    // so that Flyte still gets an error document.
    let single_attempt = env(SINGLE_ATTEMPT).is_some_and(|v| v == "1");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_once(args, index, single_attempt)
    }))
    .unwrap_or_else(|payload| {
        let panic = maptask_core::TaskError::from_panic(payload.as_ref());
        Err(Stop::broken(Failure::system(
            "Panic",
            format!("the entrypoint itself {}", panic.message()),
            false,
        )))
    });
    match result {
        Ok(outputs) => {
            let uri = storage::join(&prefix, OUTPUTS_FILE);
            match storage::write(&uri, &outputs.encode_to_vec()) {
                Ok(()) => Outcome {
                    written: Some(Written::Outputs(uri)),
                    exit_code: 0,
                    message: None,
                },
                Err(error) => Outcome {
                    written: None,
                    exit_code: EXIT_FAILURE,
                    message: Some(format!("error: the task succeeded, but {error}")),
                },
            }
        }
        Err(stop) => {
            let uri = storage::join(&prefix, ERROR_FILE);
            let document = stop.failure.to_document(SystemTime::now());
            let exit_code = if stop.element_failed && !fail_on_error {
                0
            } else if stop.failure.recoverable {
                EXIT_FAILURE
            } else {
                EXIT_NON_RECOVERABLE
            };
            match storage::write(&uri, &document.encode_to_vec()) {
                Ok(()) => Outcome {
                    message: Some(format!(
                        "{}: {}\n(written to {uri})",
                        stop.failure.code, stop.failure.message
                    )),
                    written: Some(Written::Error(uri, stop.failure)),
                    exit_code,
                },
                Err(error) => Outcome {
                    written: None,
                    exit_code: EXIT_FAILURE,
                    message: Some(format!(
                        "error: {error}\nthe failure it was to record: {}: {}",
                        stop.failure.code, stop.failure.message
                    )),
                },
            }
        }
    }
}

/// Why inputs could not be decoded for a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputsFailure {
    /// The index is past the end of the mapped inputs: the element's own failure, which
    /// flytekit writes as a user error with exit code 0.
    PastEnd(Failure),
    /// The inputs are corrupt or do not fit the task.
    Bad(Failure),
}

/// Decodes `bytes` (the contents of `inputs_uri`) as the inputs of `entry`: for element `index`
/// of a map with the `bound` parameters, or, with `element = None`, for a plain task.
///
/// Never panics and allocates in proportion to `bytes`, whatever they hold: prost bounds every
/// length by the buffer and nesting at 100 levels, and the literal conversion follows the
/// decoded messages.
pub fn decode_inputs(
    entry: &TaskEntry,
    inputs_uri: &str,
    bytes: &[u8],
    element: Option<(&[String], usize)>,
) -> Result<DecodedInputs, InputsFailure> {
    let task = entry.name;
    let literals = LiteralMap::decode(bytes).map_err(|e| {
        InputsFailure::Bad(Failure::system(
            "CorruptInputs",
            format!(
                "`{inputs_uri}` is not a flyteidl.core.LiteralMap ({} bytes): {e}",
                bytes.len()
            ),
            false,
        ))
    })?;
    let bad_inputs = |e: &dyn std::fmt::Display| {
        InputsFailure::Bad(Failure::user(
            "BadInputs",
            format!("the inputs do not fit task `{task}`: {e}"),
        ))
    };
    let mut source = match element {
        None => LiteralInputs::whole(&literals, &entry.interface).map_err(|e| bad_inputs(&e))?,
        Some((bound, i)) => {
            let (source, n) = LiteralInputs::element(&literals, &entry.interface, task, bound, i)
                .map_err(|e| bad_inputs(&e))?;
            if i >= n {
                return Err(InputsFailure::PastEnd(Failure::user(
                    "IndexError",
                    format!(
                        "index {i} is past the end of the mapped inputs of task `{task}`, which have {n} elements"
                    ),
                )));
            }
            source
        }
    };
    entry.decode(&mut source).map_err(|e| match e {
        DecodeError::NotPortable { .. } => {
            InputsFailure::Bad(Failure::user("NotPortable", e.to_string()))
        }
        DecodeError::Input { .. } => bad_inputs(&e),
    })
}

/// Finds the task, reads its inputs, runs it, and returns its outputs as a `LiteralMap`.
fn run_once(
    args: &ExecuteArgs,
    index: Option<usize>,
    single_attempt: bool,
) -> Result<LiteralMap, Stop> {
    let task = args.task_name.as_str();
    let entry = registry::find(task)
        .map_err(|e| Stop::broken(Failure::user("UnknownTask", e.to_string())))?;
    let bytes = storage::read(&args.inputs).map_err(|e| {
        let recoverable = !e.is_not_found();
        Stop::broken(Failure::system(
            "InputsUnreadable",
            format!("cannot read the inputs: {e}"),
            recoverable,
        ))
    })?;
    let element = index.map(|i| (args.bound.as_slice(), i));
    let decoded = decode_inputs(&entry, &args.inputs, &bytes, element).map_err(|e| match e {
        InputsFailure::PastEnd(failure) => Stop::element(failure),
        InputsFailure::Bad(failure) => Stop::broken(failure),
    })?;
    drop(bytes);
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| {
            Stop::broken(Failure::system(
                "Runtime",
                format!("cannot start the async runtime: {e}"),
                true,
            ))
        })?;
    // One element: one compute thread is all a blocking task can use.
    let runtime = Runtime::builder().compute_threads(1).build();
    // With `MAPTASK_SINGLE_ATTEMPT=1`, the parent counts attempts and enforces the timeout.
    let single = match single_attempt {
        true => entry.run_single_attempt(decoded, &runtime, RunOptions::default()),
        false => Err(decoded),
    };
    let output = match single {
        Ok(run) => tokio.block_on(run),
        Err(decoded) => tokio.block_on(entry.run(decoded, &runtime, RunOptions::default())),
    }
    .map_err(|f| Stop::element(Failure::of_task(task, index, &f)))?;
    let mut outputs = LiteralMap::default();
    if entry.interface.output != TypeDesc::Unit {
        let literal = to_literal(&*output, &entry.interface.output).map_err(|e| {
            Stop::broken(Failure::user(
                "BadOutput",
                format!(
                    "the output of task `{task}` does not fit its type `{}`: {e}",
                    entry.interface.output
                ),
            ))
        })?;
        outputs.literals.insert(OUTPUT_NAME.to_owned(), literal);
    }
    Ok(outputs)
}
