use maptask::task;

#[task(timeout = "30 seconds")]
fn slow(x: i64) -> i64 {
    x
}

#[task(timeout = "5fortnights")]
fn slower(x: i64) -> i64 {
    x
}

fn main() {}
