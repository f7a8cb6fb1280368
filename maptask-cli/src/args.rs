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
    /// Writes the files that run tasks and workflows elsewhere: Flyte's (as `pyflyte
    /// serialize`), or a workflow's map nodes as Kubernetes Jobs or AWS Batch requests.
    Serialize(Box<SerializeArgs>),
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

/// What `serialize` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// Flyte: `NN_<name>_1.pb` (TaskSpec), `_2.pb` (WorkflowSpec) and `_3.pb` (LaunchPlan), as
    /// `pyflyte serialize` writes them, for `flytectl register files`.
    Flyte,
    /// Kubernetes: `<node>.job.json` (an Indexed Job) and `<node>.collect.json` (its collector)
    /// for each map node of one workflow (cargo feature `cluster`).
    K8s,
    /// AWS Batch: `<node>.jobdef.json`, `<node>.submit.json` and `<node>.collect.json` for each
    /// map node of one workflow (cargo feature `cluster`).
    Batch,
}

/// `serialize`.
#[derive(Debug, Args)]
pub struct SerializeArgs {
    /// The tasks and workflows to write; every registered one when none is named. `k8s` and
    /// `batch` take exactly one workflow.
    pub names: Vec<String>,
    /// What to write for.
    #[arg(long, value_enum)]
    pub target: Target,
    /// The directory to write into (created if missing). Files are written to a temporary
    /// directory first, so a failure leaves nothing behind.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The container image that holds this program.
    #[arg(long)]
    pub image: String,
    /// The path of this program inside the image; `/usr/local/bin/<this program's file name>`
    /// by default.
    #[arg(long, value_name = "PATH")]
    pub binary: Option<String>,
    /// Flyte: the project of the ids (empty by default, as `pyflyte serialize` leaves it for
    /// `flytectl register files` to fill in).
    #[arg(long, default_value = "")]
    pub project: String,
    /// Flyte: the domain of the ids (empty by default).
    #[arg(long, default_value = "")]
    pub domain: String,
    /// Flyte: the version of the ids (empty by default).
    #[arg(long, default_value = "")]
    pub version: String,
    /// `k8s`, `batch`: where each map node's data lives, `s3://bucket/prefix` or
    /// `file:///path`: its inputs at `<URI>/<node>/inputs.pb`, its outputs under
    /// `<URI>/<node>/out/`.
    #[arg(long, value_name = "URI")]
    pub run_uri: Option<String>,
    /// `k8s`, `batch`: the number of elements of each map node: `N` for every one, or `NODE=N`
    /// for one (repeat).
    #[arg(long = "size", value_name = "[NODE=]N")]
    pub size: Vec<String>,
    /// `k8s`: the namespace of the Jobs (kubectl's current one when absent).
    #[arg(long)]
    pub namespace: Option<String>,
    /// `k8s`: a Secret whose keys become the containers' environment (e.g. the S3 keys); only
    /// its name is written.
    #[arg(long, value_name = "NAME")]
    pub k8s_secret: Option<String>,
    /// `k8s`: the service account the pods run as.
    #[arg(long, value_name = "NAME")]
    pub service_account: Option<String>,
    /// `batch`: the job queue to submit to (required for `batch`).
    #[arg(long, value_name = "QUEUE")]
    pub job_queue: Option<String>,
    /// `batch`: the IAM role the containers assume (`jobRoleArn`).
    #[arg(long, value_name = "ARN")]
    pub job_role_arn: Option<String>,
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
