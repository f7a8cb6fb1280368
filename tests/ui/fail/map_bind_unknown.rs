use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

fn main() {
    let _ = map_task!(scale, bind(concurrency = 4), options(factor = 2));
}
