use maptask::Describe;

#[derive(Describe)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
