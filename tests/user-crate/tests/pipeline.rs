//! The pipeline run as a user runs it: workflows called as functions, maps called directly.
#![deny(warnings, clippy::pedantic)]

use std::collections::HashSet;
use std::path::PathBuf;

use mt::{map_task, Task, TypeDesc};
use user_crate::{count_words, greet, greet_all, index_all, index_file, IndexConfig};

fn config() -> IndexConfig {
    IndexConfig {
        min_word_len: 3,
        stop_words: HashSet::from(["the".to_owned()]),
    }
}

/// Three files, one of them empty, in a fresh directory.
fn files(tag: &str) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("maptask-user-crate-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let contents = ["the quick brown fox", "the lazy dog and the fox", "   "];
    contents
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.join(format!("{i}.txt"));
            std::fs::write(&path, text).expect("a temporary file");
            path
        })
        .collect()
}

#[tokio::test]
async fn a_workflow_is_called_as_a_function() -> anyhow::Result<()> {
    let paths = files("wf");
    let words = index_all(paths[..2].to_vec(), config()).await?;
    let expected: HashSet<String> = ["quick", "brown", "fox", "lazy", "dog", "and"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(words, expected);
    assert_eq!(count_words(paths[..2].to_vec(), config()).await?, 6);
    assert_eq!(index_all::graph().nodes.len(), 2);
    Ok(())
}

#[tokio::test]
async fn a_tolerant_map_with_a_bound_config_skips_the_bad_file() -> anyhow::Result<()> {
    let mut paths = files("map");
    paths.push(PathBuf::from("/no/such/file"));
    let out = map_task!(index_file, min_success_ratio = 0.5, config = config())
        .call(paths)
        .await?;
    assert_eq!(out.iter().filter(|o| o.is_some()).count(), 2);
    assert!(out[2].is_none(), "the empty file failed");
    assert!(out[3].is_none(), "the missing file failed");
    Ok(())
}

#[tokio::test]
async fn a_strict_map_reports_each_cause_once() {
    let error = map_task!(index_file, config = config())
        .call(vec![PathBuf::from("/no/such/file")])
        .await
        .expect_err("the file is missing");
    let text = format!("{:#}", anyhow::Error::from(error));
    assert!(text.contains("reading `/no/such/file`: "), "{text}");
    assert_eq!(text.matches("reading").count(), 1, "{text}");
}

#[tokio::test]
async fn a_parameter_named_name_is_bound_in_a_map() -> anyhow::Result<()> {
    let hello = map_task!(greet, bind(name = "Bob".to_owned()));
    assert_eq!(
        hello.call(vec!["hi".to_owned()]).await?,
        vec!["hi, Bob".to_owned()]
    );
    assert_eq!(
        greet_all(vec!["yo".to_owned()], "Al".to_owned()).await?,
        vec!["yo, Al".to_owned()]
    );
    assert_eq!(greet("hey".to_owned(), "Cy".to_owned()), "hey, Cy");
    Ok(())
}

#[test]
fn derived_types_and_std_types_are_described() {
    let interface = <index_file as Task>::interface();
    assert_eq!(interface.inputs[0].ty, TypeDesc::Path);
    let TypeDesc::Struct { name, fields } = &interface.inputs[1].ty else {
        panic!("a derived struct")
    };
    assert_eq!(name, "IndexConfig");
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["minWordLen", "stopWords"]);
    assert_eq!(
        fields[1].ty,
        TypeDesc::Set {
            of: Box::new(TypeDesc::String)
        }
    );
    // The names serde writes are the ones described.
    let json = serde_json::to_value(config()).expect("serializes");
    let mut written: Vec<&String> = json.as_object().expect("an object").keys().collect();
    written.sort();
    assert_eq!(written, ["minWordLen", "stopWords"]);
}
