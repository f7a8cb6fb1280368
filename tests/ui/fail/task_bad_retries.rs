use maptask::task;

#[task(retries = "three")]
fn flaky(x: i64) -> i64 {
    x
}

#[task(retries = 99999999999)]
fn flakier(x: i64) -> i64 {
    x
}

fn main() {}
