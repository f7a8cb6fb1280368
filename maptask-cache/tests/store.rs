//! The store: round trips, stats and clear, a damaged file, an old entry, file modes.

use maptask_cache::{codec, CacheKey, Input, Store};

fn key(task: &str, x: i64) -> CacheKey {
    CacheKey::for_element(task, "1", &[Input::new("x", &x).unwrap()], &[])
}

#[test]
fn entries_round_trip_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("cache.redb");
    {
        let store = Store::open(&path).unwrap();
        for x in 0..10 {
            let k = key("t", x);
            let entry = codec::encode_entry(&(x * 2), "integer").unwrap();
            store.put(k.task, k.digest, entry).unwrap();
        }
        store.flush().unwrap();
        let k = key("t", 3);
        let entry = store.get(&k).unwrap().expect("stored");
        assert_eq!(codec::decode_entry::<i64>(&entry, "integer").unwrap(), 6);
    }
    let store = Store::open(&path).unwrap();
    assert!(store.get(&key("t", 9)).unwrap().is_some());
    assert!(store.get(&key("t", 10)).unwrap().is_none());
    assert!(store.get(&key("u", 1)).unwrap().is_none());
}

#[test]
fn dropping_the_store_commits_what_was_queued() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.redb");
    {
        let store = Store::open(&path).unwrap();
        for x in 0..1000 {
            let k = key("t", x);
            store.put(k.task, k.digest, vec![1, 2, 3]).unwrap();
        }
    }
    assert_eq!(Store::open(&path).unwrap().stats().unwrap().entries(), 1000);
}

#[test]
fn stats_and_clear_work_per_task() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.redb")).unwrap();
    for (task, n) in [("a", 3), ("b", 5), ("ab", 2)] {
        for x in 0..n {
            let k = key(task, x);
            store.put(k.task, k.digest, vec![0; 10]).unwrap();
        }
    }
    store.flush().unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(stats.entries(), 10);
    assert_eq!(stats.tasks["a"].entries, 3);
    assert_eq!(stats.tasks["b"].entries, 5);
    assert_eq!(stats.tasks["a"].bytes, 3 * (32 + 10));
    assert_eq!(store.clear(Some("a")).unwrap(), 3);
    let stats = store.stats().unwrap();
    assert!(!stats.tasks.contains_key("a"));
    assert_eq!(stats.tasks["ab"].entries, 2, "clearing `a` leaves `ab`");
    assert_eq!(store.clear(Some("nope")).unwrap(), 0);
    assert_eq!(store.clear(None).unwrap(), 7);
    assert_eq!(store.stats().unwrap().entries(), 0);
}

#[test]
fn a_garbage_file_is_moved_aside_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.redb");
    std::fs::write(&path, vec![0xAB; 64 * 1024]).unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.stats().unwrap().entries(), 0);
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("cache.redb.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
}

#[test]
fn a_damaged_database_is_moved_aside_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.redb");
    {
        let store = Store::open(&path).unwrap();
        for x in 0..2000 {
            let k = key("t", x);
            store.put(k.task, k.digest, vec![7; 100]).unwrap();
        }
    }
    // Scribble over the middle of the file, where the tree's pages are.
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 4..len * 3 / 4] {
        *b ^= 0x5A;
    }
    std::fs::write(&path, bytes).unwrap();
    let store = Store::open(&path).unwrap();
    // Whatever survived, reading never panics and never returns another task's bytes.
    let stats = store.stats().unwrap();
    assert!(stats.entries() <= 2000);
    for x in 0..10 {
        if let Some(entry) = store.get(&key("t", x)).unwrap() {
            assert_eq!(entry, vec![7; 100]);
        }
    }
}

