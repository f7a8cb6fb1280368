//! The Rust equivalents of the fixture map tasks and workflows serialize to the templates that
//! flytekit 1.16.31 wrote (`tests/fixtures/templates`, `tests/fixtures/pyflyte-serialize`),
//! except the container args (our entrypoint, not `pyflyte-map-execute`) and
//! `metadata.runtime` (our SDK, not flytekit).

use std::path::PathBuf;

use maptask::flyte::proto::admin::{LaunchPlan, TaskSpec, WorkflowSpec};
use maptask::flyte::proto::core::{task_template, TaskTemplate, WorkflowTemplate};
use maptask::flyte::serialize::files::{Entity, Package};
use maptask::flyte::serialize::workflow::{
    workflow_template, NodeDef, Source, Target, WorkflowDef,
};
use maptask::flyte::serialize::{map_task_template, MapDef, Settings};
use maptask::flyte::{map_def, map_node};
use maptask::prelude::*;
use maptask::{Describe, Resources, TypeDesc};
use prost::Message;

#[task(name = "app.wf.my_mappable_task")]
fn my_mappable_task(a: i64) -> Option<String> {
    Some(a.to_string())
}

#[task(name = "app.wf.scale")]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[task(name = "app.wf.my_flaky_task")]
fn my_flaky_task(a: i64) -> Result<Option<String>, std::io::Error> {
    if a == 2 {
        return Err(std::io::Error::other(format!(
            "element a={a} failed on purpose"
        )));
    }
    Ok(Some(a.to_string()))
}

#[task(name = "app.wf.my_flaky_plain_task")]
fn my_flaky_plain_task(a: i64) -> Result<String, std::io::Error> {
    if a == 2 {
        return Err(std::io::Error::other(format!(
            "element a={a} failed on purpose"
        )));
    }
    Ok(a.to_string())
}

