use maptask::task;

#[task(retries = 1, timeout = "1s", retries = 2)]
fn work(x: i64) -> i64 {
    x
}

fn main() {}
