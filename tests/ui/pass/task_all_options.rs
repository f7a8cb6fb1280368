//! Every `#[task]` option.
use maptask::prelude::*;
use std::time::Duration;

/// Does everything.
///
/// Second paragraph.
#[task(
    retries = 2,
    timeout = "1m30s",
    cache = "1.0",
    interruptible = true,
    name = "all.options",
    requests(cpu = "500m", mem = "1Gi", gpu = "1"),
    limits(cpu = "2", mem = "2Gi"),
    env(RUST_LOG = "debug", MODE = "fast"),
    crate = maptask
)]
fn everything(x: i64) -> i64 {
    x
}

mod reexport {
    pub use maptask as mt;
}

#[task(crate = "reexport::mt")]
fn behind_reexport(x: i64) -> i64 {
    x
}

fn main() {
    let m = <everything as Task>::METADATA;
    assert_eq!(m.retries, 2);
    assert_eq!(m.timeout, Some(Duration::from_secs(90)));
    assert_eq!(m.cache_version, Some("1.0"));
    assert!(m.interruptible);
    assert_eq!(m.requests.cpu, Some("500m"));
    assert_eq!(m.requests.mem, Some("1Gi"));
    assert_eq!(m.requests.gpu, Some("1"));
    assert_eq!(m.limits.cpu, Some("2"));
    assert_eq!(m.limits.mem, Some("2Gi"));
    assert_eq!(m.limits.gpu, None);
    assert_eq!(m.env, &[("RUST_LOG", "debug"), ("MODE", "fast")]);
    assert_eq!(<everything as Task>::NAME, "all.options");
    assert_eq!(<everything as Task>::DOC, "Does everything.\n\nSecond paragraph.");
    assert_eq!(behind_reexport(1), 1);
}
