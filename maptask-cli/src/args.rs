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
    /// The Flyte container entrypoint of one element of a map task (like
    /// `pyflyte-map-execute`); the process backend runs it too.
    #[command(name = "map-execute")]
    MapExecute(EntrypointArgs),
    /// The Flyte container entrypoint of one task (like `pyflyte-execute`).
    Execute(EntrypointArgs),
    /// The result cache of cached tasks (`#[task(cache = "…")]`): what it holds, and clearing it.
    Cache(CacheArgs),
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
    /// One child process of this program per element attempt, through `map-execute`.
    Process,
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
    /// Where the process backend creates one run directory per map (inputs, outputs, logs).
    /// The default is `maptask-runs` under the system's temporary directory.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
    /// Keeps the process backend's run directories after a success (they are always kept after
    /// a failure, for their logs).
    #[arg(long)]
    pub keep_run_dir: bool,
    /// Keeps the results of cached tasks in `DIR/cache.redb` instead of the default store
    /// (`$MAPTASK_CACHE_DIR`, else `$XDG_CACHE_HOME/maptask`, else `~/.cache/maptask`).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Runs cached tasks without the cache: every element runs, nothing is stored.
    #[arg(long)]
    pub no_cache: bool,
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

/// `map-execute` and `execute`: the arguments Flyte gives the container, passed on as they are.
#[derive(Debug, Args)]
pub struct EntrypointArgs {
    /// The container's arguments after the subcommand: `--inputs <uri> --output-prefix <uri>
    /// [--raw-output-data-prefix <uri>] [--checkpoint-path <uri>] [--prev-checkpoint <uri>]
    /// --resolver maptask -- [vars <a,b>] task-name <name>`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// `cache`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// The cache's directory (the store is `DIR/cache.redb`). The default is
    /// `$MAPTASK_CACHE_DIR`, else `$XDG_CACHE_HOME/maptask`, else `~/.cache/maptask`.
    #[arg(long, value_name = "DIR", global = true)]
    pub cache_dir: Option<PathBuf>,
    /// What to do with the cache.
    #[command(subcommand)]
    pub command: CacheCommand,
}

/// A `cache` subcommand.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// Prints the store's file and the number of entries and bytes of each task.
    Stats {
        /// Prints JSON: `{"path", "file_bytes", "entries", "tasks": {name: {"entries", "bytes"}}}`.
        #[arg(long)]
        json: bool,
    },
    /// Removes stored results: every entry, or only those of one task.
    Clear {
        /// Removes only the entries of this task (its name as `list` shows it).
        #[arg(long, value_name = "NAME")]
        task: Option<String>,
    },
}
