use maptask::task;

#[task]
const fn one(x: i64) -> i64 {
    x
}

fn main() {}
