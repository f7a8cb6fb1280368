use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

async fn run() -> Result<i64, MapError> {
    let ys = map_task!(scale, min_success_ratio = 0.5, factor = 2).call(vec![1, 2]).await?;
    Ok(total(ys))
}

fn main() {}
