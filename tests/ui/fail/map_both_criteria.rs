use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

fn main() {
    let _ = map_task!(scale, min_success_ratio = 0.5, min_successes = 3, factor = 2);
}
