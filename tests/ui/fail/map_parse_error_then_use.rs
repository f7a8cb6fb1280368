use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

fn plain(x: i64) -> i64 {
    x
}

async fn run() -> Result<Vec<i64>, MapError> {
    // A map that does not parse, or that names a plain function, is one error each: the lines
    // after it are neither unreachable nor errors of their own.
    let map = map_task!(scale, concurrency = , factor = 2);
    let out = map.call(vec![1, 2]).await?;
    let other = map_task!(plain);
    let more = other.call(out).await?;
    Ok(more)
}

fn main() {
    let _ = run();
}
