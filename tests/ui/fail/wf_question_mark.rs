use maptask::prelude::*;

#[task]
fn parse(text: String) -> Result<i64, std::num::ParseIntError> {
    text.parse()
}

#[workflow]
fn wf(text: String) -> i64 {
    let n = parse(text)?;
    n
}

fn main() {}
