//! The cost of the cache per element, at n = 100,000 (quick mode: 10,000).
//!
//! Each round runs, interleaved, on the same tokio runtime and input:
//! * `uncached`: the map of a no-op sync task with the cache off (the floor);
//! * `miss+store`: the same map on an empty store: every element misses, runs, and is stored
//!   (including the final flush, so the time covers the commits);
//! * `hit`: the same map again: every element is served from the store and none runs.
//!
//! Reported per element: the hit's cost (the whole map's time / n; goal ≤ 2 µs) and the miss's
//! extra cost over the uncached floor ((miss+store − uncached) / n; goal ≤ 5 µs), as the median
//! of the rounds with the range over rounds.
//!
//! `cargo bench -p maptask-cache-tests --bench cache_overhead [-- --quick]`

use std::time::{Duration, Instant};

use maptask::cache::Store;
use maptask::prelude::*;
use maptask_cache_tests::identity;

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n: i64 = if quick { 10_000 } else { 100_000 };
    let rounds = if quick { 3 } else { 5 };
    let tokio = tokio::runtime::Runtime::new().expect("tokio starts");
    let dir = tempfile_dir();
    let store = Store::open(dir.join("cache.redb")).expect("the store opens");
    let xs: Vec<i64> = (0..n).collect();
    let map = map_task!(identity);
    let (mut floor, mut miss, mut hit) = (Vec::new(), Vec::new(), Vec::new());
    let per = |d: Duration| d.as_secs_f64() * 1e9 / n as f64;
    for round in 0..rounds {
        store.clear(None).expect("the store clears");
        let t = Instant::now();
        let out = tokio
            .block_on(map.clone().without_cache().call(xs.clone()))
            .unwrap();
        floor.push(per(t.elapsed()));
        assert_eq!(out.len(), n as usize);

        let cached = map.clone().with_cache(store.clone());
        let t = Instant::now();
        let out = tokio.block_on(cached.call(xs.clone())).unwrap();
        miss.push(per(t.elapsed()));
        assert_eq!(out[7], 7);

        let t = Instant::now();
        let (out, report) = tokio.block_on(cached.call_with_report(xs.clone()));
        hit.push(per(t.elapsed()));
        assert_eq!(out.unwrap()[7], 7);
        assert_eq!(
            report.totals.cached, n as usize,
            "round {round}: every element hit"
        );
    }
    let extra: Vec<f64> = miss.iter().zip(&floor).map(|(m, f)| m - f).collect();
    let (f, f0, f1) = median(floor);
    let (m, m0, m1) = median(miss);
    let (e, e0, e1) = median(extra);
    let (h, h0, h1) = median(hit);
    println!("cache overhead, n = {n}, {rounds} rounds, ns/element: median [min, max]");
    println!("uncached (floor)      {f:>9.1} [{f0:.1}, {f1:.1}]");
    println!("miss + store          {m:>9.1} [{m0:.1}, {m1:.1}]");
    println!("  extra over floor    {e:>9.1} [{e0:.1}, {e1:.1}]   goal <= 5000");
    println!("hit (whole map)       {h:>9.1} [{h0:.1}, {h1:.1}]   goal <= 2000");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("maptask-cache-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the bench directory is created");
    dir
}
