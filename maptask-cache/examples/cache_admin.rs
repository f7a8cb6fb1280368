//! `cache stats` and `cache clear [--task NAME]` on the default store, until the CLI has them.
//!
//! ```sh
//! cargo run -p maptask-cache --example cache_admin -- stats
//! cargo run -p maptask-cache --example cache_admin -- clear --task my_crate::render
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["stats"] => {
            let stats = maptask_cache::stats()?;
            println!(
                "{} ({} bytes on disk, {} entries)",
                stats.path.display(),
                stats.file_bytes,
                stats.entries()
            );
            for (task, t) in &stats.tasks {
                println!("{task}\t{} entries\t{} bytes", t.entries, t.bytes);
            }
        }
        ["clear"] => println!("removed {} entries", maptask_cache::clear(None)?),
        ["clear", "--task", task] => {
            println!("removed {} entries", maptask_cache::clear(Some(task))?)
        }
        _ => return Err("usage: cache_admin stats | clear [--task NAME]".into()),
    }
    Ok(())
}
