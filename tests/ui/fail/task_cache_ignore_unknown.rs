use maptask::task;

#[task(cache = "1", cache_ignore = ["sed", "seed", "seed"])]
fn sample(x: i64, seed: u64) -> i64 {
    x + seed as i64
}

fn main() {}
