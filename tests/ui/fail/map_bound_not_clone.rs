use maptask::prelude::*;

maptask::describe_serde!(Weights);

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Weights(Vec<f64>);

#[task]
fn predict(x: f64, model: Weights) -> f64 {
    x * model.0.len() as f64
}

fn main() {
    let _ = map_task!(predict, model = Weights(vec![1.0]));
}
