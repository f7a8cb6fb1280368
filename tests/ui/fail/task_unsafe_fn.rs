use maptask::task;

#[task]
unsafe fn raw(x: i64) -> i64 {
    x
}

fn main() {}
