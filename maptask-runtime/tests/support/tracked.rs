//! Values that count themselves, shared by the test binaries that check that every value a
//! map takes or makes is dropped exactly once.
#![allow(dead_code)] // each binary uses its part

use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A value that counts the live values of its family: 16 bytes, with a niche (so
/// `Option<Tracked>` has its layout too).
#[derive(Debug)]
pub struct Tracked {
    pub index: usize,
    pub live: Arc<AtomicIsize>,
}

impl Tracked {
    pub fn new(index: usize, live: &Arc<AtomicIsize>) -> Tracked {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked {
            index,
            live: Arc::clone(live),
        }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(self.index, &self.live)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::SeqCst);
    }
}

pub fn tracked(n: usize, live: &Arc<AtomicIsize>) -> Vec<Tracked> {
    (0..n).map(|i| Tracked::new(i, live)).collect()
}

/// Waits until no value of the family is alive (pool threads may still finish their chunks
/// after a stopped map returned), and fails with the count after 5 s.
pub fn assert_all_dropped(live: &AtomicIsize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while live.load(Ordering::SeqCst) != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        live.load(Ordering::SeqCst),
        0,
        "values leaked or dropped twice"
    );
}
