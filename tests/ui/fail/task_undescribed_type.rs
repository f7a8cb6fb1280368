use maptask::task;

struct Opaque;

#[task]
fn consume(value: Opaque) -> i64 {
    let _ = value;
    1
}

fn main() {}
