//! `cache stats` and `cache clear [--task NAME]`: the result cache of cached tasks.
//!
//! The store is the one a run of this program uses: `--cache-dir DIR` (the file
//! `DIR/cache.redb`), else `$MAPTASK_CACHE_DIR`, else the default location (see
//! `maptask_cache::Store::default_path`). Without the `cache` feature, each subcommand is an
//! error that names the feature.

use std::io::Write;
use std::path::Path;

use maptask_runtime::RuntimeBuilder;

use crate::args::{CacheArgs, CacheCommand};
use crate::error::CliError;

/// Runs `cache …`.
pub fn run(args: &CacheArgs, out: &mut dyn Write) -> Result<(), CliError> {
    imp::run(args, out)
}

/// `run --cache-dir DIR` / `run --no-cache`: the store of the run's runtime (through its
/// extension slot, which the facade's cached maps and task nodes read), or no cache.
pub fn runtime_cache(
    builder: RuntimeBuilder,
    cache_dir: Option<&Path>,
    no_cache: bool,
) -> Result<RuntimeBuilder, CliError> {
    imp::runtime_cache(builder, cache_dir, no_cache)
}

/// The subcommand's name, for messages.
fn command_name(command: &CacheCommand) -> &'static str {
    match command {
        CacheCommand::Stats { .. } => "stats",
        CacheCommand::Clear { .. } => "clear",
    }
}

#[cfg(not(feature = "cache"))]
mod imp {
    use super::*;

    pub(super) fn run(args: &CacheArgs, _out: &mut dyn Write) -> Result<(), CliError> {
        Err(CliError::NoCacheFeature {
            what: format!("cache {}", command_name(&args.command)),
        })
    }

    pub(super) fn runtime_cache(
        builder: RuntimeBuilder,
        cache_dir: Option<&Path>,
        _no_cache: bool,
    ) -> Result<RuntimeBuilder, CliError> {
        // Without a cache, `--no-cache` is what happens anyway.
        match cache_dir {
            Some(_) => Err(CliError::NoCacheFeature {
                what: "run --cache-dir".to_owned(),
            }),
            None => Ok(builder),
        }
    }
}

#[cfg(feature = "cache")]
mod imp {
    use maptask_cache::{Stats, Store};
    use maptask_runtime::registry;
    use serde_json::json;

    use super::*;
    use crate::commands::list_names;

    pub(super) fn run(args: &CacheArgs, out: &mut dyn Write) -> Result<(), CliError> {
        let path = match &args.cache_dir {
            Some(dir) => dir.join(maptask_cache::store::FILE_NAME),
            None => Store::default_path().map_err(store_error)?,
        };
        let store = Store::open(&path).map_err(store_error)?;
        let text = match &args.command {
            CacheCommand::Stats { json } => {
                let stats = store.stats().map_err(store_error)?;
                if *json {
                    stats_json(&stats)
                } else {
                    stats_table(&stats)
                }
            }
            CacheCommand::Clear { task } => {
                let removed = store.clear(task.as_deref()).map_err(store_error)?;
                match task {
                    Some(task) => {
                        if removed == 0 && registry::find(task).is_err() {
                            // Probably a typo: say which names exist.
                            let entries = registry::entries();
                            return Err(CliError::UnknownEntity {
                                name: task.clone(),
                                known: list_names(
                                    entries.iter().filter(|e| !e.is_workflow).map(|e| e.name),
                                ),
                            });
                        }
                        format!(
                            "removed {removed} {} of task `{task}` from {}\n",
                            entries_word(removed),
                            path.display()
                        )
                    }
                    None => format!(
                        "removed {removed} {} from {}\n",
                        entries_word(removed),
                        path.display()
                    ),
                }
            }
        };
        out.write_all(text.as_bytes())
            .map_err(|error| CliError::Io {
                what: format!("could not write `cache {}`", command_name(&args.command)),
                error,
            })
    }

    pub(super) fn runtime_cache(
        builder: RuntimeBuilder,
        cache_dir: Option<&Path>,
        no_cache: bool,
    ) -> Result<RuntimeBuilder, CliError> {
        use maptask_cache::RuntimeCache;
        if no_cache {
            return Ok(builder.extension(RuntimeCache::Off));
        }
        match cache_dir {
            Some(dir) => {
                let store =
                    Store::open(dir.join(maptask_cache::store::FILE_NAME)).map_err(store_error)?;
                Ok(builder.extension(RuntimeCache::Store(store)))
            }
            None => Ok(builder),
        }
    }

    fn store_error(error: maptask_cache::CacheError) -> CliError {
        CliError::Other(crate::error::error_chain(&error))
    }

    fn entries_word(n: u64) -> &'static str {
        if n == 1 {
            "entry"
        } else {
            "entries"
        }
    }

    /// One line per task, then the total.
    fn stats_table(stats: &Stats) -> String {
        let mut text = format!(
            "cache: {} ({} bytes on disk)\n",
            stats.path.display(),
            stats.file_bytes
        );
        if stats.tasks.is_empty() {
            text.push_str("no entries\n");
            return text;
        }
        let width = stats
            .tasks
            .keys()
            .map(String::len)
            .chain([4])
            .max()
            .unwrap_or(4);
        text.push_str(&format!(
            "{:<width$}  {:>10}  {:>12}\n",
            "TASK", "ENTRIES", "BYTES"
        ));
        for (task, t) in &stats.tasks {
            text.push_str(&format!(
                "{task:<width$}  {:>10}  {:>12}\n",
                t.entries, t.bytes
            ));
        }
        let bytes: u64 = stats.tasks.values().map(|t| t.bytes).sum();
        text.push_str(&format!(
            "{:<width$}  {:>10}  {:>12}\n",
            "total",
            stats.entries(),
            bytes
        ));
        text
    }

    fn stats_json(stats: &Stats) -> String {
        let tasks: serde_json::Map<String, serde_json::Value> = stats
            .tasks
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    json!({ "entries": t.entries, "bytes": t.bytes }),
                )
            })
            .collect();
        let value = json!({
            "path": stats.path.display().to_string(),
            "file_bytes": stats.file_bytes,
            "entries": stats.entries(),
            "tasks": tasks,
        });
        format!("{value:#}\n")
    }
}

#[cfg(all(test, not(feature = "cache")))]
mod tests {
    use clap::Parser;

    use crate::args::Cli;
    use crate::error::{CliError, EXIT_USAGE};

    #[test]
    fn without_the_feature_each_subcommand_names_it() {
        for (args, what) in [
            (vec!["demo", "cache", "stats"], "cache stats"),
            (vec!["demo", "cache", "clear", "--task", "t"], "cache clear"),
            (
                vec!["demo", "run", "x", "--cache-dir", "d"],
                "run --cache-dir",
            ),
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            let error = match &cli.command {
                crate::args::Command::Run(run) => super::runtime_cache(
                    maptask_runtime::Runtime::builder(),
                    run.cache_dir.as_deref(),
                    run.no_cache,
                )
                .unwrap_err(),
                _ => crate::dispatch(&cli, &mut Vec::new()).unwrap_err(),
            };
            assert!(
                matches!(&error, CliError::NoCacheFeature { what: w } if w == what),
                "{error:?}"
            );
            assert_eq!(error.exit_code(), EXIT_USAGE);
            let message = error.to_string();
            assert!(message.contains("`cache` feature"), "{message}");
            assert!(message.starts_with(&format!("`{what}`")), "{message}");
        }
    }
}
