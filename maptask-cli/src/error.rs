//! What can go wrong on the command line, and the exit code of each.

use std::path::PathBuf;

/// The exit code of bad input: a usage error, as clap uses.
pub const EXIT_USAGE: u8 = 2;
/// The exit code of a run that failed.
pub const EXIT_FAILURE: u8 = 1;
/// The exit code after Ctrl-C, as shells report a death by `SIGINT`.
pub const EXIT_INTERRUPTED: u8 = 130;

/// An error of the command line. Its message names the thing at fault; [`CliError::exit_code`]
/// tells bad input (2) from a failed run (1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No task or workflow has this name.
    #[error("no task or workflow named `{name}` in this binary; known: {known}")]
    UnknownEntity {
        /// The name given.
        name: String,
        /// Every known name, listed.
        known: String,
    },
    /// The name is a task, where a workflow is needed.
    #[error("`{name}` is a task, not a workflow; workflows: {known}")]
    NotAWorkflow {
        /// The name given.
        name: String,
        /// Every workflow's name, listed.
        known: String,
    },
    /// A `--input` argument without `=`.
    #[error("`--input {arg}`: expected NAME=JSON, e.g. `--input x='[1, 2, 3]'`")]
    InputSyntax {
        /// The argument as given.
        arg: String,
    },
    /// An input that the task or workflow does not have.
    #[error("`{entity}` has no input `{input}`; its inputs are: {known}")]
    UnknownInput {
        /// The task or workflow.
        entity: String,
        /// The input given.
        input: String,
        /// Its inputs, with their types.
        known: String,
    },
    /// The same input twice.
    #[error("input `{input}` is given twice")]
    DuplicateInput {
        /// The input.
        input: String,
    },
    /// An input that was not given.
    #[error("input `{input}` (Rust type `{rust_type}`) is missing; pass it with `--input {input}=<JSON>` or in `--inputs FILE`")]
    MissingInput {
        /// The input.
        input: String,
        /// Its Rust type.
        rust_type: String,
    },
    /// An input whose text is not JSON.
    #[error("input `{input}` (Rust type `{rust_type}`): malformed JSON `{text}`: {error}{hint}")]
    MalformedJson {
        /// The input.
        input: String,
        /// Its Rust type.
        rust_type: String,
        /// The text given.
        text: String,
        /// What the JSON parser said.
        error: serde_json::Error,
        /// A hint for a common mistake, or empty.
        hint: String,
    },
    /// An input whose JSON does not fit its type.
    #[error("input `{input}`: expected Rust type `{rust_type}`, but {error}")]
    WrongType {
        /// The input.
        input: String,
        /// Its Rust type.
        rust_type: String,
        /// What serde said.
        error: String,
    },
    /// The `--inputs` file could not be used.
    #[error("inputs file {}: {message}", path.display())]
    InputsFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The task cannot be run from the command line.
    #[error("`{entity}` cannot run from the command line: {reason}")]
    NotRunnable {
        /// The task or workflow.
        entity: String,
        /// Why.
        reason: String,
    },
    /// The run failed; the chain holds every cause.
    #[error("`{entity}` failed: {chain}")]
    RunFailed {
        /// The task or workflow.
        entity: String,
        /// The error and its sources, one per line.
        chain: String,
    },
    /// Writing an output, a file or the terminal failed.
    #[error("{what}: {error}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        error: std::io::Error,
    },
    /// The run was interrupted (Ctrl-C) and stopped.
    #[error("interrupted; the run was cancelled and every child process stopped")]
    Interrupted,
    /// A flag of `serialize` is missing or wrong for its target.
    #[error("{0}")]
    Usage(String),
    /// What was asked for cannot be written (a task that cannot cross to Flyte, a map over a
    /// target's limits); the message names it.
    #[error("cannot serialize: {0}")]
    CannotSerialize(String),
    /// The target needs a cargo feature this program was built without.
    #[error("`--target {target}` needs the cargo feature `{feature}` of `maptask`, which this program was built without; enable it (`maptask = {{ features = [\"cli\", \"{feature}\"] }}`) and rebuild")]
    FeatureMissing {
        /// The target asked for.
        target: &'static str,
        /// The feature it needs.
        feature: &'static str,
    },
    /// The output directory cannot be written.
    #[error("cannot write into {}: {error}", path.display())]
    OutDir {
        /// The directory, or the file in it, that failed.
        path: PathBuf,
        /// Why.
        #[source]
        error: std::io::Error,
    },
    /// `cache …` or `run --cache-dir` in a program built without the cache.
    #[error("`{what}`: this program was built without maptask's `cache` feature, so it has no cache; enable it (`maptask = {{ features = [\"cli\", \"cache\"] }}`) and rebuild")]
    NoCacheFeature {
        /// What was asked for, e.g. `cache stats`.
        what: String,
    },
    /// Anything else that stops a command, with its message.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// 2 for bad input (an unwritable `--out` of `serialize` included), 1 for a failed run or an
    /// I/O error, 130 after Ctrl-C.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::UnknownEntity { .. }
            | CliError::NotAWorkflow { .. }
            | CliError::InputSyntax { .. }
            | CliError::UnknownInput { .. }
            | CliError::DuplicateInput { .. }
            | CliError::MissingInput { .. }
            | CliError::MalformedJson { .. }
            | CliError::WrongType { .. }
            | CliError::InputsFile { .. }
            | CliError::NotRunnable { .. }
            | CliError::Usage(_)
            | CliError::CannotSerialize(_)
            | CliError::FeatureMissing { .. }
            | CliError::OutDir { .. }
            | CliError::NoCacheFeature { .. } => EXIT_USAGE,
            CliError::RunFailed { .. } | CliError::Io { .. } | CliError::Other(_) => EXIT_FAILURE,
            CliError::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// `error` and each of its sources, one per line, indented after the first.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Many errors repeat their source in their own message; say it once.
        if !chain.contains(&text) {
            chain.push_str("\n  caused by: ");
            chain.push_str(&text);
        }
        source = cause.source();
    }
    chain
}
