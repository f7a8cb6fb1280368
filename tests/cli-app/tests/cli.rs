//! The demo program's command line, run as a user would (issue 10).

use assert_cmd::Command;
use predicates::prelude::*;

fn demo() -> Command {
    let mut command = Command::cargo_bin("maptask-demo").unwrap();
    command.env_remove("RUST_LOG");
    command
}

#[test]
fn list_shows_every_task_and_workflow_with_its_interface() {
    demo()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "workflow demo.render_all(xs: Vec<i64>) -> Vec<Option<String>>\n    Renders every number; half of them may fail.\n",
        ))
        .stdout(predicate::str::contains(
            "task demo.scale(x: i64, factor: i64) -> i64\n    Multiplies.\n",
        ));
}

#[test]
fn list_json_is_one_object_per_entry() {
    let output = demo().args(["list", "--json"]).output().unwrap();
    assert!(output.status.success());
    let all: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let scale = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "demo.scale")
        .unwrap();
    assert_eq!(scale["kind"], "task");
    assert_eq!(scale["inputs"][1]["name"], "factor");
    assert_eq!(scale["inputs"][1]["rust_type"], "i64");
    assert_eq!(scale["output"]["type"], "i64");
}

#[test]
fn run_a_workflow_with_a_tolerant_map_prints_its_outputs() {
    demo()
        .args([
            "run",
            "demo.render_all",
            "--input",
            "xs=[1, 13, 3]",
            "--json",
        ])
        .assert()
        .success()
        .stdout("[\"#1\",null,\"#3\"]\n")
        .stderr("");
}

