//! A scripted launch for the test child, and watchers of processes through `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use maptask_process::{Attempt, Collected, Launch, ProcessArray, RunDir};

/// The tests measure processes of this test binary, and some measure time: one at a time.
/// (An async lock: each test's runtime awaits it; a failed test does not poison it.)
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

pub type Plan = dyn Fn(usize, u32) -> Vec<&'static str> + Send + Sync;

/// Runs the test child with the actions `plan(index, attempt)` gives.
pub struct Script {
    pub out: PathBuf,
    pub plan: Box<Plan>,
    pub starts: Arc<Mutex<Vec<(usize, u32)>>>,
}

impl Launch for Script {
    type Output = String;

    fn prepare(&self, attempt: &Attempt, command: &mut Command) -> std::io::Result<()> {
        self.starts
            .lock()
            .unwrap()
            .push((attempt.index, attempt.attempt));
        for stale in ["ok", "err"] {
            match std::fs::remove_file(self.out.join(format!("{}.{stale}", attempt.index))) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        command
            .arg(&self.out)
            .arg(attempt.index.to_string())
            .arg(attempt.attempt.to_string())
            .args((self.plan)(attempt.index, attempt.attempt));
        Ok(())
    }

    fn collect(&self, attempt: &Attempt, _status: ExitStatus) -> Collected<String> {
        let i = attempt.index;
        if let Ok(value) = std::fs::read_to_string(self.out.join(format!("{i}.ok"))) {
            return Collected::Output(value);
        }
        match std::fs::read_to_string(self.out.join(format!("{i}.err"))) {
            Ok(text) => {
                let (kind, message) = text.split_once(' ').unwrap();
                Collected::Failed {
                    message: message.to_owned(),
                    recoverable: kind == "recoverable",
                }
            }
            Err(_) => Collected::Missing,
        }
    }
}

/// A fresh run directory for one test, and an array over it running the test child.
pub struct Setup {
    pub array: ProcessArray,
    pub out: PathBuf,
    pub starts: Arc<Mutex<Vec<(usize, u32)>>>,
}

impl Setup {
    pub fn new(test: &str, grace: Duration) -> Setup {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("maptask-process-tests");
        let dir = root.join(format!("{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run = RunDir::create(&dir).unwrap();
        let out = dir.join("out");
        std::fs::create_dir_all(&out).unwrap();
        let array = ProcessArray::builder()
            .program(env!("CARGO_BIN_EXE_maptask-process-test-child"))
            .grace(grace)
            .build(run)
            .unwrap();
        Setup {
            array,
            out,
            starts: Arc::default(),
        }
    }

    pub fn script(
        &self,
        plan: impl Fn(usize, u32) -> Vec<&'static str> + Send + Sync + 'static,
    ) -> Script {
        Script {
            out: self.out.clone(),
            plan: Box::new(plan),
            starts: Arc::clone(&self.starts),
        }
    }

    /// The pid the child of `index`, `attempt` wrote, once it has.
    pub fn pid(&self, index: usize, attempt: u32) -> Option<i32> {
        std::fs::read_to_string(self.out.join(format!("{index}.{attempt}.pid")))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Waits (up to 10 s) for the pid of `index`, `attempt`.
    pub async fn wait_pid(&self, index: usize, attempt: u32) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(pid) = self.pid(index, attempt) {
                return pid;
            }
            assert!(Instant::now() < deadline, "no pid for {index}.{attempt}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Children of this process whose command line mentions this test's directory, including
    /// zombies.
    pub fn my_children(&self) -> Vec<(i32, char)> {
        let me = std::process::id() as i32;
        let marker = self.out.to_string_lossy().into_owned();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Some((state, ppid)) = stat(pid) else {
                continue;
            };
            if ppid != me {
                continue;
            }
            // A zombie has no command line left: count it as ours, since this test process
            // starts no other children while the lock is held.
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if state == 'Z' || String::from_utf8_lossy(&cmdline).contains(&marker) {
                found.push((pid, state));
            }
        }
        found
    }

    /// Waits up to `limit` for this test's children to be gone; returns what is left.
    pub async fn children_after(&self, limit: Duration) -> Vec<(i32, char)> {
        let deadline = Instant::now() + limit;
        loop {
            let left = self.my_children();
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A process's state letter and parent pid, from `/proc/<pid>/stat`.
pub fn stat(pid: i32) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: parse after the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Whether `pid` is alive (exists and is not a zombie).
pub fn alive(pid: i32) -> bool {
    matches!(stat(pid), Some((state, _)) if state != 'Z')
}

/// Records when each watched process dies, polling `/proc` every millisecond on a thread.
pub struct DeathWatch {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<(i32, Instant)>>>,
}

impl DeathWatch {
    pub fn new(pids: Vec<i32>) -> DeathWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut deaths: Vec<(i32, Instant)> = Vec::new();
            while deaths.len() < pids.len() && !flag.load(Ordering::SeqCst) {
                for &pid in &pids {
                    if !deaths.iter().any(|&(p, _)| p == pid) && !alive(pid) {
                        deaths.push((pid, Instant::now()));
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            deaths
        });
        DeathWatch {
            stop,
            thread: Some(thread),
        }
    }

    /// Waits for every death (up to `limit`), then returns the death time of each pid that died.
    /// Waits off the runtime's thread, so that the tasks that reap children keep running.
    pub async fn finish(self, limit: Duration) -> Vec<(i32, Instant)> {
        tokio::task::spawn_blocking(move || self.finish_blocking(limit))
            .await
            .unwrap()
    }

    fn finish_blocking(mut self, limit: Duration) -> Vec<(i32, Instant)> {
        let deadline = Instant::now() + limit;
        let thread = self.thread.take().unwrap();
        while !thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.stop.store(true, Ordering::SeqCst);
        thread.join().unwrap()
    }
}
