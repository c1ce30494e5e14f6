#!/usr/bin/env bash
# The test command: installs every dependency, builds, runs the fuzzers for a bounded time, then
# every test (unit, end-to-end against real kvnode processes on 127.0.0.1).
#   RINGKV_FUZZ_SECONDS   seconds per fuzz target (default 30; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build_dir=${RINGKV_BUILD_DIR:-build}

fuzz_seconds=${RINGKV_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" -gt 0 ]; then
  scripts/fuzz.sh "$fuzz_seconds"
else
  echo "test: fuzzing skipped (RINGKV_FUZZ_SECONDS=0)"
fi

# ctest's summary is the last thing printed: it is the verdict.
ctest --test-dir "$build_dir" --output-on-failure -j 2 --timeout 600
