use maptask::prelude::*;

#[derive(Debug, serde::Serialize, serde::Deserialize, maptask::Describe)]
pub struct Model(Vec<f64>);

#[task]
fn train(n: i64) -> Model {
    Model(vec![0.0; n as usize])
}

#[task]
fn size(model: Model) -> usize {
    model.0.len()
}

#[workflow]
fn wf(n: i64) -> usize {
    let model = train(n);
    size(model)
}

fn main() {}