fn fixture(path: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixtures' serialization settings.
fn settings() -> Settings {
    Settings {
        project: "flytesnacks".into(),
        domain: "development".into(),
        version: "v1".into(),
        image: "localhost:30000/maptask:v1".into(),
        binary: "/usr/local/bin/app".into(),
    }
}

/// The template without what legitimately differs: container args and `metadata.runtime`.
fn masked(mut t: TaskTemplate) -> TaskTemplate {
    if let Some(task_template::Target::Container(c)) = &mut t.target {
        c.args.clear();
    }
    if let Some(m) = &mut t.metadata {
        m.runtime = None;
    }
    t
}

/// The four fixture maps: fixture file stem and definition.
fn maps() -> Vec<(&'static str, MapDef)> {
    let seed = map_task!(
        my_mappable_task,
        retries = 1,
        concurrency = 10,
        min_success_ratio = 0.75
    );
    let scale = map_task!(scale, concurrency = 4, factor = 10);
    let flaky = map_task!(my_flaky_task, concurrency = 10, min_success_ratio = 0.5);
    let plain = map_task!(
        my_flaky_plain_task,
        concurrency = 10,
        min_success_ratio = 0.5
    );
    vec![
        ("my_mappable_task", map_def(&seed).unwrap()),
        ("scale", map_def(&scale).unwrap()),
        ("my_flaky_task", map_def(&flaky).unwrap()),
        ("my_flaky_plain_task", map_def(&plain).unwrap()),
    ]
}

#[test]
fn map_task_templates_equal_flytekits() {
    for (stem, def) in maps() {
        let ours = map_task_template(&def, &settings()).unwrap();
        let theirs = TaskTemplate::decode(
            fixture(&format!("templates/map_{stem}.task_template.pb")).as_slice(),
        )
        .unwrap();
        assert_eq!(masked(ours.clone()), masked(theirs), "{stem}");
        // The masked parts: our entrypoint, and a runtime that names this SDK.
        let Some(task_template::Target::Container(c)) = &ours.target else {
            panic!("{stem}: no container")
        };
        assert_eq!(c.args[..2], ["/usr/local/bin/app", "map-execute"], "{stem}");
        assert_eq!(c.args.last().unwrap(), &format!("app.wf.{stem}"));
        assert_eq!(ours.metadata.unwrap().runtime.unwrap().flavor, "rust");
    }
}

/// The fixture workflow of each map: one node `n0` binding the mapped input to the workflow's
/// `x` and each bound value to its literal, as `maptask::flyte::map_node` builds it.
fn workflow(stem: &str, node: NodeDef, output: TypeDesc) -> WorkflowDef {
    let wf_name = match stem {
        "my_mappable_task" => "app.wf.my_wf",
        "scale" => "app.wf.scale_wf",
        "my_flaky_task" => "app.wf.flaky_wf",
        _ => "app.wf.flaky_plain_wf",
    };
    WorkflowDef {
        name: wf_name.into(),
        inputs: vec![("x".into(), Vec::<i64>::type_desc())],
        output,
        nodes: vec![node],
        output_source: Some(Source::Node("n0".into())),
    }
}

/// The four fixture workflows.
fn workflows() -> Vec<(&'static str, WorkflowDef)> {
    let x = || Source::Input("x".into());
    let seed = map_task!(
        my_mappable_task,
        retries = 1,
        concurrency = 10,
        min_success_ratio = 0.75
    );
    let mut seed_node = map_node("n0", &seed, [("a", x())]).unwrap();
    // .with_overrides(requests=Resources(cpu="10M"))
    seed_node.requests = Resources {
        cpu: Some("10M"),
        ..Resources::NONE
    };
    let scale = map_task!(scale, concurrency = 4, factor = 10);
    let flaky = map_task!(my_flaky_task, concurrency = 10, min_success_ratio = 0.5);
    let plain = map_task!(
        my_flaky_plain_task,
        concurrency = 10,
        min_success_ratio = 0.5
    );
    vec![
        (
            "my_mappable_task",
            workflow("my_mappable_task", seed_node, seed.interface().output),
        ),
        (
            "scale",
            workflow(
                "scale",
                map_node("n0", &scale, [("x", x())]).unwrap(),
                scale.interface().output,
            ),
        ),
        (
            "my_flaky_task",
            workflow(
                "my_flaky_task",
                map_node("n0", &flaky, [("a", x())]).unwrap(),
                flaky.interface().output,
            ),
        ),
        (
            "my_flaky_plain_task",
            workflow(
                "my_flaky_plain_task",
                map_node("n0", &plain, [("a", x())]).unwrap(),
                plain.interface().output,
            ),
        ),
    ]
}

#[test]
fn workflow_templates_equal_flytekits() {
    for (_, wf) in workflows() {
        let (ours, tasks) = workflow_template(&wf, &settings()).unwrap();
        let file = wf.name.trim_start_matches("app.wf.");
        let theirs = WorkflowTemplate::decode(
            fixture(&format!("templates/{file}.workflow_template.pb")).as_slice(),
        )
        .unwrap();
        assert_eq!(ours, theirs, "{file}");
        assert_eq!(tasks.len(), 1);
    }
}

#[test]
fn serialized_files_equal_pyflyte_serialize() {
    // pyflyte serialize also writes the plain tasks (00, 04, 08, 12); a Rust map runs its task
    // in-process, so only the map task, the workflow and its launch plan are written.
    let settings = Settings {
        project: String::new(),
        domain: String::new(),
        version: String::new(),
        ..settings()
    };
    let mut package = Package::new();
    let mut expected = Vec::new();
    for (k, (_, wf)) in workflows().into_iter().enumerate() {
        let (template, tasks) = workflow_template(&wf, &settings).unwrap();
        package.add_workflow(template, tasks);
        let base = 4 * k;
        let map_name = wf.nodes[0].target_name();
        expected.push(format!("{:02}_{map_name}_1.pb", base + 1));
        expected.push(format!("{:02}_{}_2.pb", base + 2, wf.name));
        expected.push(format!("{:02}_{}_3.pb", base + 3, wf.name));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("flyte-serialize");
    let _ = std::fs::remove_dir_all(&dir);
    let written = package.write(&dir).unwrap();
    assert_eq!(written.len(), 12);
    for (path, theirs_name) in written.iter().zip(&expected) {
        let ours = std::fs::read(path).unwrap();
        let theirs = fixture(&format!("pyflyte-serialize/{theirs_name}"));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Same entity name and kind; the index differs by the plain tasks we do not write.
        assert_eq!(name[3..], theirs_name[3..]);
        match name.as_bytes()[name.len() - 4] {
            b'1' => {
                let mut o = TaskSpec::decode(ours.as_slice()).unwrap();
                let mut t = TaskSpec::decode(theirs.as_slice()).unwrap();
                o.template = o.template.map(masked);
                t.template = t.template.map(masked);
                assert_eq!(o, t, "{name}");
            }
            b'2' => assert_eq!(
                WorkflowSpec::decode(ours.as_slice()).unwrap(),
                WorkflowSpec::decode(theirs.as_slice()).unwrap(),
                "{name}"
            ),
            _ => assert_eq!(
                LaunchPlan::decode(ours.as_slice()).unwrap(),
                LaunchPlan::decode(theirs.as_slice()).unwrap(),
                "{name}"
            ),
        }
    }
    assert!(matches!(package.entities()[0], Entity::Task(_)));
}

trait TargetName {
    fn target_name(&self) -> String;
}

impl TargetName for NodeDef {
    fn target_name(&self) -> String {
        match &self.target {
            Target::Map(m) => m.flyte_name(),
            Target::Task(t) => t.flyte_name(),
        }
    }
}

#[test]
fn plain_task_template_equals_flytekits_but_for_its_type() {
    use maptask::flyte::serialize::task_template;
    let ours = task_template(&maptask::flyte::task_def::<scale>(), &settings()).unwrap();
    let theirs = TaskSpec::decode(fixture("pyflyte-serialize/04_app.wf.scale_1.pb").as_slice())
        .unwrap()
        .template
        .unwrap();
    let Some(task_template::Target::Container(c)) = &ours.target else {
        panic!("no container")
    };
    assert_eq!(c.args[..2], ["/usr/local/bin/app", "execute"]);
    // flytekit's own task type is `python-task`; ours is a plain `container` task. Both are run
    // by propeller's container plugin. pyflyte serialize leaves the id's coordinates empty.
    let mut ours = masked(ours);
    ours.r#type = "python-task".into();
    ours.id = ours.id.map(|id| maptask::flyte::proto::core::Identifier {
        project: String::new(),
        domain: String::new(),
        version: String::new(),
        ..id
    });
    assert_eq!(ours, masked(theirs));
}

/// Every option of `#[task]` that Flyte has a place for.
#[task(
    name = "app.wf.fetch",
    retries = 3,
    timeout = "1m30s",
    cache = "1.2",
    interruptible = true,
    requests(cpu = "500m", mem = "1Gi"),
    limits(mem = "2Gi", gpu = "1"),
    env(RUST_LOG = "info", A = "b")
)]
fn fetch(url: String) -> Vec<u8> {
    url.into_bytes()
}

