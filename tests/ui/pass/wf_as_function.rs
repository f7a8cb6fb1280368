//! A workflow is called like the async function it is declared as, documented like one, and
//! keeps `run`, `run_on` and `graph`.
#![deny(missing_docs)]

use maptask::prelude::*;

/// Doubles.
#[task]
pub fn double(x: i64) -> i64 {
    x * 2
}

/// Doubles every number.
#[workflow]
pub fn double_all(xs: Vec<i64>) -> Vec<i64> {
    map_task!(double)(x = xs)
}

/// Calls the workflow three ways.
pub async fn caller() -> Result<(), WorkflowError> {
    let a = double_all(vec![1, 2]).await?;
    let b = double_all::run(vec![1, 2]).await?;
    let c = double_all::run_on(&Runtime::global().clone(), vec![1, 2]).await?;
    assert_eq!((a.clone(), b), (c, a));
    assert_eq!(double_all::graph().nodes.len(), 1);
    Ok(())
}

fn main() {}
