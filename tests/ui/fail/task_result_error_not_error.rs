use maptask::task;

#[task]
fn parse(s: String) -> Result<i64, String> {
    s.parse::<i64>().map_err(|e| e.to_string())
}

fn main() {}
