//! One element attempt as `<this binary> map-execute …`, and what it left behind.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use maptask_core::TypeDesc;
use maptask_flyte::entrypoint::args::{ExecuteArgs, Mode};
use maptask_flyte::entrypoint::{ERROR_FILE, OUTPUTS_FILE};
use maptask_flyte::prost::Message;
use maptask_flyte::proto::core::{container_error, ErrorDocument};
use maptask_process::{Attempt, Collected, Launch};
use maptask_runtime::registry::RemoteFns;
use maptask_runtime::OutputHook;

/// The variable that names the index variable, as the k8s-array plugin sets it.
const INDEX_VAR_NAME: &str = "BATCH_JOB_ARRAY_INDEX_VAR_NAME";
/// The index variable the k8s-array plugin uses.
const K8S_INDEX: &str = "FLYTE_K8S_ARRAY_INDEX";
/// Added to the index by flytekit; the parent's own value must not leak into children.
const INDEX_OFFSET: &str = "BATCH_JOB_ARRAY_INDEX_OFFSET";

/// Starts `map-execute` for each element of one map, over one run directory.
pub struct MapExecute {
    /// `map-execute`'s arguments, the same for every element.
    args: Vec<String>,
    /// `<run dir>/out`: element `i` writes `out/<i>/outputs.pb` or `out/<i>/error.pb`.
    out: PathBuf,
    /// Told each success's output as soon as its child has exited (see
    /// [`MapExecute::on_output`]).
    on_output: Option<(OutputHook, TypeDesc, RemoteFns)>,
}

impl MapExecute {
    /// The launch of task `task` (its bound names sorted), reading `<root>/inputs.pb`.
    pub fn new(root: &Path, task: &str, mut bound: Vec<String>) -> MapExecute {
        bound.sort();
        let out = root.join("out");
        let args = ExecuteArgs {
            mode: Mode::Map,
            inputs: root.join("inputs.pb").to_string_lossy().into_owned(),
            output_prefix: out.to_string_lossy().into_owned(),
            raw_output_data_prefix: Some(root.join("raw").to_string_lossy().into_owned()),
            checkpoint_path: None,
            prev_checkpoint: None,
            bound,
            task_name: task.to_owned(),
        };
        MapExecute {
            args: args.to_args(),
            out,
            on_output: None,
        }
    }

    /// Reads the output of each attempt that succeeds (of type `output`, through `remote`), and
    /// calls `hook` with the element's index and that output as soon as the child has exited.
    /// An output that cannot be read is left to the collector, which reports it.
    #[must_use]
    pub fn on_output(
        mut self,
        hook: OutputHook,
        output: TypeDesc,
        remote: RemoteFns,
    ) -> MapExecute {
        self.on_output = Some((hook, output, remote));
        self
    }

    /// `out/<i>/`.
    fn element_dir(&self, index: usize) -> PathBuf {
        self.out.join(index.to_string())
    }
}

impl Launch for MapExecute {
    type Output = ();

    fn prepare(&self, attempt: &Attempt, command: &mut Command) -> io::Result<()> {
        // An earlier attempt's result must not be read as this one's.
        let dir = self.element_dir(attempt.index);
        for file in [OUTPUTS_FILE, ERROR_FILE] {
            match std::fs::remove_file(dir.join(file)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        command
            .args(&self.args)
            .env(INDEX_VAR_NAME, K8S_INDEX)
            .env(K8S_INDEX, attempt.index.to_string())
            .env_remove(INDEX_OFFSET)
            .env_remove("FLYTE_FAIL_ON_ERROR")
            .env_remove("MAPTASK_EXIT_CODES")
            // This process counts the attempts and enforces the timeout: the child runs one.
            .env(maptask_flyte::entrypoint::SINGLE_ATTEMPT, "1");
        Ok(())
    }

    fn collect(&self, attempt: &Attempt, _status: ExitStatus) -> Collected<()> {
        let dir = self.element_dir(attempt.index);
        if dir.join(OUTPUTS_FILE).is_file() {
            if let Some((hook, output, remote)) = &self.on_output {
                let read = std::fs::read(dir.join(OUTPUTS_FILE))
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| {
                        super::encode::output_from_outputs_pb(&bytes, output, remote)
                    });
                // An output that cannot be read here is not handed on; the collector reads
                // every output again at the map's end and reports what is wrong with it.
                if let Ok(value) = read {
                    hook(attempt.index, value.as_ref());
                }
            }
            return Collected::Output(());
        }
        let Ok(bytes) = std::fs::read(dir.join(ERROR_FILE)) else {
            return Collected::Missing;
        };
        match ErrorDocument::decode(bytes.as_slice()) {
            Ok(ErrorDocument { error: Some(error) }) => Collected::Failed {
                recoverable: error.kind == container_error::Kind::Recoverable as i32,
                message: format!("{}: {}", error.code, error.message),
            },
            Ok(ErrorDocument { error: None }) => Collected::Failed {
                message: format!("{} is empty", dir.join(ERROR_FILE).display()),
                recoverable: true,
            },
            Err(e) => Collected::Failed {
                message: format!(
                    "{} is not an ErrorDocument: {e}",
                    dir.join(ERROR_FILE).display()
                ),
                recoverable: true,
            },
        }
    }
}
