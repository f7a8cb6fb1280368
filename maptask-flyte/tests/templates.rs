//! The Rust equivalents of the fixture map tasks and workflows serialize to the templates that
//! flytekit 1.16.31 wrote (`tests/fixtures/templates`, `tests/fixtures/pyflyte-serialize`),
//! except the container args (our entrypoint, not `pyflyte-map-execute`) and
//! `metadata.runtime` (our SDK, not flytekit).

use std::path::PathBuf;

use maptask::flyte::proto::admin::{LaunchPlan, TaskSpec, WorkflowSpec};
use maptask::flyte::proto::core::{task_template, Literal, TaskTemplate, WorkflowTemplate};
use maptask::flyte::serialize::files::{Entity, Package};
use maptask::flyte::serialize::workflow::{
    workflow_template, NodeDef, Source, Target, WorkflowDef,
};
use maptask::flyte::serialize::{map_task_template, MapDef, Settings};
use maptask::flyte::{bound_literals, map_def};
use maptask::prelude::*;
use maptask::{Describe, Resources};
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

/// A fixture map: its file stem, its definition, its bound literals.
type FixtureMap = (&'static str, MapDef, Vec<(String, Literal)>);

/// The four fixture maps.
fn maps() -> Vec<FixtureMap> {
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
        (
            "my_mappable_task",
            map_def(&seed).unwrap(),
            bound_literals(&seed).unwrap(),
        ),
        (
            "scale",
            map_def(&scale).unwrap(),
            bound_literals(&scale).unwrap(),
        ),
        (
            "my_flaky_task",
            map_def(&flaky).unwrap(),
            bound_literals(&flaky).unwrap(),
        ),
        (
            "my_flaky_plain_task",
            map_def(&plain).unwrap(),
            bound_literals(&plain).unwrap(),
        ),
    ]
}

#[test]
fn map_task_templates_equal_flytekits() {
    for (stem, def, _) in maps() {
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
/// `x` and each bound value to its literal.
fn workflow(stem: &str, def: MapDef, bound: Vec<(String, Literal)>) -> WorkflowDef {
    let wf_name = match stem {
        "my_mappable_task" => "app.wf.my_wf",
        "scale" => "app.wf.scale_wf",
        "my_flaky_task" => "app.wf.flaky_wf",
        _ => "app.wf.flaky_plain_wf",
    };
    let mapped = def
        .interface
        .inputs
        .iter()
        .find(|p| !def.bound.iter().any(|b| b == p.name))
        .unwrap();
    let mut inputs = vec![(mapped.name.to_owned(), Source::Input("x".into()))];
    inputs.extend(
        bound
            .into_iter()
            .map(|(name, lit)| (name, Source::Literal(Box::new(lit)))),
    );
    let requests = if stem == "my_mappable_task" {
        // .with_overrides(requests=Resources(cpu="10M"))
        Resources {
            cpu: Some("10M"),
            ..Resources::NONE
        }
    } else {
        Resources::NONE
    };
    WorkflowDef {
        name: wf_name.into(),
        inputs: vec![("x".into(), Vec::<i64>::type_desc())],
        output: def.interface.output.clone(),
        nodes: vec![NodeDef {
            id: "n0".into(),
            target: Target::Map(Box::new(def)),
            inputs,
            requests,
            limits: Resources::NONE,
        }],
        output_source: Some(Source::Node("n0".into())),
    }
}

#[test]
fn workflow_templates_equal_flytekits() {
    for (stem, def, bound) in maps() {
        let wf = workflow(stem, def, bound);
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
    for (k, (stem, def, bound)) in maps().into_iter().enumerate() {
        let wf = workflow(stem, def, bound);
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
