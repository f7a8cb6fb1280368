use maptask::task;

#[derive(Debug)]
struct Oops;

#[task]
fn parse(s: String) -> Result<i64, Oops> {
    s.parse::<i64>().map_err(|_| Oops)
}

fn main() {}
