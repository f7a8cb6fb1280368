use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[workflow]
fn wf(names: Vec<String>) -> Vec<i64> {
    map_task!(scale, factor = 2)(x = names)
}

fn main() {}
