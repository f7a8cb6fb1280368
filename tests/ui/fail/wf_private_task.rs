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

use maptask::prelude::*;

#[workflow]
fn wf(x: i64) -> i64 {
    stages::hidden(x)
}

fn main() {
    let _ = stages::keep();
}
