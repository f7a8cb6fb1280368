use maptask::task;

#[task]
extern "C" fn ffi(x: i64) -> i64 {
    x
}

fn main() {}
