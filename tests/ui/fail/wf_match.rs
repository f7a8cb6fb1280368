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
fn wf(x: i64) -> i64 {
    let y = match x {
        0 => 1,
        other => other,
    };
    scale(y, 2)
}

fn main() {}
