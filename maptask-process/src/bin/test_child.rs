//! A child for the process array's tests. It runs its actions in order:
//!
//! `maptask-process-test-child <out dir> <index> <attempt> <action>…` where each action is
//! * `pid`: writes its pid to `<out>/<index>.<attempt>.pid`;
//! * `sleep <ms>`;
//! * `ignore-term`: ignores `SIGTERM` from now on;
//! * `say <text>`: prints the text on stdout and on stderr;
//! * `ok <value>`: writes `<out>/<index>.ok` and exits 0;
//! * `fail <recoverable|permanent> <message>`: writes `<out>/<index>.err` and exits 0;
//! * `exit <code>`: exits without a result.

use std::path::{Path, PathBuf};

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("write the result");
    std::fs::rename(&tmp, path).expect("rename the result");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(&args[0]);
    let index = &args[1];
    let attempt = &args[2];
    let mut actions = args[3..].iter();
    while let Some(action) = actions.next() {
        let mut arg = || actions.next().expect("an argument").clone();
        match action.as_str() {
            "pid" => write_atomically(
                &out.join(format!("{index}.{attempt}.pid")),
                &std::process::id().to_string(),
            ),
            "sleep" => {
                let ms: u64 = arg().parse().expect("milliseconds");
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            "ignore-term" => {
                // SAFETY: installing SIG_IGN has no preconditions.
                unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            }
            "say" => {
                let text = arg();
                println!("{text}");
                eprintln!("{text}");
            }
            "ok" => {
                write_atomically(&out.join(format!("{index}.ok")), &arg());
                std::process::exit(0);
            }
            "fail" => {
                let kind = arg();
                let message = arg();
                eprintln!("failing: {message}");
                write_atomically(
                    &out.join(format!("{index}.err")),
                    &format!("{kind} {message}"),
                );
                std::process::exit(0);
            }
            "exit" => std::process::exit(arg().parse().expect("an exit code")),
            other => panic!("unknown action `{other}`"),
        }
    }
}
