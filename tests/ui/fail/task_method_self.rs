use maptask::task;

struct Counter;

impl Counter {
    #[task]
    fn bump(&self, x: i64) -> i64 {
        x + 1
    }
}

fn main() {}
