use maptask::prelude::*;

fn plain(x: i64) -> i64 {
    x
}

fn main() {
    let _ = map_task!(plain, concurrency = 2);
}
