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
            Target::Workflow(w) => w.name.clone(),
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

// --- `#[workflow]` → WorkflowTemplate, through the macro -------------------------------------

/// `my_wf` of the fixtures: the seed's map, with a node-level resource request.
#[workflow(name = "app.wf.my_wf")]
fn my_wf(x: Vec<i64>) -> Vec<Option<Option<String>>> {
    map_task!(
        my_mappable_task,
        retries = 1,
        concurrency = 10,
        min_success_ratio = 0.75
    )(a = x)
    .with_overrides(requests(cpu = "10M"))
}

/// `scale_wf`: a bound constant.
#[workflow(name = "app.wf.scale_wf")]
fn scale_wf(x: Vec<i64>) -> Vec<i64> {
    map_task!(scale, concurrency = 4, factor = 10)(x = x)
}

/// `flaky_wf`.
#[workflow(name = "app.wf.flaky_wf")]
fn flaky_wf(x: Vec<i64>) -> Vec<Option<Option<String>>> {
    map_task!(my_flaky_task, concurrency = 10, min_success_ratio = 0.5)(a = x)
}

/// `flaky_plain_wf`.
#[workflow(name = "app.wf.flaky_plain_wf")]
fn flaky_plain_wf(x: Vec<i64>) -> Vec<Option<String>> {
    map_task!(
        my_flaky_plain_task,
        concurrency = 10,
        min_success_ratio = 0.5
    )(a = x)
}

#[test]
fn workflow_macro_templates_equal_flytekits() {
    use maptask::flyte::workflow_def;
    let defs = [
        workflow_def::<my_wf>().unwrap(),
        workflow_def::<scale_wf>().unwrap(),
        workflow_def::<flaky_wf>().unwrap(),
        workflow_def::<flaky_plain_wf>().unwrap(),
    ];
    for ((_, by_hand), from_macro) in workflows().into_iter().zip(defs) {
        // The definition the macro builds is the one written by hand for the fixtures…
        assert_eq!(from_macro, by_hand, "{}", by_hand.name);
        // …so its template is flytekit's, and the registry finds it by name.
        let (ours, _) = workflow_template(&from_macro, &settings()).unwrap();
        let file = from_macro.name.trim_start_matches("app.wf.");
        let theirs = WorkflowTemplate::decode(
            fixture(&format!("templates/{file}.workflow_template.pb")).as_slice(),
        )
        .unwrap();
        assert_eq!(ours, theirs, "{file}");
        let registered = maptask::flyte::registry::workflow_def(&from_macro.name)
            .expect("registered")
            .unwrap();
        assert_eq!(registered, from_macro);
    }
}

#[task(name = "app.wf.total")]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// Constants everywhere a value goes: a `let` constant bound in a map, literal task arguments,
/// and a node output passed on.
#[workflow(name = "app.wf.const_wf")]
fn const_wf(xs: Vec<i64>) -> i64 {
    let k = 3;
    let scaled = map_task!(scale, concurrency = 2, factor = k)(x = xs);
    let seven = scale(7, 10);
    let sum = total(scaled);
    scale(x = sum, factor = seven)
}

fn literal_int(v: i64) -> Source {
    use maptask::flyte::literal::to_literal;
    Source::Literal(Box::new(to_literal(&v, &i64::type_desc()).unwrap()))
}

#[test]
fn workflow_macro_binds_constants_inputs_and_outputs() {
    let def = maptask::flyte::workflow_def::<const_wf>().unwrap();
    let ids: Vec<&str> = def.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["scaled", "seven", "sum", "n3"]);
    let input = |n: usize| def.nodes[n].inputs.clone();
    assert_eq!(
        input(0),
        [
            ("x".to_owned(), Source::Input("xs".into())),
            ("factor".to_owned(), literal_int(3))
        ]
    );
    assert_eq!(
        input(1),
        [
            ("x".to_owned(), literal_int(7)),
            ("factor".to_owned(), literal_int(10))
        ]
    );
    assert_eq!(input(2), [("xs".to_owned(), Source::Node("scaled".into()))]);
    assert_eq!(
        input(3),
        [
            ("x".to_owned(), Source::Node("sum".into())),
            ("factor".to_owned(), Source::Node("seven".into()))
        ]
    );
    assert_eq!(def.output_source, Some(Source::Node("n3".into())));
    assert!(
        matches!(&def.nodes[0].target, Target::Map(m) if m.bound == ["factor"] && m.spec.concurrency == 2)
    );
    // The template binds the literals as scalars, the rest as promises.
    let (template, tasks) = workflow_template(&def, &settings()).unwrap();
    assert_eq!(tasks.len(), 3, "the map, scale and total, each once");
    use maptask::flyte::proto::core::binding_data::Value;
    let binding = |node: usize, var: &str| {
        template.nodes[node]
            .inputs
            .iter()
            .find(|b| b.var == var)
            .and_then(|b| b.binding.clone())
            .and_then(|b| b.value)
            .unwrap()
    };
    assert!(matches!(binding(1, "x"), Value::Scalar(_)));
    assert_eq!(template.nodes[3].upstream_node_ids, ["seven", "sum"]);
    assert!(template.nodes[1].upstream_node_ids.is_empty());
    assert!(
        matches!(binding(3, "factor"), Value::Promise(p) if p.node_id == "seven" && p.var == "o0")
    );
    assert!(matches!(binding(0, "x"), Value::Promise(p) if p.node_id.is_empty() && p.var == "xs"));
    // The workflow's output is the last node's.
    assert!(matches!(
        template.outputs[0].binding.clone().unwrap().value.unwrap(),
        Value::Promise(p) if p.node_id == "n3"
    ));
}

