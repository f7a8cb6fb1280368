use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[task]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

fn helper(x: i64) -> i64 {
    x + 1
}

#[workflow]
fn wf(x: i64) -> i64 {
    helper(x)
}

fn main() {}
