use maptask::Describe;

#[derive(Describe)]
#[describe(opaque)]
struct Handle(std::fs::File);

fn main() {}