#[test]
fn task_metadata_resources_and_env_map_to_flyte() {
    use maptask::flyte::proto::core::{resources::ResourceName, task_metadata, KeyValuePair};
    use maptask::flyte::serialize::task_template;
    let map = map_task!(fetch, retries = 1, concurrency = 2, min_successes = 3);
    let t = map_task_template(&map_def(&map).unwrap(), &settings()).unwrap();
    let m = t.metadata.unwrap();
    assert_eq!(m.retries.unwrap().retries, 1, "the map's retries");
    assert_eq!(
        m.timeout,
        Some(prost_types::Duration {
            seconds: 90,
            nanos: 0
        })
    );
    assert!(m.discoverable);
    assert_eq!(m.discovery_version, "1.2");
    assert_eq!(
        m.interruptible_value,
        Some(task_metadata::InterruptibleValue::Interruptible(true))
    );
    // min_successes is the oneof's other member, an int64 (a string in protobuf JSON).
    let custom = t.custom.unwrap();
    assert_eq!(
        custom.fields.keys().collect::<Vec<_>>(),
        ["minSuccesses", "parallelism"]
    );
    assert_eq!(
        custom.fields["minSuccesses"].kind,
        Some(prost_types::value::Kind::StringValue("3".into()))
    );
    let Some(task_template::Target::Container(c)) = t.target else {
        panic!("no container")
    };
    let r = c.resources.unwrap();
    let entries = |v: &[maptask::flyte::proto::core::resources::ResourceEntry]| {
        v.iter()
            .map(|e| (e.name(), e.value.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entries(&r.requests),
        [
            (ResourceName::Cpu, "500m".into()),
            (ResourceName::Memory, "1Gi".into())
        ]
    );
    assert_eq!(
        entries(&r.limits),
        [
            (ResourceName::Memory, "2Gi".into()),
            (ResourceName::Gpu, "1".into())
        ]
    );
    let kv = |k: &str, v: &str| KeyValuePair {
        key: k.into(),
        value: v.into(),
    };
    assert_eq!(c.env, [kv("RUST_LOG", "info"), kv("A", "b")]);
    // Vec<u8> is a list of integers: flytekit would pickle `bytes`.
    let out = &t.interface.unwrap().outputs.unwrap().variables["o0"];
    let plain = task_template(&maptask::flyte::task_def::<fetch>(), &settings()).unwrap();
    assert_eq!(
        plain.metadata.unwrap().retries.unwrap().retries,
        3,
        "the task's own retries"
    );
    let expected =
        maptask::flyte::literal::literal_type(&Vec::<Option<Vec<i64>>>::type_desc()).unwrap();
    assert_eq!(out.r#type.as_ref(), Some(&expected));
}

/// Cached, with one input left out of the key.
#[task(name = "app.wf.cached", cache = "3.1", cache_ignore = ["verbose"])]
fn cached(x: i64, verbose: bool) -> i64 {
    let _ = verbose;
    x
}

#[test]
fn cached_tasks_are_discoverable_with_their_version_and_ignored_inputs() {
    // Flyte's datacatalog caches each element of a map by the inner task's cache key: the
    // template must say the task is discoverable, at which version, and what the key ignores.
    use maptask::flyte::serialize::task_template;
    let plain = task_template(&maptask::flyte::task_def::<cached>(), &settings()).unwrap();
    let map = map_task!(cached, concurrency = 2, verbose = true);
    let mapped = map_task_template(&map_def(&map).unwrap(), &settings()).unwrap();
    for t in [plain, mapped] {
        let m = t.metadata.unwrap();
        assert!(m.discoverable);
        assert_eq!(m.discovery_version, "3.1");
        assert_eq!(m.cache_ignore_input_vars, ["verbose"]);
        assert!(!m.cache_serializable);
    }
    // An uncached task is not discoverable.
    let m = task_template(&maptask::flyte::task_def::<scale>(), &settings())
        .unwrap()
        .metadata
        .unwrap();
    assert!(!m.discoverable);
    assert_eq!(m.discovery_version, "");
    assert!(m.cache_ignore_input_vars.is_empty());
}
