use maptask::prelude::*;

#[task]
fn greet(greeting: String, name: String) -> String {
    format!("{greeting}, {name}")
}

fn main() {
    // `name` is a map option and a parameter: the macro will not guess.
    let _ = map_task!(greet, name = "Bob".to_owned());
}
