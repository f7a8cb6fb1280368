//! The command line of `maptask` programs, the process backend, and progress bars.
//!
//! A program gets the whole tool with one line:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     maptask_cli::main() // `maptask::cli::main()` through the facade's `cli` feature
//! }
//! ```
//!
//! Subcommands: `list`, `run <workflow or task> --input name=<json> … [--backend
//! local|process]`, `graph <workflow>`, `serialize --target flyte|k8s|batch …`, `cache stats`
//! and `cache clear [--task NAME]` (with the `cache` feature), and the Flyte container
//! entrypoints `map-execute` and `execute`; `--help` on each, `--version`, and logs on stderr
//! through `RUST_LOG`. Bad input exits with
//! code 2 and a message that names the input, its Rust type and what was wrong; a failed run
//! exits with 1 and the error chain.
//!
//! Where things are:
//! * `args`: the grammar (clap derive);
//! * `error`: [`CliError`], its messages and exit codes;
//! * `inputs` and `source`: inputs from `--input`/`--inputs` JSON, checked against the
//!   interface, then read into the task's own types through the registry;
//! * `commands`: one module per subcommand;
//! * `backend`: the process backend, [`ProcessBackend`](backend::ProcessBackend);
//! * `progress`: [`Progress`](progress::Progress), an observer of the engine's events that draws
//!   one bar per map and one line per workflow node.
#![warn(missing_docs)]

pub mod args;
pub mod backend;
pub mod commands;
pub mod error;
pub mod inputs;
pub mod progress;
pub mod source;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};
use crate::error::CliError;

/// Runs the command line on this process's arguments; returns the exit code.
///
/// `--version` prints only maptask's version here, since a library cannot see the version of
/// the crate that calls it; [`main!`] prints the program's own version too.
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// Runs the command line, with `--version` printing the program's own version: write
/// `fn main() -> std::process::ExitCode { maptask::cli::main!() }`. The version is the calling
/// crate's `CARGO_PKG_VERSION`, read where the macro is expanded.
#[macro_export]
macro_rules! main {
    () => {
        $crate::main_with_version(::core::env!("CARGO_PKG_VERSION"))
    };
}

/// Runs the command line on this process's arguments, with `--version` printing `version` (the
/// program's own, usually through [`main!`]) beside maptask's.
pub fn main_with_version(version: &str) -> ExitCode {
    run(std::env::args_os(), Some(version))
}

/// Runs the command line on `args` (the first is the program's name).
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run(args, None)
}

fn run<I, T>(args: I, version: Option<&str>) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // The container entrypoints take Flyte's arguments verbatim (`--` included), so they go
    // to the entrypoint's own parser; only their `--help` goes through clap.
    if let Some(subcommand) = args.get(1).and_then(|a| a.to_str()) {
        let help = args.get(2).is_some_and(|a| a == "--help" || a == "-h");
        if matches!(subcommand, "map-execute" | "execute") && !help {
            init_tracing();
            let rest = args[1..].iter().map(|a| a.to_string_lossy().into_owned());
            return maptask_flyte::entrypoint::run(rest);
        }
    }
    let name = args
        .first()
        .and_then(|arg0| std::path::Path::new(arg0).file_name())
        .map_or_else(
            || "maptask".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
    let maptask = concat!("(maptask ", env!("CARGO_PKG_VERSION"), ")");
    let version = match version {
        Some(own) => format!("{own} {maptask}"),
        None => maptask.to_owned(),
    };
    let command = Cli::command().name(name).version(version);
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    init_tracing();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match dispatch(&cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = out.flush();
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Runs one parsed command, writing its result on `out`.
pub fn dispatch(cli: &Cli, out: &mut dyn Write) -> Result<(), CliError> {
    match &cli.command {
        Command::List(args) => commands::list::run(args, out),
        Command::Run(args) => commands::run::run(args, out),
        Command::Graph(args) => commands::graph::run(args, out),
        Command::Serialize(args) => commands::serialize::run(args, out),
        // `main_from` hands these to the Flyte entrypoint before clap; here they come only from
        // a caller of `dispatch`.
        Command::MapExecute(args) => entrypoint("map-execute", &args.args),
        Command::Execute(args) => entrypoint("execute", &args.args),
        Command::Cache(args) => commands::cache::run(args, out),
    }
}

/// Runs the Flyte container entrypoint `subcommand` with `args`; a non-zero exit is an error.
fn entrypoint(subcommand: &str, args: &[String]) -> Result<(), CliError> {
    let all = std::iter::once(subcommand.to_owned()).chain(args.iter().cloned());
    if maptask_flyte::entrypoint::run(all) == ExitCode::SUCCESS {
        Ok(())
    } else {
        Err(CliError::Other(format!("`{subcommand}` failed")))
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (errors only when it is unset).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    // A program that installed its own subscriber keeps it.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
