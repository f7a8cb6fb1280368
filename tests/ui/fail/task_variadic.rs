use maptask::task;

#[task]
fn sum_all(first: i64, ...) -> i64 {
    first
}

fn main() {}