#[test]
fn an_old_format_entry_is_a_decode_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.redb")).unwrap();
    let k = key("t", 1);
    let mut old = codec::encode_entry(&5i64, "integer").unwrap();
    old[4] = 0; // format 0
    store.put(k.task.clone(), k.digest, old).unwrap();
    store.flush().unwrap();
    let entry = store.get(&k).unwrap().unwrap();
    assert_eq!(
        codec::decode_entry::<i64>(&entry, "integer"),
        Err(maptask_cache::DecodeError::Format { found: 0 })
    );
}

#[cfg(unix)]
#[test]
fn the_store_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("maptask");
    let path = sub.join("cache.redb");
    let _store = Store::open(&path).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sub), 0o700);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn two_handles_in_one_process_share_nothing_but_the_file() {
    // Two opens of one file (as two processes would do) both read and write.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.redb");
    let a = Store::open(&path).unwrap();
    let b = Store::open(&path).unwrap();
    let k = key("t", 1);
    a.put(k.task.clone(), k.digest, vec![1]).unwrap();
    a.flush().unwrap();
    assert_eq!(b.get(&k).unwrap(), Some(vec![1]));
    b.put(k.task.clone(), k.digest, vec![2]).unwrap();
    b.flush().unwrap();
    assert_eq!(a.get(&k).unwrap(), Some(vec![2]));
}

#[test]
fn lookups_find_exactly_what_is_stored_whether_walking_or_descending() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.redb")).unwrap();
    for x in (0..3000).step_by(2) {
        let k = key("a", x);
        store
            .put(k.task, k.digest, x.to_le_bytes().to_vec())
            .unwrap();
        let k = key("b", x + 1);
        store.put(k.task, k.digest, vec![0]).unwrap();
    }
    store.flush().unwrap();
    let check = |xs: Vec<i64>| {
        let digests: Vec<_> = xs.iter().map(|&x| key("a", x).digest).collect();
        let mut found = vec![None; xs.len()];
        store
            .lookup("a", &digests, |i, bytes| {
                assert!(found[i].is_none(), "position {i} found twice");
                found[i] = Some(i64::from_le_bytes(bytes.try_into().unwrap()));
            })
            .unwrap();
        for (x, f) in xs.iter().zip(found) {
            assert_eq!(f, (x % 2 == 0 && *x < 3000).then_some(*x), "x = {x}");
        }
    };
    // Dense: most of the task's entries are asked for, with duplicates and absent keys.
    let mut dense: Vec<i64> = (0..3200).collect();
    dense.extend([4, 4, 5]);
    check(dense);
    // Sparse: 100 keys among 1,500 entries: the walk gives up and descends per key.
    check((0..100).map(|x| x * 30).collect());
    // Few: below the walking threshold.
    check(vec![2, 3, 2998, 3000]);
}

#[test]
fn entries_of_the_older_layout_are_dropped_on_open() {
    // Before per-task tables, every entry lived in one table keyed by (task, digest).
    use redb::{ReadableDatabase, TableDefinition};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.redb");
    let old: TableDefinition<(&str, &[u8]), &[u8]> = TableDefinition::new("entries.v1");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(old)
            .unwrap()
            .insert(("t", [7u8; 32].as_slice()), [1u8, 2].as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.stats().unwrap().entries(), 0);
    drop(store);
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_read().unwrap();
    assert!(matches!(
        txn.open_table(old),
        Err(redb::TableError::TableDoesNotExist(_))
    ));
}

#[test]
fn the_writer_commits_what_queued_in_few_transactions() {
    // One durable commit per entry would cost an fsync each; the writer takes everything that
    // queued while its previous commit ran.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("cache.redb")).unwrap();
    let n = 20_000;
    for x in 0..n {
        let k = key("t", x);
        store.put(k.task, k.digest, vec![1, 2, 3]).unwrap();
    }
    store.flush().unwrap();
    assert_eq!(store.stats().unwrap().entries(), n as u64);
    let commits = store.commits();
    assert!(
        (1..=200).contains(&commits),
        "{n} entries took {commits} commits"
    );
}
