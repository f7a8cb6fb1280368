use maptask::task;

#[task]
struct NotAFunction {
    x: i64,
}

fn main() {}