#[test]
fn run_prints_pretty_json_without_json_and_reads_an_inputs_file() {
    let dir = std::env::temp_dir().join(format!("maptask-cli-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("inputs.json");
    std::fs::write(&file, r#"{"xs": [1, 2, 3], "factor": 10}"#).unwrap();
    demo()
        .args(["run", "demo.scale_sum", "--inputs"])
        .arg(&file)
        .assert()
        .success()
        .stdout("60\n");
    demo()
        .args(["run", "demo.render_all", "--input", "xs=[2]"])
        .assert()
        .success()
        .stdout("[\n  \"#2\"\n]\n");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn run_a_task() {
    demo()
        .args([
            "run",
            "demo.scale",
            "--input",
            "x=4",
            "--input",
            "factor=5",
            "--json",
        ])
        .assert()
        .success()
        .stdout("20\n");
}

#[test]
fn a_failed_run_exits_1_with_the_error_chain() {
    demo()
        .args(["run", "demo.render_all", "--input", "xs=[13, 13, 3]"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "error: `demo.render_all` failed: workflow `demo.render_all` failed at node `n0` \
             (demo.render.map): map `demo.render.map` failed: 2 of 3 elements failed, at least \
             2 had to succeed; [0-1]: 13 is unlucky\n",
        );
    demo()
        .args(["run", "demo.render", "--input", "a=13"])
        .assert()
        .code(1)
        .stderr("error: `demo.render` failed: after 1 attempt:\n  attempt 1: 13 is unlucky\n");
}

#[test]
fn graph_prints_mermaid_or_dot() {
    demo()
        .args(["graph", "demo.scale_sum"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("flowchart TD\n"))
        .stdout(predicate::str::contains(
            "scaled[\"scaled<br/>map demo.scale\"]",
        ))
        .stdout(predicate::str::contains("    scaled --> n1\n"));
    demo()
        .args(["graph", "demo.scale_sum", "--format", "dot"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("digraph"));
}

/// Each bad input: exit code 2, a message naming the input, its Rust type and the mistake, and
/// nothing on stdout.
#[test]
fn bad_inputs_exit_2_with_a_message_naming_the_input() {
    let cases: [(&[&str], &str); 9] = [
        (
            &["run", "demo.render_all", "--input", "xs=[1,"],
            "error: input `xs` (Rust type `Vec<i64>`): malformed JSON `[1,`: EOF while parsing a value at line 1 column 3\n",
        ),
        (
            &["run", "demo.scale_sum", "--input", "xs=[1]"],
            "error: input `factor` (Rust type `i64`) is missing; pass it with `--input factor=<JSON>` or in `--inputs FILE`\n",
        ),
        (
            &["run", "demo.render_all", "--input", "xs=[1]", "--input", "ys=[2]"],
            "error: `demo.render_all` has no input `ys`; its inputs are: `xs: Vec<i64>`\n",
        ),
        (
            &["run", "demo.render_all", "--input", "xs=[\"a\"]"],
            "error: input `xs`: expected Rust type `Vec<i64>`, but invalid type: string \"a\", expected i64\n",
        ),
        (
            &["run", "demo.scale_sum", "--input", "xs=[1]", "--input", "factor=1.5"],
            "error: input `factor`: expected Rust type `i64`, but invalid type: floating point `1.5`, expected i64\n",
        ),
        (
            &["run", "demo.nope"],
            "error: no task or workflow named `demo.nope` in this binary; known: `demo.flaky`, `demo.flaky_all`, `demo.noop`, `demo.noops`, `demo.render`, `demo.render_all`, `demo.report`, `demo.reports`, `demo.scale`, `demo.scale_sum`, `demo.sleepy`, `demo.sleepy_all`, `demo.total`\n",
        ),
        (
            &["graph", "demo.nope"],
            "error: no task or workflow named `demo.nope` in this binary; known: `demo.flaky`, `demo.flaky_all`, `demo.noop`, `demo.noops`, `demo.render`, `demo.render_all`, `demo.report`, `demo.reports`, `demo.scale`, `demo.scale_sum`, `demo.sleepy`, `demo.sleepy_all`, `demo.total`\n",
        ),
        (
            &["graph", "demo.scale"],
            "error: `demo.scale` is a task, not a workflow; workflows: `demo.flaky_all`, `demo.noops`, `demo.render_all`, `demo.reports`, `demo.scale_sum`, `demo.sleepy_all`\n",
        ),
        (
            &["run", "demo.render_all", "--input", "xs"],
            "error: `--input xs`: expected NAME=JSON, e.g. `--input x='[1, 2, 3]'`\n",
        ),
    ];
    for (args, stderr) in cases {
        demo().args(args).assert().code(2).stdout("").stderr(stderr);
    }
}

#[test]
fn an_unknown_backend_is_a_usage_error() {
    demo()
        .args([
            "run",
            "demo.render_all",
            "--input",
            "xs=[1]",
            "--backend",
            "cloud",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: invalid value 'cloud' for '--backend <BACKEND>'\n  [possible values: local, process]",
        ));
}

#[test]
fn help_and_version() {
    demo()
        .arg("--version")
        .assert()
        .success()
        // The program's own version (cli-app's), then maptask's.
        .stdout(predicate::str::starts_with("maptask-demo 0.0.0 (maptask "));
    demo()
        .args(["run", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--input <NAME=JSON>"))
        .stdout(predicate::str::contains("--backend <BACKEND>"));
    demo()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("RUST_LOG"));
}

#[test]
fn rust_log_turns_on_logs_on_stderr() {
    // Without RUST_LOG, a successful run prints nothing on stderr; with it, the engine's spans
    // and events appear there, and stdout keeps only the output.
    demo()
        .env("RUST_LOG", "maptask_runtime=debug")
        .args(["run", "demo.render_all", "--input", "xs=[1]", "--json"])
        .assert()
        .success()
        .stdout("[\"#1\"]\n")
        .stderr(predicate::str::is_empty().not());
}

/// On a terminal (a pseudo-terminal from util-linux's `script`), `run` draws a bar per map on
/// stderr; the captured stream holds the bar's final counts.
#[test]
fn run_on_a_terminal_draws_a_bar_per_map() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("MAPTASK_CI").is_none(),
            "MAPTASK_CI is set but util-linux's `script` is missing"
        );
        eprintln!("SKIPPED: util-linux's `script` is not installed");
        return;
    }
    let demo = env!("CARGO_BIN_EXE_maptask-demo");
    let command = format!("{demo} run demo.sleepy_all --input 'ms=[50, 50, 13000]'");
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("RUST_LOG")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(output.status.success());
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(
        screen.contains("n0 map demo.sleepy.map ["),
        "no bar in: {screen:?}"
    );
    assert!(
        screen.contains("] 3/3 · 2 done, 1 failed · succeeded · "),
        "no final counts in: {screen:?}"
    );
    // The output itself still comes last, on stdout.
    assert!(
        screen.contains("[\r\n  50,\r\n  50,\r\n  null\r\n]"),
        "{screen:?}"
    );
}
