use maptask::Describe;

#[derive(Describe)]
#[describe(opaqe)]
struct Row {
    value: i64,
}

fn main() {}
