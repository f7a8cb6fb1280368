use maptask::Describe;

struct Unknown;

#[derive(Describe)]
struct Holder {
    ok: i64,
    bad: Unknown,
}

fn main() {}
