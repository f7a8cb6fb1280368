use maptask::task;

#[task(retries = 1, priority = 5)]
fn work(x: i64) -> i64 {
    x
}

fn main() {}
