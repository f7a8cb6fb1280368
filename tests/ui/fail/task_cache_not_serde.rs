use maptask::{task, Describe, TypeDesc};

/// Described, but not a serde type.
struct Opaque;

impl Describe for Opaque {
    fn type_desc() -> TypeDesc {
        TypeDesc::String
    }
}

#[task(cache = "1")]
fn consume(value: Opaque, n: i64) -> i64 {
    let _ = value;
    n
}

#[task(cache = "1")]
fn produce(n: i64) -> Opaque {
    let _ = n;
    Opaque
}

fn main() {}
