#!/usr/bin/env bash
# One map element in a fresh process: the Rust `map-execute` against flytekit's
# `pyflyte-map-execute`, on the same inputs.pb (the fixture seed, `my_mappable_task` over
# [1, 2, 3], index 1), with the same arguments and environment. Wall time and peak RSS of each
# process, median of RUNS runs with the spread (min-max), and a floor: the cost of starting any
# process (`/bin/true`), measured in the same run.
#
#   benches/flyte_entrypoint.sh                  # RUNS=15
#   RUNS=5 benches/flyte_entrypoint.sh
#   MAPTASK_FLYTEKIT_PYTHON=/path/to/venv/bin/python benches/flyte_entrypoint.sh
#
# Uses the venv of .ci/setup.d/20-flytekit.sh (flytekit 1.16.31), creating it when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-15}"
if [[ -z "${MAPTASK_FLYTEKIT_PYTHON:-}" ]]; then
    # shellcheck source=/dev/null
    source .ci/setup.d/20-flytekit.sh
fi
python="$MAPTASK_FLYTEKIT_PYTHON"
pyflyte="$(dirname "$python")/pyflyte-map-execute"

echo "== building flyte-app (release)"
cargo build --release --quiet -p flyte-app
target_dir="${CARGO_TARGET_DIR:-target}"
app="$(cd "$target_dir/release" && pwd)/flyte-app"

echo "== machine: $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (work tree modified)')"
"$python" benches/flyte_entrypoint.py "$RUNS" "$app" "$pyflyte" maptask-flyte/tests/fixtures
