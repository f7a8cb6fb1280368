//! `run`: a workflow or a task, with JSON inputs, on the chosen backend; prints its output.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use maptask_core::ElementFailure;
use maptask_runtime::registry::{DecodeError, TaskEntry, TaskOutput};
use maptask_runtime::{CancellationToken, MapBackend, RunOptions, Runtime};

use crate::args::{BackendArg, RunArgs};
use crate::backend::{unsupported, ProcessBackend};
use crate::commands::find;
use crate::error::{error_chain, CliError};
use crate::inputs;
use crate::progress::Progress;
use crate::source::JsonSource;

/// Runs `args.name` and prints its output on `out`.
pub fn run(args: &RunArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let entry = find(&args.name)?;
    if let Some(reason) = entry.not_portable_reason() {
        return Err(CliError::NotRunnable {
            entity: entry.name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    if entry.is_workflow && entry.workflow.and_then(|w| w.run).is_none() {
        return Err(CliError::NotRunnable {
            entity: entry.name.to_owned(),
            reason: format!(
                "its output `{}` is not `serde::Serialize`",
                entry.interface.output_rust_type
            ),
        });
    }
    let values = inputs::collect(
        entry.name,
        &entry.interface.inputs,
        &args.input,
        args.inputs.as_deref(),
    )?;
    let decoded = entry
        .decode(&mut JsonSource::new(values))
        .map_err(decode_error)?;
    if args.backend == BackendArg::Process {
        check_process_backend(&entry)?;
    }

    let backend = backend(args)?;
    let mut builder = Runtime::builder().max_in_flight(Some(args.max_in_flight));
    if let Some(backend) = &backend {
        builder = builder.backend(Arc::clone(backend));
    }
    let runtime =
        super::cache::runtime_cache(builder, args.cache_dir.as_deref(), args.no_cache)?.build();
    // Bars go to stderr, and only when a person watches: stdout and stderr are terminals and
    // the output is not asked for as JSON.
    let watched = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
    let progress = (!args.json && watched).then(|| Arc::new(Progress::stderr()));
    let cancel = CancellationToken::new();
    let mut options = RunOptions::new().cancel(cancel.clone());
    if let Some(progress) = &progress {
        if let Some(workflow) = entry.workflow.filter(|_| entry.is_workflow) {
            progress.graph(&(workflow.graph)());
        }
        options = options.observer(progress.clone());
    }

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Io {
            what: "could not start the tokio runtime".to_owned(),
            error,
        })?;
    let result = tokio.block_on(execute(&entry, decoded, &runtime, options, cancel));
    // Children asked to stop (a cancelled or failed map) are reaped by tasks of this runtime:
    // give them their grace before exiting.
    tokio.shutdown_timeout(std::time::Duration::from_secs(5));
    if let Some(progress) = &progress {
        progress.clear();
    }
    let output = result?;
    let value = serde_json::to_value(&*output).map_err(|e| CliError::RunFailed {
        entity: entry.name.to_owned(),
        chain: format!("its output could not be written as JSON: {e}"),
    })?;
    let text = if args.json {
        serde_json::to_string(&value)
    } else {
        serde_json::to_string_pretty(&value)
    }
    .map_err(|e| CliError::Other(e.to_string()))?;
    writeln!(out, "{text}").map_err(|error| CliError::Io {
        what: "could not write the output".to_owned(),
        error,
    })
}

/// The backend `--backend` asks for; `None` is the engine.
fn backend(args: &RunArgs) -> Result<Option<Arc<dyn MapBackend>>, CliError> {
    match args.backend {
        BackendArg::Local => Ok(None),
        BackendArg::Process => {
            let parent = args
                .run_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("maptask-runs"));
            Ok(Some(Arc::new(
                ProcessBackend::new(parent).keep_run_dirs(args.keep_run_dir),
            )))
        }
    }
}

/// Runs the entry until it ends or Ctrl-C, which cancels the run and waits for it to stop (so
/// that no child process is left behind).
async fn execute(
    entry: &TaskEntry,
    decoded: maptask_runtime::registry::DecodedInputs,
    runtime: &Runtime,
    options: RunOptions,
    cancel: CancellationToken,
) -> Result<TaskOutput, CliError> {
    let name = entry.name.to_owned();
    let run: futures::future::BoxFuture<'static, Result<TaskOutput, CliError>> =
        if entry.is_workflow {
            let Some(future) = entry.run_workflow(decoded, runtime, options) else {
                return Err(CliError::Other(format!("`{name}` cannot run")));
            };
            Box::pin(async move {
                future.await.map_err(|error| CliError::RunFailed {
                    entity: name,
                    chain: error_chain(error.as_ref()),
                })
            })
        } else {
            let future = entry.run(decoded, runtime, options);
            Box::pin(async move {
                future.await.map_err(|failure| CliError::RunFailed {
                    entity: name,
                    chain: attempts_chain(&failure),
                })
            })
        };
    let mut run = run;
    tokio::select! {
        result = &mut run => result,
        _ = tokio::signal::ctrl_c() => {
            cancel.cancel();
            // The run ends promptly once cancelled; its children are stopped and reaped.
            let _ = run.await;
            Err(CliError::Interrupted)
        }
    }
}

/// `after 2 attempts: attempt 1: …; attempt 2: …`.
fn attempts_chain(failure: &ElementFailure) -> String {
    let attempts: Vec<String> = failure
        .errors
        .iter()
        .enumerate()
        .map(|(i, e)| format!("attempt {}: {}", i + 1, error_chain(&**e)))
        .collect();
    format!(
        "after {} attempt{}:\n  {}",
        failure.attempts,
        if failure.attempts == 1 { "" } else { "s" },
        attempts.join("\n  ")
    )
}

/// A decode error as a usage error: the input's own error when it is one of ours.
fn decode_error(error: DecodeError) -> CliError {
    match error {
        DecodeError::Input { param, source } => match source.downcast::<CliError>() {
            Ok(error) => *error,
            Err(source) => CliError::WrongType {
                input: param.to_owned(),
                rust_type: "?".to_owned(),
                error: source.to_string(),
            },
        },
        DecodeError::NotPortable { task, reason } => CliError::NotRunnable {
            entity: task,
            reason,
        },
    }
}

/// Checks, before anything runs, that every map the workflow runs (in sub-workflows too) can
/// hand its elements to child processes.
fn check_process_backend(entry: &TaskEntry) -> Result<(), CliError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut pending = vec![entry.name.to_owned()];
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let workflow = find(&name)?.workflow;
        let Some(workflow) = workflow else { continue };
        for node in (workflow.graph)().nodes {
            match node.kind {
                maptask_core::NodeKind::Map => {
                    let task = find(&node.entity)?;
                    if let Some(reason) = unsupported(&task) {
                        return Err(CliError::NotRunnable {
                            entity: entry.name.to_owned(),
                            reason: format!(
                                "`--backend process`: map node `{}` cannot run in child \
                                 processes: {reason}",
                                node.id
                            ),
                        });
                    }
                }
                maptask_core::NodeKind::Workflow => pending.push(node.entity.clone()),
                maptask_core::NodeKind::Task => {}
            }
        }
    }
    Ok(())
}