/// A constant output and node-level overrides.
#[workflow(name = "app.wf.overrides_wf")]
fn overrides_wf(x: i64) -> i64 {
    let y = scale(x, 2).with_overrides(
        retries = 4,
        timeout = "1m30s",
        requests(cpu = "2"),
        limits(mem = "1Gi"),
    );
    let _scaled = map_task!(scale, factor = 3)(x = vec![1, 2]).with_overrides(
        retries = 2,
        timeout = "10s",
        concurrency = 5,
    );
    y
}

#[test]
fn workflow_macro_writes_overrides() {
    use maptask::flyte::proto::core::{node, resources::ResourceName};
    let def = maptask::flyte::workflow_def::<overrides_wf>().unwrap();
    let (template, _) = workflow_template(&def, &settings()).unwrap();
    let node0 = &template.nodes[0];
    let meta = node0.metadata.clone().unwrap();
    assert_eq!(meta.retries.unwrap().retries, 4);
    assert_eq!(
        meta.timeout,
        Some(prost_types::Duration {
            seconds: 90,
            nanos: 0
        })
    );
    let Some(node::Target::TaskNode(task)) = &node0.target else {
        panic!("not a task node")
    };
    let resources = task.overrides.clone().unwrap().resources.unwrap();
    assert_eq!(resources.requests[0].name(), ResourceName::Cpu);
    assert_eq!(resources.requests[0].value, "2");
    assert_eq!(resources.limits[0].name(), ResourceName::Memory);
    assert_eq!(resources.limits[0].value, "1Gi");
    // A map node's overrides are the map's own: per-element retries and timeout, parallelism.
    let Target::Map(map) = &def.nodes[1].target else {
        panic!("not a map")
    };
    assert_eq!(
        (map.spec.retries, map.spec.timeout, map.spec.concurrency),
        (2, Some(std::time::Duration::from_secs(10)), 5)
    );
    assert_eq!(
        def.nodes[1].inputs[0],
        (
            "x".to_owned(),
            Source::Literal(Box::new(
                maptask::flyte::literal::to_literal(&vec![1i64, 2], &Vec::<i64>::type_desc())
                    .unwrap()
            ))
        )
    );
    assert_eq!(
        template.nodes[1]
            .metadata
            .clone()
            .unwrap()
            .retries
            .unwrap()
            .retries,
        2
    );
}

/// A type that is not serde: the workflow compiles and runs; only its Flyte definition fails.
#[derive(Debug, Clone)]
struct Celsius(f64);

impl Describe for Celsius {
    fn type_desc() -> TypeDesc {
        TypeDesc::Float { bits: 64 }
    }
}

#[task(name = "app.wf.warm")]
fn warm(t: Celsius) -> f64 {
    t.0 + 1.0
}

#[task(name = "app.wf.pair")]
fn pair(x: i64) -> (i64, i64) {
    (x, x + 1)
}

#[workflow(name = "app.wf.warm_wf")]
fn warm_wf() -> f64 {
    warm(Celsius(20.0))
}

#[workflow(name = "app.wf.pair_wf")]
fn pair_wf(x: i64) -> i64 {
    let (a, _b) = pair(x);
    scale(a, 2)
}

