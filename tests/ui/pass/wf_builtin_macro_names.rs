//! Tasks named like built-in macros (`file`, `line`, `env`, `cfg`) called in a workflow.
use maptask::prelude::*;

#[task]
fn file(name: String) -> String {
    name
}

#[task]
fn line(text: String) -> usize {
    text.len()
}

#[task]
fn env(key: String) -> String {
    key
}

#[task]
fn cfg(n: usize) -> usize {
    n
}

#[workflow]
fn wf(name: String) -> (usize, String) {
    let f = file(name);
    let l = line(f);
    let e = env({ "HOME".to_owned() });
    let c = cfg(l);
    (c, e)
}

fn main() {
    let _ = wf::graph();
    let _ = map_task!(line);
}
