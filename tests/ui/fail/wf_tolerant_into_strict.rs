use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[task]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[workflow]
fn wf(xs: Vec<i64>) -> i64 {
    let ys = map_task!(scale, min_success_ratio = 0.5, factor = 2)(x = xs);
    total(ys)
}

fn main() {}
