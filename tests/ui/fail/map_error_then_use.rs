use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

async fn run() -> Result<Vec<i64>, MapError> {
    // One mistake, one error: the map still has its type, so the lines after it are neither
    // unreachable nor errors of their own.
    let map = map_task!(scale, concurency = 4, factor = 2);
    let out = map.call(vec![1, 2]).await?;
    Ok(out)
}

fn main() {
    let _ = run();
}
