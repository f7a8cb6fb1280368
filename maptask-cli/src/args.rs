//! The command line's grammar (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The tasks and workflows of this program: list, run, graph, serialize, and the Flyte
/// container entrypoints.
#[derive(Debug, Parser)]
#[command(
    about,
    long_about = None,
    after_help = "Logs: set RUST_LOG (e.g. RUST_LOG=maptask=debug) to see them on stderr."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lists every task and workflow in this program, with its interface.
    List(ListArgs),
    /// Runs a workflow or a task with inputs given as JSON, and prints its output.
    Run(RunArgs),
    /// Prints a workflow's graph.
    Graph(GraphArgs),
}

/// `list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Prints JSON: one object per task and workflow.
    #[arg(long)]
    pub json: bool,
}

/// Where the elements of maps run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// In this process, on the tokio engine (the default).
    Local,
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow or task, by name (see `list`).
    pub name: String,
    /// One input, as NAME=JSON, e.g. `--input x='[1, 2, 3]'`. Repeat for each input.
    #[arg(long = "input", value_name = "NAME=JSON")]
    pub input: Vec<String>,
    /// A JSON object holding the inputs by name.
    #[arg(long = "inputs", value_name = "FILE")]
    pub inputs: Option<PathBuf>,
    /// Where map elements run.
    #[arg(long, value_enum, default_value_t = BackendArg::Local)]
    pub backend: BackendArg,
    /// Caps the elements in flight across all maps (0: no cap).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub max_in_flight: usize,
    /// Prints the output as JSON on stdout, and nothing else (no progress bars).
    #[arg(long)]
    pub json: bool,
}

/// The format of a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// A Mermaid flowchart.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// `graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The workflow, by name.
    pub workflow: String,
    /// The format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub format: GraphFormat,
}
