//! Placeholder, replaced by the benchmark table binary.
fn main() {}
