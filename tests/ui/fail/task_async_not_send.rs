use maptask::task;
use std::rc::Rc;

// Elements move between worker threads, so an async task's future must be `Send`.
#[task]
async fn not_send(x: i64) -> i64 {
    let shared = Rc::new(x);
    tokio::task::yield_now().await;
    *shared
}

fn main() {}
