use maptask::prelude::*;

#[task]
fn scale(x: i64) -> i64 {
    x * 2
}

#[workflow]
fn wf(xs: Vec<i64>) {
    for x in xs {
        scale(x);
    }
}

fn main() {}
