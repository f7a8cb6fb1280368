//! A public workflow without a doc comment is reported like any public function.
#![deny(missing_docs)]

use maptask::prelude::*;

/// Doubles.
#[task]
pub fn double(x: i64) -> i64 {
    x * 2
}

#[workflow]
pub fn undocumented(x: i64) -> i64 {
    double(x)
}

fn main() {}
