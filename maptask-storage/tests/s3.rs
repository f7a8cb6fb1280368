//! Against a real S3-compatible server on localhost (started by `.ci/setup.d/30-cloud.sh`).
//!
//! Reads `MAPTASK_S3_ENDPOINT`, `MAPTASK_S3_BUCKET`, `MAPTASK_S3_ACCESS_KEY_ID` and
//! `MAPTASK_S3_SECRET_ACCESS_KEY`. Without them the tests skip loudly, and fail under
//! `MAPTASK_CI=1`.

use maptask_storage::{BlockingStorage, S3Config, Secret, Storage, StorageError, Uri};

struct Server {
    endpoint: String,
    bucket: String,
    key_id: String,
    secret: String,
}

fn server() -> Option<Server> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("MAPTASK_S3_ENDPOINT"),
        var("MAPTASK_S3_BUCKET"),
        var("MAPTASK_S3_ACCESS_KEY_ID"),
        var("MAPTASK_S3_SECRET_ACCESS_KEY"),
    ) {
        (Some(endpoint), Some(bucket), Some(key_id), Some(secret)) => Some(Server {
            endpoint,
            bucket,
            key_id,
            secret,
        }),
        _ if std::env::var("MAPTASK_CI").as_deref() == Ok("1") => panic!(
            "MAPTASK_CI=1 but no S3 server: set MAPTASK_S3_ENDPOINT, MAPTASK_S3_BUCKET, \
             MAPTASK_S3_ACCESS_KEY_ID and MAPTASK_S3_SECRET_ACCESS_KEY (.ci/setup.d/30-cloud.sh does)"
        ),
        _ => {
            eprintln!("SKIPPED: no S3 server configured (MAPTASK_S3_ENDPOINT unset); run .ci/setup.d/30-cloud.sh");
            None
        }
    }
}

impl Server {
    fn config(&self) -> S3Config {
        S3Config::new()
            .with_endpoint(&self.endpoint)
            .with_credentials(&self.key_id, Secret::new(&self.secret))
            .with_region("us-east-1")
    }

    /// A prefix no other test run uses.
    fn prefix(&self, test: &str) -> Uri {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Uri::parse(&format!(
            "s3://{}/tests/{test}-{}-{nanos}",
            self.bucket,
            std::process::id()
        ))
        .unwrap()
    }

    /// The error's `Display` and `Debug` name `uri` and never contain the secret key.
    fn check_error(&self, error: &StorageError, uri: &str) {
        let display = error.to_string();
        let debug = format!("{error:?}");
        assert!(display.contains(uri), "`{display}` does not name {uri}");
        assert!(
            !display.contains(&self.secret),
            "secret in Display: {display}"
        );
        assert!(!debug.contains(&self.secret), "secret in Debug: {debug}");
    }
}

