//! The local file system store: atomic writes, owner-only directories, clear errors.

use std::path::PathBuf;

use maptask_storage::{BlockingStorage, S3Config, Storage, StorageError, Uri};

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maptask-storage-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test]
async fn local_objects_round_trip_through_plain_paths_and_file_uris() {
    let dir = scratch("roundtrip");
    let storage = Storage::new(S3Config::new());
    let by_path = Uri::parse(dir.join("out/0/outputs.pb").to_str().unwrap()).unwrap();
    storage.put(&by_path, b"zero".to_vec()).await.unwrap();
    let by_uri = Uri::parse(&format!("file://{}/out/0/outputs.pb", dir.display())).unwrap();
    assert_eq!(&storage.get(&by_uri).await.unwrap()[..], b"zero");
    storage
        .put(&Uri::Local(dir.join("out/1/error.pb")), b"one".to_vec())
        .await
        .unwrap();
    let listed = storage.list(&Uri::Local(dir.join("out"))).await.unwrap();
    assert_eq!(
        listed.iter().map(|o| o.uri.clone()).collect::<Vec<_>>(),
        vec![
            Uri::Local(dir.join("out/0/outputs.pb")),
            Uri::Local(dir.join("out/1/error.pb"))
        ]
    );
    assert!(storage
        .list(&Uri::Local(dir.join("nothing-here")))
        .await
        .unwrap()
        .is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn directories_a_write_creates_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("private");
    let storage = Storage::new(S3Config::new());
    storage
        .put(&Uri::Local(dir.join("a/b/outputs.pb")), b"x".to_vec())
        .await
        .unwrap();
    for created in [dir.clone(), dir.join("a"), dir.join("a/b")] {
        let mode = std::fs::metadata(&created).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} has mode {mode:o}", created.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_missing_local_object_names_its_uri() {
    let dir = scratch("missing");
    let storage = Storage::new(S3Config::new());
    let uri = Uri::Local(dir.join("inputs.pb"));
    let error = storage.get(&uri).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("no object at file://{}/inputs.pb", dir.display())
    );
}

/// A reader never sees part of an object: every read returns one whole version.
#[test]
fn readers_never_see_a_partial_local_object() {
    let dir = scratch("atomic");
    let uri = Uri::Local(dir.join("outputs.pb"));
    let writer = BlockingStorage::new(S3Config::new()).unwrap();
    let versions: Vec<Vec<u8>> = (0u8..4).map(|v| vec![v; 4 << 20]).collect();
    writer.put(&uri, versions[0].clone()).unwrap();
    std::thread::scope(|scope| {
        let reader_uri = uri.clone();
        let reader = scope.spawn(move || {
            let storage = BlockingStorage::new(S3Config::new()).unwrap();
            let mut reads = 0;
            while reads < 40 {
                let bytes = storage.get(&reader_uri).unwrap();
                assert_eq!(bytes.len(), 4 << 20, "a partial object was visible");
                assert!(
                    bytes.iter().all(|b| *b == bytes[0]),
                    "a mixed object was visible"
                );
                reads += 1;
            }
        });
        for round in 0..20 {
            writer.put(&uri, versions[round % 4].clone()).unwrap();
        }
        reader.join().unwrap();
    });
    // No temporary file is left beside the object.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("outputs.pb")]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_blocking_api_refuses_to_run_inside_a_runtime() {
    let storage = BlockingStorage::new(S3Config::new()).unwrap();
    let uri = Uri::Local(scratch("inside").join("x"));
    let error = storage.get(&uri).unwrap_err();
    assert!(
        matches!(error, StorageError::InsideRuntime { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&uri.to_string()));
}
