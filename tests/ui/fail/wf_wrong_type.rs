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
fn wf(name: String) -> i64 {
    scale(name, 2)
}

fn main() {}
