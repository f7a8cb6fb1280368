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
    let n = xs.len();
    scale(n, 2)
}

fn main() {}
