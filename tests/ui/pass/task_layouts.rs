//! Layouts of ordinary crates: tasks made by one `macro_rules!` in two modules, a raw
//! identifier, tasks re-exported under another module, workflows calling them all.
use maptask::prelude::*;

macro_rules! stage {
    ($module:ident, $factor:expr) => {
        pub mod $module {
            use maptask::prelude::*;

            /// Scales.
            #[task]
            pub fn apply(x: i64) -> i64 {
                x * $factor
            }
        }
    };
}

stage!(first, 2);
stage!(second, 3);

mod words {
    use maptask::prelude::*;

    /// A raw identifier as a task name.
    #[task]
    pub fn r#type(word: String) -> String {
        word
    }
}

pub use words::r#type as kind;

#[workflow]
fn both(xs: Vec<i64>) -> (Vec<i64>, Vec<i64>, String) {
    let a = map_task!(first::apply)(x = xs);
    let b = map_task!(second::apply)(x = xs);
    let k = kind({ "w".to_owned() });
    (a, b, k)
}

fn main() {
    let _ = map_task!(first::apply);
    let _ = map_task!(second::apply);
    let _ = map_task!(kind);
    let _ = both::graph();
}