#[test]
fn what_flyte_cannot_bind_fails_at_serialization_naming_the_node() {
    let error = maptask::flyte::workflow_def::<warm_wf>()
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("workflow `app.wf.warm_wf`: node `n0`, input `t`: a constant of type `templates::Celsius`, which is not `serde::Serialize`"),
        "{error}"
    );
    let error = maptask::flyte::workflow_def::<pair_wf>()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("node `n1`, input `x`: an element of a destructured tuple output"),
        "{error}"
    );
    // Both still run.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(warm_wf()).unwrap(), 21.0);
    assert_eq!(rt.block_on(pair_wf(4)).unwrap(), 8);
}

#[task(name = "app.wf.keyed", cache = "1.0", cache_ignore = ["verbose"])]
fn keyed(x: i64, verbose: bool) -> i64 {
    if verbose {
        eprintln!("{x}");
    }
    x
}

/// Cached, with one input left out of the key.
#[task(name = "app.wf.cached", cache = "3.1", cache_ignore = ["verbose"])]
fn cached(x: i64, verbose: bool) -> i64 {
    let _ = verbose;
    x
}

#[test]
fn cache_ignore_becomes_cache_ignore_input_vars() {
    use maptask::flyte::serialize::task_template;
    let t = task_template(&maptask::flyte::task_def::<keyed>(), &settings()).unwrap();
    let m = t.metadata.unwrap();
    assert!(m.discoverable);
    assert_eq!(m.cache_ignore_input_vars, ["verbose"]);
    let map = map_task!(keyed, verbose = false);
    let t = map_task_template(&map_def(&map).unwrap(), &settings()).unwrap();
    assert_eq!(t.metadata.unwrap().cache_ignore_input_vars, ["verbose"]);
    // Not cached: nothing to ignore.
    let t = task_template(&maptask::flyte::task_def::<scale>(), &settings()).unwrap();
    assert!(t.metadata.unwrap().cache_ignore_input_vars.is_empty());
}

#[test]
fn registry_packages_registered_entities_and_refuses_what_cannot_cross() {
    use maptask::flyte::registry::{package, PackageError};
    let files = package(&["app.wf.scale_wf", "app.wf.total"], &settings())
        .unwrap()
        .files();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "00_app.wf.total_1.pb",
            "01_app.wf.map_scale_742f32c65ffd18b766fa307f8de2d47d_1.pb",
            "02_app.wf.scale_wf_2.pb",
            "03_app.wf.scale_wf_3.pb"
        ]
    );
    let error = package(&["app.wf.warm"], &settings()).unwrap_err();
    assert!(matches!(&error, PackageError::NotPortable { task, .. } if task == "app.wf.warm"));
    assert!(
        error
            .to_string()
            .starts_with("task `app.wf.warm` cannot cross to Flyte: its inputs (Celsius)"),
        "{error}"
    );
    let error = package(&["app.wf.nope"], &settings()).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("no task or workflow named `app.wf.nope` is linked into this binary"),
        "{error}"
    );
}

// --- sub-workflows, against flytekit (`tests/fixtures/subworkflow/subwf.py`) ------------------

#[task(name = "subwf.scale")]
fn sub_scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[workflow(name = "subwf.inner")]
fn inner(x: i64) -> i64 {
    sub_scale(x, 2)
}

#[workflow(name = "subwf.outer")]
fn outer(x: i64) -> i64 {
    sub_scale(inner(x).with_overrides(retries = 2, timeout = "90s"), 3)
}

#[test]
fn sub_workflow_spec_equals_flytekits() {
    use maptask::flyte::serialize::workflow::workflow_templates;
    let def = maptask::flyte::workflow_def::<outer>().unwrap();
    let ours = workflow_templates(&def, &settings()).unwrap();
    let theirs =
        WorkflowSpec::decode(fixture("subworkflow/outer.workflow_spec.pb").as_slice()).unwrap();
    assert_eq!(Some(ours.template.clone()), theirs.template);
    assert_eq!(ours.sub_workflows, theirs.sub_workflows);
    assert_eq!(ours.tasks.len(), 1, "scale, once");
    // `workflow_template` alone would lose the sub-workflow: it refuses.
    let error = workflow_template(&def, &settings())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("runs the sub-workflow `subwf.inner`"),
        "{error}"
    );
    // The package writes the sub-workflows into the WorkflowSpec.
    let mut package = Package::new();
    package.add_workflow_templates(ours);
    let Entity::Workflow(spec) = &package.entities()[1] else {
        panic!("not a workflow")
    };
    assert_eq!(spec.sub_workflows, theirs.sub_workflows);
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
