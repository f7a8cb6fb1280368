//! The quickstart: three stages in one workflow.
//!
//! 1. a task produces a list of numbers;
//! 2. a map renders each one, with a bound prefix, tolerating failures;
//! 3. a task reduces the rendered strings into a report.
//!
//! Run it with `cargo run --example quickstart`.

use maptask::prelude::*;

/// Produces the numbers `1..=n`.
#[task]
fn numbers(n: i64) -> Vec<i64> {
    (1..=n).collect()
}

/// Renders one number. Thirteen is unlucky: that element fails, and the map tolerates it.
#[task(retries = 1, timeout = "30s")]
async fn render(x: i64, prefix: String) -> Result<String, TaskError> {
    if x == 13 {
        return Err(TaskError::permanent_msg("13 is unlucky"));
    }
    Ok(format!("{prefix}{x}"))
}

/// Joins what was rendered and counts what was not.
#[task]
fn report(items: Vec<Option<String>>) -> String {
    let missing = items.iter().filter(|item| item.is_none()).count();
    let rendered: Vec<String> = items.into_iter().flatten().collect();
    format!(
        "{} rendered, {missing} failed: {}",
        rendered.len(),
        rendered.join(" ")
    )
}

/// The seed's example in Rust.
#[task(retries = 1)]
async fn my_mappable_task(a: i64) -> Option<String> {
    Some(a.to_string())
}

#[workflow]
fn render_all(n: i64) -> String {
    let xs = numbers(n);
    let rendered = map_task!(
        render,
        concurrency = 4,
        min_success_ratio = 0.9,
        prefix = "#".to_string()
    )(x = xs)
    .with_overrides(requests(cpu = "10m"));
    report(rendered)
}

#[workflow]
fn my_wf(x: Vec<i64>) -> Vec<Option<Option<String>>> {
    map_task!(
        my_mappable_task,
        concurrency = 10,
        min_success_ratio = 0.75,
        retries = 1
    )(a = x)
    .with_overrides(requests(cpu = "10m"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("== the workflow `render_all` ==");
    println!("{}", render_all::graph().to_mermaid());
    let summary = render_all::run(15).await?;
    println!("render_all(15) -> {summary}\n");

    println!("== the seed's example ==");
    let out = my_wf::run(vec![1, 2, 3]).await?;
    println!("my_wf([1, 2, 3]) -> {out:?}\n");

    println!("== a map called directly ==");
    let by_ten = map_task!(scale, concurrency = 4, factor = 10);
    println!(
        "{} over [1, 2, 3] -> {:?}",
        by_ten.name(),
        by_ten.call(vec![1, 2, 3]).await?
    );
    Ok(())
}

/// Multiplies.
#[task]
fn scale(x: i64, factor: i64) -> i64 {
    x * factor
}
