//! The files `pyflyte serialize` writes, ready for `flytectl register files`: for each entity in
//! order, `NN_<name>_1.pb` (an `admin.TaskSpec`), `NN_<name>_2.pb` (an `admin.WorkflowSpec`)
//! and `NN_<name>_3.pb` (the workflow's default `admin.LaunchPlan`), `NN` counting from `00`.
//!
//! As in flytekit's output, ids carry no project, domain or version: `flytectl register files
//! --project P --domain D --version V` fills them in. Serialize with an empty
//! [`Settings`](super::Settings) `project`/`domain`/`version` for that.

use std::path::{Path, PathBuf};

use prost::Message;

use crate::proto::admin::{
    description, Annotations, DescriptionEntity, DescriptionFormat, Labels, LaunchPlan,
    LaunchPlanClosure, LaunchPlanMetadata, LaunchPlanSpec, RawOutputDataConfig, TaskSpec,
    WorkflowSpec,
};
use crate::proto::core::{
    parameter, LiteralMap, Parameter, ParameterMap, ResourceType, TaskTemplate, VariableMap,
    WorkflowTemplate,
};

/// One file's content.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    /// `_1.pb`.
    Task(TaskSpec),
    /// `_2.pb`.
    Workflow(WorkflowSpec),
    /// `_3.pb`.
    LaunchPlan(LaunchPlan),
}

impl Entity {
    fn name_and_kind(&self) -> (&str, u8) {
        let id = match self {
            Entity::Task(t) => t.template.as_ref().and_then(|t| t.id.as_ref()),
            Entity::Workflow(w) => w.template.as_ref().and_then(|t| t.id.as_ref()),
            Entity::LaunchPlan(l) => l.id.as_ref(),
        };
        let kind = match self {
            Entity::Task(_) => 1,
            Entity::Workflow(_) => 2,
            Entity::LaunchPlan(_) => 3,
        };
        (id.map_or("", |i| i.name.as_str()), kind)
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Entity::Task(t) => t.encode_to_vec(),
            Entity::Workflow(w) => w.encode_to_vec(),
            Entity::LaunchPlan(l) => l.encode_to_vec(),
        }
    }
}

/// What flytekit writes as every entity's description: an empty RST long description.
fn description() -> DescriptionEntity {
    DescriptionEntity {
        long_description: Some(crate::proto::admin::Description {
            format: DescriptionFormat::Rst as i32,
            icon_link: String::new(),
            content: None::<description::Content>,
        }),
        ..DescriptionEntity::default()
    }
}

/// The default launch plan of a workflow, as flytekit writes it: every input a required default
/// input, nothing fixed.
pub fn launch_plan(wf: &WorkflowTemplate) -> LaunchPlan {
    let id = wf.id.clone().map(|mut id| {
        id.resource_type = ResourceType::LaunchPlan as i32;
        id
    });
    let parameters = wf
        .interface
        .as_ref()
        .and_then(|i| i.inputs.as_ref())
        .map(|vars| {
            vars.variables
                .iter()
                .map(|(name, var)| {
                    (
                        name.clone(),
                        Parameter {
                            var: Some(var.clone()),
                            behavior: Some(parameter::Behavior::Required(true)),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    LaunchPlan {
        id,
        spec: Some(LaunchPlanSpec {
            workflow_id: wf.id.clone(),
            entity_metadata: Some(LaunchPlanMetadata::default()),
            default_inputs: Some(ParameterMap { parameters }),
            fixed_inputs: Some(LiteralMap::default()),
            labels: Some(Labels::default()),
            annotations: Some(Annotations::default()),
            raw_output_data_config: Some(RawOutputDataConfig::default()),
            ..LaunchPlanSpec::default()
        }),
        closure: Some(LaunchPlanClosure {
            expected_inputs: Some(ParameterMap::default()),
            expected_outputs: Some(VariableMap::default()),
            ..LaunchPlanClosure::default()
        }),
    }
}

/// The entities to write, in order, each task once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Package {
    entities: Vec<Entity>,
}

impl Package {
    /// An empty package.
    pub fn new() -> Package {
        Package::default()
    }

    /// Adds a task (once: a task already added under the same id is skipped).
    pub fn add_task(&mut self, template: TaskTemplate) -> &mut Package {
        let known = self.entities.iter().any(|e| match e {
            Entity::Task(t) => t.template.as_ref().map(|t| &t.id) == Some(&template.id),
            _ => false,
        });
        if !known {
            // flytekit describes the functions it serializes, not the map tasks it generates.
            let description = (template.r#type != "container_array").then(description);
            self.entities.push(Entity::Task(TaskSpec {
                template: Some(template),
                description,
            }));
        }
        self
    }

    /// Adds a workflow: first the tasks it runs, then the workflow, then its default launch
    /// plan.
    pub fn add_workflow(
        &mut self,
        template: WorkflowTemplate,
        tasks: Vec<TaskTemplate>,
    ) -> &mut Package {
        self.add_workflow_templates(super::workflow::WorkflowTemplates {
            template,
            tasks,
            sub_workflows: Vec::new(),
        })
    }

    /// Adds a workflow with its sub-workflows (in its `WorkflowSpec`), as
    /// [`workflow_templates`](super::workflow::workflow_templates) returns them.
    pub fn add_workflow_templates(
        &mut self,
        all: super::workflow::WorkflowTemplates,
    ) -> &mut Package {
        for task in all.tasks {
            self.add_task(task);
        }
        let template = all.template;
        let lp = launch_plan(&template);
        self.entities.push(Entity::Workflow(WorkflowSpec {
            template: Some(template),
            sub_workflows: all.sub_workflows,
            description: Some(description()),
        }));
        self.entities.push(Entity::LaunchPlan(lp));
        self
    }

    /// The entities, in order.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// `(file name, bytes)` for each entity, in order.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        self.entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (name, kind) = e.name_and_kind();
                (format!("{i:02}_{name}_{kind}.pb"), e.encode())
            })
            .collect()
    }

    /// Writes every file into `dir` (created if missing) and returns their paths.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        for (name, bytes) in self.files() {
            let path = dir.join(name);
            std::fs::write(&path, bytes)?;
            written.push(path);
        }
        Ok(written)
    }
}
