use maptask::task;

#[task(requests(cpu = "lots", disk = "1Gi"), limits(mem = "2Gi", mem = "3Gi"))]
fn heavy(x: i64) -> i64 {
    x
}

fn main() {}
