use maptask::prelude::*;

#[derive(Debug, serde::Serialize, serde::Deserialize, maptask::Describe)]
pub struct Shard(Vec<u8>);

#[task]
fn size(shard: Shard) -> usize {
    shard.0.len()
}

#[tokio::main]
async fn main() {
    let shards = vec![Shard(vec![1]), Shard(vec![2, 3])];
    let _ = map_task!(size).call(shards).await;
}
