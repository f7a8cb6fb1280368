use maptask::task;

#[task(env(RUST_LOG = "info", RUST_LOG = "debug"), interruptible = "yes")]
fn logged(x: i64) -> i64 {
    x
}

fn main() {}
