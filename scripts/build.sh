#!/usr/bin/env bash
# Installs the dependencies and builds ringkv into ./build (or $RINGKV_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build_dir=${RINGKV_BUILD_DIR:-build}
jobs=${RINGKV_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${RINGKV_BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$build_dir" -j "$jobs"
