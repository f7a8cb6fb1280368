use maptask::prelude::*;

#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

async fn run() {
    let m = map_task!(scale, factor = 10);
    let _ = m.call(vec![1], vec![2]).await;
    let _ = m.call(vec!["a"]).await;
}

fn main() {}
