//! Sync, async, `Result`, unit and zero-parameter tasks.
use maptask::prelude::*;

#[task]
fn square(x: i64) -> i64 {
    x * x
}

#[task]
async fn greet(name: String) -> String {
    format!("hello {name}")
}

#[derive(Debug)]
struct Odd;
impl std::fmt::Display for Odd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("odd")
    }
}
impl std::error::Error for Odd {}

#[task]
fn half(x: i64) -> Result<i64, Odd> {
    if x % 2 == 0 { Ok(x / 2) } else { Err(Odd) }
}

#[task]
fn log_it(_line: String) {}

#[task]
fn unit_explicit(mut x: i64) -> () {
    x += 1;
    let _ = x;
}

#[task]
fn answer() -> i64 {
    42
}

#[task]
fn io_result(path: String) -> std::io::Result<usize> {
    Ok(path.len())
}

fn main() {
    assert_eq!(square(3), 9);
    assert_eq!(futures::executor::block_on(greet("a".into())), "hello a");
    assert_eq!(half(4).unwrap(), 2);
    log_it("x".into());
    unit_explicit(1);
    assert_eq!(answer(), 42);
    assert_eq!(io_result("abc".into()).unwrap(), 3);
    let _: <half as Task>::Output = 1i64;
    let _: <io_result as Task>::Output = 1usize;
    let _: <log_it as Task>::Output = ();
    assert_eq!(<answer as Task>::PARAMS.len(), 0);
}
