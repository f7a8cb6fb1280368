use maptask::task;

// Not `Send + Sync`: the runtime moves errors between threads.
#[task]
fn parse(s: String) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(s.parse::<i64>()?)
}

fn main() {}
