//! Where the store's time goes: key hashing, inserts, lookups and decodes, at n = 100,000.
//!
//! `cargo run --release -p maptask-cache --example store_micro`

use std::time::Instant;

use maptask_cache::{codec, key, Digest, Input, Store};

fn main() {
    let n = 100_000usize;
    let dir = std::env::temp_dir().join(format!("maptask-store-micro-{}", std::process::id()));
    let store = Store::open(dir.join("cache.redb")).unwrap();
    let per = |t: Instant| t.elapsed().as_secs_f64() * 1e9 / n as f64;

    let t = Instant::now();
    let mut scratch = Vec::new();
    let digests: Vec<Digest> = (0..n as i64)
        .map(|x| {
            let input = Input::with_scratch("x", &x, &mut scratch).unwrap();
            key::element_digest("bench::identity", "1", [("x", &input.digest)].into_iter())
        })
        .collect();
    println!("keys            {:>8.1} ns/element", per(t));

    let header = codec::header("integer");
    let t = Instant::now();
    let entries: Vec<Vec<u8>> = (0..n as i64)
        .map(|x| {
            let mut e = header.clone();
            codec::encode_output(&x, &mut e).unwrap();
            e
        })
        .collect();
    println!("encode entries  {:>8.1} ns/element", per(t));

    let task: std::sync::Arc<str> = "bench::identity".into();
    let t = Instant::now();
    for (d, e) in digests.iter().zip(entries) {
        store.put(task.clone(), *d, e).unwrap();
    }
    let queued = per(t);
    store.flush().unwrap();
    println!("put (queue)     {:>8.1} ns/element", queued);
    println!("put + flush     {:>8.1} ns/element", per(t));

    let mut sorted = digests.clone();
    sorted.sort_unstable();
    let t = Instant::now();
    let mut found = 0usize;
    store
        .lookup("bench::identity", &sorted, |_, _| found += 1)
        .unwrap();
    println!("lookup sorted   {:>8.1} ns/element", per(t));
    let t = Instant::now();
    let mut found = 0usize;
    store
        .lookup("bench::identity", &digests, |_, _| found += 1)
        .unwrap();
    println!("lookup          {:>8.1} ns/element", per(t));

    let t = Instant::now();
    let mut sum = 0i64;
    store
        .lookup("bench::identity", &digests, |_, e| {
            sum += codec::decode_output::<i64>(codec::payload(e, &header).unwrap()).unwrap()
        })
        .unwrap();
    println!("lookup + decode {:>8.1} ns/element ({sum})", per(t));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