#[tokio::test]
async fn objects_are_written_read_back_and_listed() {
    let Some(server) = server() else { return };
    let storage = Storage::new(server.config());
    let prefix = server.prefix("roundtrip");
    let inputs = prefix.join("inputs.pb").unwrap();
    storage.put(&inputs, b"whole lists".to_vec()).await.unwrap();
    for i in [2, 0, 1] {
        let uri = prefix.join(&format!("out/{i}/outputs.pb")).unwrap();
        storage.put(&uri, vec![i as u8; i + 1]).await.unwrap();
    }
    assert_eq!(&storage.get(&inputs).await.unwrap()[..], b"whole lists");
    let out = prefix.join("out").unwrap();
    let listed = storage.list(&out).await.unwrap();
    let keys: Vec<String> = listed.iter().map(|o| o.uri.to_string()).collect();
    assert_eq!(
        keys,
        (0..3)
            .map(|i| format!("{prefix}/out/{i}/outputs.pb"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        listed.iter().map(|o| o.size).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    // A listing is by path segment: `out` does not list `outputs-elsewhere`.
    storage
        .put(&prefix.join("outx/0").unwrap(), b"x".to_vec())
        .await
        .unwrap();
    assert_eq!(storage.list(&out).await.unwrap().len(), 3);
    assert!(storage.exists(&inputs).await.unwrap());
    assert!(!storage
        .exists(&prefix.join("nothing").unwrap())
        .await
        .unwrap());
    // A put replaces the whole object.
    storage.put(&inputs, b"v2".to_vec()).await.unwrap();
    assert_eq!(&storage.get(&inputs).await.unwrap()[..], b"v2");
    assert!(storage
        .list(&prefix.join("empty").unwrap())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_missing_object_is_not_found_and_names_its_uri() {
    let Some(server) = server() else { return };
    let storage = Storage::new(server.config());
    let uri = server.prefix("missing").join("0/outputs.pb").unwrap();
    let error = storage.get(&uri).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error:?}");
    server.check_error(&error, &uri.to_string());
    assert_eq!(error.to_string(), format!("no object at {uri}"));
}

#[tokio::test]
async fn a_missing_bucket_is_named() {
    let Some(server) = server() else { return };
    let storage = Storage::new(server.config());
    let uri = Uri::parse("s3://maptask-no-such-bucket/run/inputs.pb").unwrap();
    let error = storage.get(&uri).await.unwrap_err();
    assert!(
        matches!(&error, StorageError::BucketNotFound { bucket, .. } if bucket == "maptask-no-such-bucket"),
        "{error:?}"
    );
    server.check_error(&error, "s3://maptask-no-such-bucket/run/inputs.pb");
    for error in [
        storage.put(&uri, b"x".to_vec()).await.unwrap_err(),
        storage
            .list(&Uri::parse("s3://maptask-no-such-bucket/run").unwrap())
            .await
            .unwrap_err(),
    ] {
        assert!(
            matches!(&error, StorageError::BucketNotFound { .. }),
            "{error:?}"
        );
        server.check_error(&error, "s3://maptask-no-such-bucket/run");
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_names_the_uri_and_the_endpoint_but_not_the_secret() {
    let Some(server) = server() else { return };
    // Port 1 on localhost: nothing listens there, so the connection is refused at once.
    let config = server
        .config()
        .with_endpoint("http://127.0.0.1:1")
        .with_max_retries(1);
    let storage = Storage::new(config);
    let uri = Uri::parse(&format!("s3://{}/run/inputs.pb", server.bucket)).unwrap();
    let started = std::time::Instant::now();
    let error = storage.get(&uri).await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(&error, StorageError::Unreachable { endpoint, .. } if endpoint == "http://127.0.0.1:1"),
        "{error:?}"
    );
    server.check_error(&error, &uri.to_string());
    let error = storage.put(&uri, b"x".to_vec()).await.unwrap_err();
    server.check_error(&error, &uri.to_string());
    assert!(format!("{storage:?}").contains("[redacted]"));
    assert!(!format!("{storage:?}").contains(&server.secret));
}

#[test]
fn the_blocking_wrapper_reads_and_writes_s3() {
    let Some(server) = server() else { return };
    let storage = BlockingStorage::new(server.config()).unwrap();
    let prefix = server.prefix("blocking");
    let uri = prefix.join("0/outputs.pb").unwrap();
    storage.put(&uri, b"element".to_vec()).unwrap();
    assert_eq!(&storage.get(&uri).unwrap()[..], b"element");
    assert_eq!(storage.list(&prefix).unwrap().len(), 1);
    let error = storage
        .get(&prefix.join("1/outputs.pb").unwrap())
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn a_wrong_secret_is_denied_and_neither_secret_is_printed() {
    let Some(server) = server() else { return };
    let wrong = format!("{}-but-wrong", server.secret);
    let config = server
        .config()
        .with_credentials(&server.key_id, Secret::new(&wrong));
    let storage = Storage::new(config);
    let uri = Uri::parse(&format!("s3://{}/run/inputs.pb", server.bucket)).unwrap();
    for error in [
        storage.get(&uri).await.unwrap_err(),
        storage.put(&uri, b"x".to_vec()).await.unwrap_err(),
    ] {
        assert!(matches!(error, StorageError::Denied { .. }), "{error:?}");
        server.check_error(&error, &uri.to_string());
        assert!(!format!("{error} {error:?}").contains(&wrong));
    }
}
