use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[workflow]
fn wf(x: i64) -> i64 {
    scale(x, 2).with_overrides(concurrency = 4)
}

fn main() {}
