use std::collections::HashSet;

use maptask::task;

#[task]
fn count(addresses: HashSet<std::net::Ipv4Addr>) -> usize {
    addresses.len()
}

fn main() {}
