//! The checked-in code under `src/proto/` is exactly what prost-build generates from the
//! vendored flyteidl 1.16.8 descriptors. Regenerate with
//! `MAPTASK_REGEN_PROTO=1 cargo test -p maptask-flyte --test proto_codegen`.

use std::path::{Path, PathBuf};

use prost::Message;
use prost_types::FileDescriptorSet;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// core + plugins from the .proto sources (with their comments, which become doc comments),
/// admin from the descriptor set extracted from the flyteidl 1.16.8 wheel (the only place
/// the admin messages are vendored).
fn descriptors() -> FileDescriptorSet {
    let proto = crate_dir().join("proto");
    let mut files: Vec<String> = std::fs::read_dir(proto.join("flyteidl/core"))
        .unwrap()
        .map(|e| format!("flyteidl/core/{}", e.unwrap().file_name().to_string_lossy()))
        .filter(|f| f.ends_with(".proto"))
        .collect();
    files.push("flyteidl/plugins/array_job.proto".into());
    files.sort();
    let mut compiler = protox::Compiler::new([&proto]).expect("protox compiler");
    compiler.include_imports(true).include_source_info(true);
    compiler
        .open_files(&files)
        .expect("vendored .proto files compile");
    let mut fds = compiler.file_descriptor_set();

    let wheel = std::fs::read(proto.join("flyteidl-1.16.8.fds.pb")).unwrap();
    let wheel = FileDescriptorSet::decode(wheel.as_slice()).expect("wheel descriptor set decodes");
    let have: Vec<String> = fds.file.iter().map(|f| f.name().to_owned()).collect();
    for file in wheel.file {
        if file.name().starts_with("flyteidl/admin/") {
            assert!(!have.contains(&file.name().to_owned()));
            fds.file.push(file);
        }
    }
    fds
}

fn generate(out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    prost_build::Config::new()
        .btree_map(["."])
        .out_dir(out)
        .compile_fds(descriptors())
        .expect("prost-build generates");
}

#[test]
fn checked_in_code_matches_generator() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("maptask-flyte-proto");
    let _ = std::fs::remove_dir_all(&tmp);
    generate(&tmp);
    let checked_in = crate_dir().join("src/proto");
    let regen = std::env::var_os("MAPTASK_REGEN_PROTO").is_some();
    let mut names: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    let mut stale = Vec::new();
    for name in &names {
        let fresh = std::fs::read_to_string(tmp.join(name)).unwrap();
        let path = checked_in.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(fresh.as_str()) {
            if regen {
                std::fs::write(&path, &fresh).unwrap();
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    // A generated file that the generator no longer produces is stale too.
    for entry in std::fs::read_dir(&checked_in).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().ends_with(".rs") && !names.contains(&name) {
            stale.push(checked_in.join(name).display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "generated flyteidl code is out of date: {stale:?}; run \
         MAPTASK_REGEN_PROTO=1 cargo test -p maptask-flyte --test proto_codegen"
    );
}
