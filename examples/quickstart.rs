//! The quickstart: a task, a map over it, and the seed's example.
use maptask::prelude::*;

/// Renders one number; fails on 3 to show tolerated failures.
#[task(retries = 1, timeout = "30s")]
async fn my_mappable_task(a: i64) -> Option<String> {
    Some(a.to_string())
}

/// Multiplies.
#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    assert_eq!(scale(3, 2), 6);
    let ys = map_task!(scale, concurrency = 4, factor = 10).call(vec![1, 2, 3]).await?;
    println!("scale by 10: {ys:?}");
    let seed = map_task!(my_mappable_task, concurrency = 10, min_success_ratio = 0.75, retries = 1);
    let out: Vec<Option<Option<String>>> = seed.call(vec![1, 2, 3]).await?;
    println!("{} -> {out:?}", seed.name());
    Ok(())
}
