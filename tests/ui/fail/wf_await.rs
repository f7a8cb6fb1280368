use maptask::prelude::*;

#[task]
async fn fetch(url: String) -> String {
    url
}

#[workflow]
fn wf(url: String) -> String {
    let page = fetch(url).await;
    page
}

fn main() {}
