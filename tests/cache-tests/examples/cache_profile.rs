//! One phase of the cache benchmark, for a profiler (`valgrind --tool=callgrind`):
//! `cache_profile hit|miss [n]` fills a fresh store (for `hit`) and then runs the map of the
//! no-op cached task `identity` over `n` elements (10,000 by default) three times.

use maptask::cache::Store;
use maptask::prelude::*;
use maptask_cache_tests::identity;

fn main() {
    let mut args = std::env::args().skip(1);
    let phase = args.next().unwrap_or_else(|| "hit".to_owned());
    let n: i64 = args
        .next()
        .map_or(10_000, |a| a.parse().expect("n is a number"));
    let dir = std::env::temp_dir().join(format!("maptask-cache-profile-{}", std::process::id()));
    let tokio = tokio::runtime::Runtime::new().expect("tokio starts");
    let store = Store::open(dir.join("cache.redb")).expect("the store opens");
    let xs: Vec<i64> = (0..n).collect();
    let map = map_task!(identity).with_cache(store.clone());
    if phase == "hit" {
        tokio.block_on(map.call(xs.clone())).expect("the map runs");
    }
    for _ in 0..3 {
        if phase == "miss" {
            store.clear(None).expect("the store clears");
        }
        let out = tokio.block_on(map.call(xs.clone())).expect("the map runs");
        assert_eq!(out.len(), n as usize);
    }
    drop((map, store));
    let _ = std::fs::remove_dir_all(&dir);
}
