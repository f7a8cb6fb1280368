//! `map-execute` and `collect` with `s3://` inputs and outputs, against a real S3-compatible
//! server (started by `.ci/setup.d/30-cloud.sh`, which exports `MAPTASK_S3_ENDPOINT`,
//! `MAPTASK_S3_BUCKET`, `MAPTASK_S3_ACCESS_KEY_ID` and `MAPTASK_S3_SECRET_ACCESS_KEY`). Skips
//! loudly without one, and fails under `MAPTASK_CI=1`.

use std::collections::BTreeMap;

use maptask_storage::{BlockingStorage, S3Config, Secret, Uri};

use crate::common::*;

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
        _ if ci() => panic!(
            "MAPTASK_CI=1 but no S3 server: MAPTASK_S3_ENDPOINT and the rest are unset (.ci/setup.d/30-cloud.sh sets them)"
        ),
        _ => {
            eprintln!("\n*** SKIPPED the S3 entrypoint test: no S3 server (run `source .ci/setup.d/30-cloud.sh`) ***\n");
            None
        }
    }
}

#[test]
fn map_execute_and_collect_read_and_write_s3() {
    let Some(server) = server() else { return };
    let store = BlockingStorage::new(
        S3Config::new()
            .with_endpoint(&server.endpoint)
            .with_credentials(&server.key_id, Secret::new(&server.secret))
            .with_region("us-east-1"),
    )
    .unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let root = format!(
        "s3://{}/flyte-entrypoint/{}-{nanos}",
        server.bucket,
        std::process::id()
    );
    let uri = |rel: &str| Uri::parse(&format!("{root}/{rel}")).unwrap();
    store
        .put(&uri("inputs.pb"), fixture("inputs/my_flaky_task.inputs.pb"))
        .unwrap();
    // The child reads its S3 configuration from the standard AWS variables.
    let aws_env = BTreeMap::from([
        ("AWS_ENDPOINT_URL".to_owned(), server.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID".to_owned(), server.key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), server.secret.clone()),
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ALLOW_HTTP".to_owned(), "true".to_owned()),
    ]);
    let args = map_args(
        &format!("{root}/inputs.pb"),
        &format!("{root}/out"),
        "",
        "app.wf.my_flaky_task",
    );
    let cwd = std::env::temp_dir();
    for i in 0..3 {
        let mut env = k8s_env(i);
        env.extend(aws_env.clone());
        let output = run(&args, &env, &cwd);
        assert_eq!(output.status.code(), Some(0), "{i}: {}", stderr(&output));
    }
    for i in [0, 2] {
        let ours = store.get(&uri(&format!("out/{i}/outputs.pb"))).unwrap();
        let theirs = fixture(&format!("runs/my_flaky_task/out/{i}/outputs.pb"));
        assert_eq!(literal_map(&ours), literal_map(&theirs));
    }
    let error = error_document(&store.get(&uri("out/1/error.pb")).unwrap())
        .error
        .unwrap();
    assert_eq!(error.code, "USER:RuntimeError");

    let collect_args: Vec<String> = [
        "collect",
        "--output-prefix",
        &format!("{root}/out"),
        "--size",
        "3",
        "--min-successes",
        "2",
        "--task-name",
        "app.wf.my_flaky_task",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let output = run(&collect_args, &aws_env, &cwd);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let aggregate = store.get(&uri("out/outputs.pb")).unwrap();
    assert_eq!(
        aggregate.as_ref(),
        fixture("aggregate/my_flaky_task.outputs_k8s_array.pb").as_slice()
    );
}
