//! Tasks defined outside the crate that describes and maps them, to test both across crates.

use maptask::task;

/// Doubles a number.
#[task(retries = 3)]
pub fn double(x: i64) -> i64 {
    x * 2
}

/// Tasks in a nested module, re-exported at the root.
pub mod text {
    use maptask::task;

    /// Repeats a word.
    #[task(name = "text.repeat")]
    pub async fn repeat(word: String, times: usize) -> String {
        word.repeat(times)
    }
}

pub use text::repeat;

/// Divides `a` by `b`; dividing by zero fails for good.
#[task(timeout = "1s", cache = "2")]
pub async fn checked_div(a: i64, b: i64) -> Result<i64, maptask::TaskError> {
    if b == 0 {
        Err(maptask::TaskError::permanent_msg("division by zero"))
    } else {
        Ok(a / b)
    }
}
