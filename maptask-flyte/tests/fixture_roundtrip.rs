//! Every protobuf file that flytekit 1.16.31 wrote in `tests/fixtures` decodes with the
//! generated types and re-encodes to the same bytes. prost drops unknown fields, so byte
//! equality also proves that no field of the fixtures is missing from the generated code.

use std::path::{Path, PathBuf};

use maptask_flyte::proto::{admin, core};
use prost::Message;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "pb") {
            out.push(path);
        }
    }
}

/// Decodes as `M`, re-encodes, and returns the re-encoded bytes and the message decoded from them.
fn reencode<M: Message + Default + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    path: &Path,
) -> Vec<u8> {
    let msg = M::decode(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let again = msg.encode_to_vec();
    assert_eq!(
        M::decode(again.as_slice()).unwrap(),
        msg,
        "{}",
        path.display()
    );
    again
}

/// The message type of a fixture file, from its place in the folder (see the fixtures' README).
fn reencode_by_kind(path: &Path, bytes: &[u8]) -> Vec<u8> {
    let rel = path
        .strip_prefix(fixtures())
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    if name.ends_with(".task_template.pb") {
        reencode::<core::TaskTemplate>(bytes, path)
    } else if name.ends_with(".workflow_template.pb") {
        reencode::<core::WorkflowTemplate>(bytes, path)
    } else if rel.starts_with("pyflyte-serialize/") && name.ends_with("_1.pb") {
        reencode::<admin::TaskSpec>(bytes, path)
    } else if rel.starts_with("pyflyte-serialize/") && name.ends_with("_2.pb") {
        reencode::<admin::WorkflowSpec>(bytes, path)
    } else if rel.starts_with("pyflyte-serialize/") && name.ends_with("_3.pb") {
        reencode::<admin::LaunchPlan>(bytes, path)
    } else if name.ends_with(".workflow_spec.pb") {
        // `subworkflow/`: written by flytekit for the sub-workflow test (see `subwf.py`).
        reencode::<admin::WorkflowSpec>(bytes, path)
    } else if name == "error.pb" {
        reencode::<core::ErrorDocument>(bytes, path)
    } else if name == "outputs.pb" || rel.starts_with("inputs/") || rel.starts_with("aggregate/") {
        reencode::<core::LiteralMap>(bytes, path)
    } else {
        panic!("{rel}: no message type known for this fixture");
    }
}

const UNSORTED_BY_FLYTEKIT: [&str; 2] = [
    "pyflyte-serialize/04_app.wf.scale_1.pb",
    "pyflyte-serialize/05_app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d_1.pb",
];

#[test]
fn every_fixture_reencodes_byte_identically() {
    let mut files = Vec::new();
    walk(&fixtures(), &mut files);
    files.sort();
    // The 49 files of the shared fixtures, plus the sub-workflow's WorkflowSpec.
    assert!(
        files.len() == 50,
        "expected the 50 fixture .pb files, found {}",
        files.len()
    );
    let mut differ = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let again = reencode_by_kind(path, &bytes);
        let rel = path.strip_prefix(fixtures()).unwrap().display().to_string();
        if again != bytes {
            // Same fields, other map-entry order: still the same length.
            assert_eq!(again.len(), bytes.len(), "{rel}");
            differ.push(rel);
        }
    }
    // pyflyte serialize writes the interface map of `scale` as {x, factor}, unsorted (the
    // fixtures' README); everything else flytekit wrote is already in key order.
    assert_eq!(
        differ, UNSORTED_BY_FLYTEKIT,
        "fixtures whose re-encoded bytes differ"
    );
}
