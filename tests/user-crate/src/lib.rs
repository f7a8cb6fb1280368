//! A small log-indexing pipeline, written as a user of `maptask` would write it: the dependency
//! is renamed to `mt`, the types are serde types with `#[derive(Describe)]`, the errors come from
//! `anyhow` and `thiserror`, and the crate denies warnings, missing docs and `clippy::pedantic`.
#![deny(warnings, missing_docs, clippy::pedantic)]

use std::collections::HashSet;
use std::path::PathBuf;

use mt::{map_task, task, workflow, Describe, TaskError};
use serde::{Deserialize, Serialize};

/// How to index a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[describe(crate = mt)]
#[serde(rename_all = "camelCase")]
pub struct IndexConfig {
    /// Words shorter than this are skipped.
    pub min_word_len: usize,
    /// Words never indexed.
    pub stop_words: HashSet<String>,
}

/// The index of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Describe)]
#[describe(crate = mt)]
pub struct FileIndex {
    /// The file.
    pub path: PathBuf,
    /// Its distinct words.
    pub words: HashSet<String>,
}

/// Why a file could not be indexed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The file is empty.
    #[error("`{0}` is empty")]
    Empty(PathBuf),
}

/// Reads one file and indexes its words.
///
/// # Errors
///
/// When the file cannot be read, or is empty.
#[task(crate = mt, retries = 1, timeout = "10s")]
pub fn index_file(path: PathBuf, config: IndexConfig) -> anyhow::Result<FileIndex> {
    use anyhow::Context as _;
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading `{}`", path.display()))?;
    if text.trim().is_empty() {
        return Err(IndexError::Empty(path).into());
    }
    let words = text
        .split_whitespace()
        .map(str::to_lowercase)
        .filter(|w| w.len() >= config.min_word_len && !config.stop_words.contains(w))
        .collect();
    Ok(FileIndex { path, words })
}

/// Merges the indexes that could be built; a failed file is `None`.
#[task(crate = mt)]
#[must_use]
pub fn merge(indexes: Vec<Option<FileIndex>>) -> HashSet<String> {
    indexes
        .into_iter()
        .flatten()
        .flat_map(|i| i.words)
        .collect()
}

/// Greets someone by name: a parameter called `name`, like the map option.
#[task(crate = mt)]
#[must_use]
pub fn greet(greeting: String, name: String) -> String {
    format!("{greeting}, {name}")
}

/// Counts the words of a set.
///
/// # Errors
///
/// Never in practice; the `?` shows a std error converting into `TaskError`.
#[task(crate = mt)]
pub fn count(words: HashSet<String>) -> Result<u32, TaskError> {
    Ok(u32::try_from(words.len())?)
}

/// Indexes files, tolerating one failure in four, and merges what was indexed.
#[workflow(crate = mt)]
pub fn index_all(paths: Vec<PathBuf>, config: IndexConfig) -> HashSet<String> {
    let indexes = map_task!(
        index_file,
        min_success_ratio = 0.75,
        concurrency = 4,
        config = config
    )(path = paths)
    .with_overrides(requests(cpu = "100m", mem = "64Mi"));
    merge(indexes)
}

/// Indexes files and counts the words, through the sub-workflow `index_all`.
#[workflow(crate = mt)]
pub fn count_words(paths: Vec<PathBuf>, config: IndexConfig) -> u32 {
    let words = index_all(paths, config);
    count(words)
}

/// Greets everyone with one name, binding the parameter `name` explicitly.
#[workflow(crate = mt)]
pub fn greet_all(greetings: Vec<String>, name: String) -> Vec<String> {
    map_task!(greet, bind(name = name), options(name = "greet-all"))(greeting = greetings)
}
