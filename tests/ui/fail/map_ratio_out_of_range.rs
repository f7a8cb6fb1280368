use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

fn main() {
    let _ = map_task!(scale, min_success_ratio = 1.5, factor = 2);
    let _ = map_task!(scale, min_success_ratio = -0.25, factor = 2);
    let _ = map_task!(scale, min_success_ratio = 2, factor = 2);
}
