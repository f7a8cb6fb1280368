# The cache's default store: keep CI's cached tasks out of $HOME, in a fresh directory per run.
export MAPTASK_CACHE_DIR="${MAPTASK_CI_DIR:-$PWD/target/ci}/cache-store"
rm -rf "$MAPTASK_CACHE_DIR"
mkdir -p "$MAPTASK_CACHE_DIR"
