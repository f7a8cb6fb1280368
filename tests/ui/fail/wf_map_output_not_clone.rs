use maptask::prelude::*;

#[derive(Debug, serde::Serialize, serde::Deserialize, maptask::Describe)]
pub struct Model(Vec<f64>);

#[task]
fn train(n: i64) -> Model {
    Model(vec![0.0; n as usize])
}

#[task]
fn count(models: Vec<Model>) -> usize {
    models.len()
}

#[workflow]
fn wf(ns: Vec<i64>) -> usize {
    let models = map_task!(train)(n = ns);
    count(models)
}

fn main() {}
