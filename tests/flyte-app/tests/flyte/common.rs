//! Helpers: the fixtures, scratch directories, and running this crate's binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use maptask_flyte::proto::core::{ErrorDocument, LiteralMap};
use prost::Message;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_flyte-app");

/// The flytekit fixtures (a copy of `shared/flyte-fixtures`, kept by `maptask-flyte`).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maptask-flyte/tests/fixtures")
}

/// A fixture file's bytes.
pub fn fixture(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh, empty directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(label: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "maptask-flyte-app-{}-{}-{label}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn s(&self, rel: &str) -> String {
        self.join(rel).display().to_string()
    }

    /// Every file under the directory, as sorted relative paths.
    pub fn files(&self) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.push(path.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &self.0, &mut out);
        out.sort();
        out
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary with exactly `env` as its environment.
pub fn run(args: &[String], env: &BTreeMap<String, String>, cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env)
        .current_dir(cwd)
        .output()
        .unwrap()
}

/// `map-execute` arguments in the fixtures' shape, with our loader.
pub fn map_args(inputs: &str, prefix: &str, vars: &str, task: &str) -> Vec<String> {
    [
        "map-execute",
        "--inputs",
        inputs,
        "--output-prefix",
        prefix,
        "--raw-output-data-prefix",
        "/nonexistent/raw",
        "--checkpoint-path",
        "/nonexistent/raw/_flytecheckpoints",
        "--prev-checkpoint",
        "\"\"",
        "--resolver",
        "maptask",
        "--",
        "vars",
        vars,
        "task-name",
        task,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// The k8s-array plugin's environment for index `i`.
pub fn k8s_env(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "BATCH_JOB_ARRAY_INDEX_VAR_NAME".to_owned(),
            "FLYTE_K8S_ARRAY_INDEX".to_owned(),
        ),
        ("FLYTE_K8S_ARRAY_INDEX".to_owned(), i.to_string()),
    ])
}

pub fn literal_map(bytes: &[u8]) -> LiteralMap {
    LiteralMap::decode(bytes).expect("a LiteralMap")
}

pub fn error_document(bytes: &[u8]) -> ErrorDocument {
    ErrorDocument::decode(bytes).expect("an ErrorDocument")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether tests that need an external tool must fail rather than skip.
pub fn ci() -> bool {
    std::env::var_os("MAPTASK_CI").is_some_and(|v| v == "1")
}
