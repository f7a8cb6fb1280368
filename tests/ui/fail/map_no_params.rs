use maptask::prelude::*;

#[task]
fn answer() -> i64 {
    42
}

fn main() {
    let _ = map_task!(answer, concurrency = 2);
}
