use maptask::Describe;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Describe)]
struct Row {
    #[serde(rename(serialize = "out", deserialize = "in"))]
    value: i64,
}

fn main() {}
