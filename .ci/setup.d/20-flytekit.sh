# flytekit 1.16.31 in a virtual environment, for the live Flyte interop test
# (tests/flyte-app/tests/flyte/interop.rs) and the entrypoint benchmark (benches/flyte_entrypoint.sh).
# Sourced by .ci/run; exports MAPTASK_FLYTEKIT_PYTHON, the venv's python.
MAPTASK_FLYTEKIT_VENV="${MAPTASK_CI_DIR:-$PWD/target/ci}/flytekit-venv"
if ! "$MAPTASK_FLYTEKIT_VENV/bin/python" -c 'import flytekit, sys; sys.exit(flytekit.__version__ != "1.16.31")' 2>/dev/null; then
    python3 -m venv "$MAPTASK_FLYTEKIT_VENV"
    "$MAPTASK_FLYTEKIT_VENV/bin/pip" install --quiet --disable-pip-version-check flytekit==1.16.31
fi
export MAPTASK_FLYTEKIT_PYTHON="$MAPTASK_FLYTEKIT_VENV/bin/python"
echo "flytekit: $("$MAPTASK_FLYTEKIT_PYTHON" -c 'import flytekit; print(flytekit.__version__)')"
