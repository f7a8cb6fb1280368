use maptask::task;

#[task(cache_ignore = ["seed"])]
fn sample(x: i64, seed: u64) -> i64 {
    x + seed as i64
}

fn main() {}
