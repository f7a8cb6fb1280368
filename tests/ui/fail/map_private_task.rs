mod stages {
    use maptask::prelude::*;

    /// Private to `stages`.
    #[task]
    fn hidden(x: i64) -> i64 {
        x
    }

    pub fn keep() -> i64 {
        hidden(1)
    }
}

fn main() {
    let _ = stages::keep();
    let _ = maptask::map_task!(stages::hidden);
}
