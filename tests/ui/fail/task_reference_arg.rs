use maptask::task;

#[task]
fn shout(s: &str, words: &[String]) -> String {
    format!("{s}{}", words.len())
}

fn main() {}
