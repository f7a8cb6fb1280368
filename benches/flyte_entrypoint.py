"""Driver of benches/flyte_entrypoint.sh: times one map element per fresh process.

    python flyte_entrypoint.py RUNS RUST_APP PYFLYTE_MAP_EXECUTE FIXTURES_DIR

Each run starts the process under GNU time (`/usr/bin/time -f %M`), which reports the child's
peak RSS: Linux counts the address space a process had before `exec` in its peak, so a child
spawned straight from this Python process would report Python's RSS; under `time` it reports
`time`'s own (about 1 MiB, shown by the `/bin/true` floor) at most. Wall time is measured around
the whole spawn, so the floor row carries the same overhead. Each run's exit code and the one
file it must write are checked, and the output removed. Runs alternate between the contenders so
that drift of the machine affects them alike.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time


def main():
    runs, app, pyflyte, fixtures = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit(f"{GNU_TIME} (GNU time) is needed for peak RSS: apt-get install time")
    work = tempfile.mkdtemp(prefix="maptask-flyte-bench-")
    try:
        # flytekit imports the task's module (app.wf) from its working directory.
        proj = os.path.join(work, "proj")
        shutil.copytree(os.path.join(fixtures, "app"), os.path.join(proj, "app"))
        inputs = os.path.join(work, "inputs.pb")
        shutil.copy(os.path.join(fixtures, "inputs", "my_mappable_task.inputs.pb"), inputs)
        out = os.path.join(work, "out")
        common = [
            "--inputs", inputs, "--output-prefix", out,
            "--raw-output-data-prefix", os.path.join(work, "raw"),
            "--checkpoint-path", os.path.join(work, "raw", "_flytecheckpoints"),
            "--prev-checkpoint", '""',
        ]
        contenders = {
            "rust map-execute": [app, "map-execute", *common, "--resolver", "maptask", "--",
                                 "vars", "", "task-name", "app.wf.my_mappable_task"],
            "pyflyte-map-execute": [pyflyte, *common, "--resolver", "flytekit.core.legacy_map_task.MapTaskResolver",
                                    "--", "vars", "", "resolver", "flytekit.core.python_auto_container.default_task_resolver",
                                    "task-module", "app.wf", "task-name", "my_mappable_task"],
            "floor: /bin/true": ["/bin/true"],
        }
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": work,
               "BATCH_JOB_ARRAY_INDEX_VAR_NAME": "FLYTE_K8S_ARRAY_INDEX", "FLYTE_K8S_ARRAY_INDEX": "1"}
        results = {name: ([], []) for name in contenders}
        # One warm-up run each, so that the page cache holds every binary and module.
        for rnd in range(runs + 1):
            for name, argv in contenders.items():
                wall, rss_kib = run_once(argv, env, proj)
                if name != "floor: /bin/true":
                    expected = os.path.join(out, "1", "outputs.pb")
                    if not os.path.exists(expected):
                        raise SystemExit(f"{name} wrote no {expected}")
                    shutil.rmtree(out)
                if rnd > 0:
                    results[name][0].append(wall)
                    results[name][1].append(rss_kib)
        print(f"\none element (my_mappable_task, index 1) per fresh process, {runs} runs each:\n")
        print("| process | wall time, median (min-max) | peak RSS, median (min-max) |")
        print("|---|---:|---:|")
        for name, (walls, rss) in results.items():
            print(f"| {name} | {fmt_ms(walls)} | {fmt_mib(rss)} |")
        rust_t, py_t = (statistics.median(results[n][0]) for n in ("rust map-execute", "pyflyte-map-execute"))
        rust_m, py_m = (statistics.median(results[n][1]) for n in ("rust map-execute", "pyflyte-map-execute"))
        print(f"\npyflyte-map-execute / rust map-execute: {py_t / rust_t:.0f}x the wall time, "
              f"{py_m / rust_m:.1f}x the peak RSS (goals: >= 100x, >= 8x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


GNU_TIME = "/usr/bin/time"


def run_once(argv, env, cwd):
    rss_file = os.path.join(cwd, ".rss")
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        start = time.perf_counter()
        pid = spawn_in([GNU_TIME, "-f", "%M", "-o", rss_file, *argv], env, cwd, devnull)
        _, status, _ = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    finally:
        os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{argv[0]} exited {code}")
    with open(rss_file) as f:
        rss_kib = int(f.read().split()[-1])
    return wall, rss_kib


def spawn_in(argv, env, cwd, devnull):
    # posix_spawn has no cwd argument before Python 3.13's; change it around the call.
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return os.posix_spawn(argv[0], argv, env, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    finally:
        os.chdir(old)


def fmt_ms(values):
    return f"{statistics.median(values) * 1e3:.2f} ms ({min(values) * 1e3:.2f}-{max(values) * 1e3:.2f})"


def fmt_mib(values):
    return f"{statistics.median(values) / 1024:.1f} MiB ({min(values) / 1024:.1f}-{max(values) / 1024:.1f})"


if __name__ == "__main__":
    main()
