//! `serialize --target k8s|batch`: each map node of a workflow as the Jobs or Batch requests of
//! `maptask-cluster`, with its data under `--run-uri` and its size from `--size`.

use maptask_cluster::{batch, k8s, MapJob, Placement};
use maptask_flyte::serialize::workflow::Target as NodeTarget;
use maptask_runtime::registry;

use crate::args::{SerializeArgs, Target};
use crate::commands::{find, list_names};
use crate::error::CliError;

pub fn files(args: &SerializeArgs) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    let target = if args.target == Target::Batch {
        "batch"
    } else {
        "k8s"
    };
    let [name] = args.names.as_slice() else {
        return Err(CliError::Usage(format!(
            "`--target {target}` writes the map nodes of one workflow: name it, e.g. `serialize my.workflow --target {target} …`"
        )));
    };
    let entry = find(name)?;
    if !entry.is_workflow {
        let workflows = registry::entries();
        return Err(CliError::NotAWorkflow {
            name: name.clone(),
            known: list_names(workflows.iter().filter(|e| e.is_workflow).map(|e| e.name)),
        });
    }
    let def = maptask_flyte::registry::workflow_def(name)
        .ok_or_else(|| {
            CliError::CannotSerialize(format!(
                "workflow `{name}` has no definition: build with the cargo feature `flyte` of `maptask`"
            ))
        })?
        .map_err(|e| CliError::CannotSerialize(e.to_string()))?;
    let run_uri = args.run_uri.as_deref().ok_or_else(|| {
        CliError::Usage(format!(
            "`--target {target}` needs `--run-uri s3://bucket/prefix` (or `file:///path`): where each map node's inputs and outputs live"
        ))
    })?;
    let run_uri = run_uri.trim_end_matches('/');
    let maps: Vec<_> = def
        .nodes
        .iter()
        .filter_map(|node| match &node.target {
            NodeTarget::Map(map) => Some((node, map)),
            // A sub-workflow's maps are that workflow's: serialize it by its own name.
            NodeTarget::Task(_) | NodeTarget::Workflow(_) => None,
        })
        .collect();
    if maps.is_empty() {
        return Err(CliError::CannotSerialize(format!(
            "workflow `{name}` has no map node; `--target {target}` writes one job per map node"
        )));
    }
    let sizes = Sizes::parse(&args.size, maps.iter().map(|(n, _)| n.id.as_str()))?;
    let queue = match (args.target, &args.job_queue) {
        (Target::Batch, None) => {
            return Err(CliError::Usage(
                "`--target batch` needs `--job-queue QUEUE`".to_owned(),
            ))
        }
        (_, queue) => queue.clone().unwrap_or_default(),
    };
    let mut files = Vec::new();
    for (node, map) in maps {
        let n = sizes.of(&node.id)?;
        let bound: Vec<&str> = map.bound.iter().map(String::as_str).collect();
        let placement = Placement {
            image: args.image.clone(),
            binary: super::binary(args),
            inputs: format!("{run_uri}/{}/inputs.pb", node.id),
            output_prefix: format!("{run_uri}/{}/out", node.id),
        };
        let mut job = MapJob::from_core(
            &map.spec,
            &map.task.name,
            &map.task.metadata,
            (node.requests, node.limits),
            &bound,
            n,
            placement,
        )
        .map_err(|e| CliError::CannotSerialize(format!("node `{}`: {e}", node.id)))?;
        job.labels
            .insert("maptask.io/workflow".to_owned(), label(name));
        job.labels
            .insert("maptask.io/node".to_owned(), label(&node.id));
        job.credentials.k8s_secret = args.k8s_secret.clone();
        job.credentials.k8s_service_account = args.service_account.clone();
        job.credentials.batch_job_role_arn = args.job_role_arn.clone();
        let cannot = |e: maptask_cluster::ClusterError| {
            CliError::CannotSerialize(format!("node `{}`: {e}", node.id))
        };
        if args.target == Target::K8s {
            let options = k8s::K8sOptions {
                namespace: args.namespace.clone(),
                ..k8s::K8sOptions::default()
            };
            let manifests = k8s::manifests(&job, &options).map_err(cannot)?;
            files.push((
                format!("{}.job.json", node.id),
                manifests.job_json().into_bytes(),
            ));
            files.push((
                format!("{}.collect.json", node.id),
                manifests.collector_json().into_bytes(),
            ));
        } else {
            let options = batch::BatchOptions {
                job_queue: queue.clone(),
                ..batch::BatchOptions::default()
            };
            let requests = batch::requests(&job, &options).map_err(cannot)?;
            files.push((
                format!("{}.jobdef.json", node.id),
                requests.job_definition_json().into_bytes(),
            ));
            files.push((
                format!("{}.submit.json", node.id),
                requests.submit_job_json().into_bytes(),
            ));
            files.push((
                format!("{}.collect.json", node.id),
                requests.collect_job_json().into_bytes(),
            ));
        }
    }
    Ok(files)
}

/// A Kubernetes label value: at most 63 of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn label(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// `--size N` for every map node, `--size NODE=N` for one.
struct Sizes {
    all: Option<usize>,
    by_node: Vec<(String, usize)>,
}

impl Sizes {
    fn parse<'a>(args: &[String], nodes: impl Iterator<Item = &'a str>) -> Result<Sizes, CliError> {
        let nodes: Vec<&str> = nodes.collect();
        let number = |text: &str, arg: &str| {
            text.trim().parse::<usize>().map_err(|_| {
                CliError::Usage(format!(
                    "`--size {arg}`: expected a number of elements, `N` or `NODE=N`"
                ))
            })
        };
        let mut sizes = Sizes {
            all: None,
            by_node: Vec::new(),
        };
        for arg in args {
            match arg.split_once('=') {
                Some((node, n)) => {
                    if !nodes.contains(&node) {
                        return Err(CliError::Usage(format!(
                            "`--size {arg}`: the workflow has no map node `{node}`; its map nodes are {}",
                            list_names(nodes.iter().copied())
                        )));
                    }
                    sizes.by_node.push((node.to_owned(), number(n, arg)?));
                }
                None => sizes.all = Some(number(arg, arg)?),
            }
        }
        Ok(sizes)
    }

    fn of(&self, node: &str) -> Result<usize, CliError> {
        self.by_node
            .iter()
            .rev()
            .find(|(n, _)| n == node)
            .map(|(_, size)| *size)
            .or(self.all)
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "map node `{node}` needs its number of elements: `--size {node}=N` (or `--size N` for every map node)"
                ))
            })
    }
}
