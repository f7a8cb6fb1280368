#!/usr/bin/env bash
# Scenario 1 of issue #6 against flytekit: a no-op task mapped over n = 10^4 elements.
#
# Installs flytekit 1.x from PyPI into a temporary virtual environment, times its local
# `map_task` (scripts/flytekit_map.py), times our `map_task!` on the same scenario with the
# release bench binary, in the same run, and prints both figures per element and their ratio.
#
#   scripts/bench-flytekit.sh              # n = 10000, 5 rounds of flytekit
#   N=1000 ROUNDS=3 scripts/bench-flytekit.sh
#   FLYTEKIT_VENV=/tmp/ftvenv scripts/bench-flytekit.sh   # reuse a venv that has flytekit
#   FLYTEKIT_SPEC='flytekit==1.16.*' scripts/bench-flytekit.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-10000}"
ROUNDS="${ROUNDS:-5}"
FLYTEKIT_SPEC="${FLYTEKIT_SPEC:-flytekit>=1.16,<2}"
PYTHON="${PYTHON:-python3}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ -n "${FLYTEKIT_VENV:-}" ]]; then
    venv="$FLYTEKIT_VENV"
else
    venv="$work/venv"
fi
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import flytekit' 2>/dev/null; then
    echo "== creating a virtual environment in $venv and installing $FLYTEKIT_SPEC (a minute or two)"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$FLYTEKIT_SPEC"
fi

echo "== building the bench binary (release)"
cargo build --release --quiet --example bench
target_dir="${CARGO_TARGET_DIR:-target}"
bench="$target_dir/release/examples/bench"

echo "== machine: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (work tree modified)')"
# Ours before and after flytekit, so that drift of the machine shows.
echo "== maptask: map_task!(noop) at n = $N (before flytekit)"
"$bench" --only 1 --sizes "$N" --json "$work/ours-before.json" >/dev/null
echo "== flytekit: map_task(noop) in a local workflow at n = $N, $ROUNDS rounds"
"$venv/bin/python" scripts/flytekit_map.py "$N" "$ROUNDS" 64 >"$work/flytekit.json"
echo "== maptask: map_task!(noop) at n = $N (after flytekit)"
"$bench" --only 1 --sizes "$N" --json "$work/ours-after.json" >/dev/null

"$venv/bin/python" - "$work" <<'PY'
import json, statistics, sys, pathlib
work = pathlib.Path(sys.argv[1])
ft = json.loads((work / "flytekit.json").read_text())
ours = [json.loads((work / f).read_text())["scenario1"] for f in ("ours-before.json", "ours-after.json")]
ft_ns = statistics.median(ft["per_element_ns"])
print()
print(f"flytekit {ft['flytekit']} (Python {ft['python']}), local map_task, n = {ft['n']}:")
print(f"  per element: {ft_ns / 1e3:.1f} us  (rounds: {', '.join(f'{v / 1e3:.1f}' for v in ft['per_element_ns'])} us)")
print()
print("| variant | concurrency | ns per element (before / after) | flytekit / maptask |")
print("|---|---:|---:|---:|")
for c in (64, 0):
    for key, label in (("map_task_ns", "maptask map_task!"), ("engine_ns", "maptask run_map")):
        vals = [row[key] for run in ours for row in run if row["concurrency"] == c]
        worst = max(vals)
        label_c = "unbounded" if c == 0 else str(c)
        print(f"| {label} | {label_c} | {' / '.join(f'{v:.1f}' for v in vals)} | {ft_ns / worst:,.0f}x |")
vals = [row["map_task_ns"] for run in ours for row in run if row["concurrency"] == 64]
print()
print(f"maptask is {ft_ns / max(vals):,.0f}x faster per element than flytekit "
      f"(map_task!, concurrency 64, the slower of its two runs; goal: at least 1,000x)")
PY
