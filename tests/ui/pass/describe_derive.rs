//! `#[derive(Describe)]` through the prelude, on every shape, used by tasks and a map.
use std::collections::HashSet;

use maptask::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize, Deserialize, Describe)]
#[serde(rename_all = "camelCase")]
struct Config {
    max_items: usize,
    #[serde(skip)]
    _cache: Vec<u8>,
}

#[derive(Clone, Serialize, Deserialize, Describe)]
struct Meters(f64);

#[derive(Clone, Serialize, Deserialize, Describe)]
enum Unit {
    Metric,
    Imperial { inches_per_foot: u8 },
}

#[derive(Clone, Serialize, Deserialize, Describe)]
#[describe(opaque)]
struct Ip(std::net::IpAddr);

#[derive(Clone, Serialize, Deserialize, Describe)]
struct Pair<A, B>(A, B);

#[task]
fn measure(config: Config, length: Meters, unit: Unit, ips: HashSet<String>, ip: Ip) -> Pair<f64, usize> {
    let _ = (unit, ip);
    Pair(length.0, config.max_items.min(ips.len()))
}

fn main() {
    let _ = map_task!(measure, config = Config { max_items: 1, _cache: vec![] }, unit = Unit::Metric, ip = Ip("127.0.0.1".parse().unwrap()));
}
