//! `serialize`: the files that run this program's tasks and workflows elsewhere.
//!
//! * `--target flyte`: what `pyflyte serialize` writes, for every registered task and workflow
//!   or the named ones ([`maptask_flyte::registry::package`]);
//! * `--target k8s|batch`: for each map node of one workflow, the Kubernetes Jobs or AWS Batch
//!   requests of `maptask-cluster` (cargo feature `cluster`), as JSON (`cluster.rs`).
//!
//! Everything is written into a fresh temporary directory next to `--out`, then moved into
//! place, so a failure leaves no file behind.

#[cfg(feature = "cluster")]
mod cluster;

use std::io::Write;
use std::path::{Path, PathBuf};

use maptask_flyte::registry::{package, PackageError};
use maptask_flyte::serialize::Settings;

use crate::args::{SerializeArgs, Target};
use crate::error::CliError;

/// Writes the files for `args.target` into `args.out` and lists their paths on `out`.
pub fn run(args: &SerializeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let files = match args.target {
        Target::Flyte => flyte_files(args)?,
        Target::K8s | Target::Batch => cluster_files(args)?,
    };
    let written = write_atomically(&args.out, &files)?;
    for path in written {
        writeln!(out, "{}", path.display()).map_err(|error| CliError::Io {
            what: "could not list the written files".to_owned(),
            error,
        })?;
    }
    Ok(())
}

/// The path of this program inside the image: `--binary`, or `/usr/local/bin/<file name>`.
pub(crate) fn binary(args: &SerializeArgs) -> String {
    args.binary.clone().unwrap_or_else(|| {
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".to_owned());
        format!("/usr/local/bin/{name}")
    })
}

fn flyte_files(args: &SerializeArgs) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    let settings = Settings {
        project: args.project.clone(),
        domain: args.domain.clone(),
        version: args.version.clone(),
        image: args.image.clone(),
        binary: binary(args),
    };
    let names: Vec<&str> = args.names.iter().map(String::as_str).collect();
    let package = package(&names, &settings).map_err(|error| match error {
        PackageError::Unknown { name, known } => CliError::UnknownEntity { name, known },
        other => CliError::CannotSerialize(other.to_string()),
    })?;
    Ok(package.files())
}

#[cfg(feature = "cluster")]
fn cluster_files(args: &SerializeArgs) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    cluster::files(args)
}

#[cfg(not(feature = "cluster"))]
fn cluster_files(args: &SerializeArgs) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    Err(CliError::FeatureMissing {
        target: match args.target {
            Target::Batch => "batch",
            _ => "k8s",
        },
        feature: "cluster",
    })
}

/// Writes `files` into `out`: all into a new temporary directory beside it, then the directory
/// renamed to `out` (or, when `out` already exists, each file renamed into it). On any error
/// the temporary directory is removed.
pub fn write_atomically(out: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, CliError> {
    let fail = |path: &Path, error: std::io::Error| CliError::OutDir {
        path: path.to_owned(),
        error,
    };
    if out.exists() && !out.is_dir() {
        return Err(fail(
            out,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it is not a directory"),
        ));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| fail(&parent, e))?;
    let base = out
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{base}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp).map_err(|e| fail(out, e))?;
    let result = (|| {
        for (name, bytes) in files {
            std::fs::write(tmp.join(name), bytes).map_err(|e| fail(&out.join(name), e))?;
        }
        if !out.exists() {
            std::fs::rename(&tmp, out).map_err(|e| fail(out, e))?;
        } else {
            for (name, _) in files {
                std::fs::rename(tmp.join(name), out.join(name))
                    .map_err(|e| fail(&out.join(name), e))?;
            }
        }
        Ok(files.iter().map(|(name, _)| out.join(name)).collect())
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "cluster"))]
    #[test]
    fn cluster_targets_name_the_missing_feature() {
        use clap::Parser;

        use crate::args::{Cli, Command};
        use crate::error::{CliError, EXIT_USAGE};

        let out =
            std::env::temp_dir().join(format!("maptask-cli-no-cluster-{}", std::process::id()));
        for target in ["k8s", "batch"] {
            let cli = Cli::parse_from(
                [
                    "app",
                    "serialize",
                    "wf",
                    "--target",
                    target,
                    "--image",
                    "i",
                    "--out",
                ]
                .into_iter()
                .map(str::to_owned)
                .chain([out.display().to_string()]),
            );
            let Command::Serialize(args) = &cli.command else {
                panic!("not serialize")
            };
            let error = super::run(args, &mut Vec::new()).unwrap_err();
            assert!(matches!(
                error,
                CliError::FeatureMissing {
                    feature: "cluster",
                    ..
                }
            ));
            assert_eq!(error.exit_code(), EXIT_USAGE);
            assert!(error.to_string().starts_with(&format!(
                "`--target {target}` needs the cargo feature `cluster` of `maptask`"
            )));
            assert!(!out.exists());
        }
    }

    #[test]
    fn files_are_written_through_a_temporary_directory() {
        let dir = std::env::temp_dir().join(format!("maptask-cli-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let out = dir.join("nested/out");
        let files = vec![
            ("a.pb".to_owned(), b"a".to_vec()),
            ("b.pb".to_owned(), b"b".to_vec()),
        ];
        let written = super::write_atomically(&out, &files).unwrap();
        assert_eq!(written, [out.join("a.pb"), out.join("b.pb")]);
        assert_eq!(std::fs::read(out.join("b.pb")).unwrap(), b"b");
        // A file name that cannot be written fails the whole write, leaving `out` as it was.
        let bad = vec![
            ("c.pb".to_owned(), b"c".to_vec()),
            ("no/such/d.pb".to_owned(), b"d".to_vec()),
        ];
        assert!(super::write_atomically(&out, &bad).is_err());
        assert!(!out.join("c.pb").exists());
        let left: Vec<_> = std::fs::read_dir(dir.join("nested")).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary directory is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
