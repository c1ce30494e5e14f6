#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for SECONDS
# (default 30). Exits non-zero if any target finds a crash, a leak, a timeout or an abort.
#
#   scripts/fuzz.sh [SECONDS]
#
# Targets: frame_fuzz (proto/frame_fuzz.cc: FrameDecoder over a chunked stream, every field read),
# object_fuzz (storage/object_fuzz.cc: DecodeObject, then a round trip) and cql_parser_fuzz
# (cql/parser_fuzz.cc: CQL-lite statement text, splitting, literal typing, stored values) and
# cql_native_fuzz (cql/native/native_fuzz.cc: a CQL native protocol byte stream, frame headers,
# every request body, bind values of each type). Seeds are written by
# the targets themselves (RINGKV_FUZZ_WRITE_SEEDS), so they follow the schema and the encoding. The
# corpus grows in build-fuzz/corpus/<target>/ across runs; findings land in
# build-fuzz/findings/<target>-crash-* and reproduce with: build-fuzz/<dir>/<target> <file>.
set -euo pipefail

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"
targets=(frame_fuzz object_fuzz cql_parser_fuzz cql_native_fuzz)

for tool in clang clang++ cmake ninja; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool not found (scripts/install-deps.sh)" >&2; exit 2; }
done

mkdir -p "$build"
# Only the fuzz targets and what they link are built: clang compiles the project's libraries again
# with sanitizers, and the machine's cores are shared.
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRINGKV_FUZZ=ON -DRINGKV_WERROR=OFF >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log" >&2; echo "fuzz: configure failed" >&2; exit 2; }
ninja -C "$build" -j2 "${targets[@]}" >"$build/build.log" 2>&1 ||
  { tail -50 "$build/build.log" >&2; echo "fuzz: build failed" >&2; exit 2; }

binary() {
  case "$1" in
    frame_fuzz) echo "$build/proto/frame_fuzz" ;;
    object_fuzz) echo "$build/storage/object_fuzz" ;;
    cql_parser_fuzz) echo "$build/cql/cql_parser_fuzz" ;;
    cql_native_fuzz) echo "$build/cql/cql_native_fuzz" ;;
  esac
}

mkdir -p "$build/findings"
status=0
for target in "${targets[@]}"; do
  bin="$(binary "$target")"
  seeds="$build/seeds/$target"
  corpus="$build/corpus/$target"
  log="$build/$target.log"
  rm -rf "$seeds"
  mkdir -p "$seeds" "$corpus"
  RINGKV_FUZZ_WRITE_SEEDS="$seeds" "$bin" >/dev/null 2>&1 ||
    { echo "fuzz $target: could not write seeds" >&2; status=1; continue; }

  # New inputs go to the first directory (the corpus); the seeds are read only.
  set +e
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$target-" "$corpus" "$seeds" >"$log" 2>&1
  rc=$?
  set -e

  execs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)"
  took="$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
  [ -n "$took" ] || took="$seconds"
  if [ "$rc" -eq 0 ] && ! grep -q "^==[0-9]*==ERROR\|^SUMMARY: \|deadly signal" "$log"; then
    echo "fuzz $target: ${execs:-?} executions in ${took}s, no finding"
  else
    status=1
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)"
    echo "fuzz $target: FINDING after ${execs:-?} executions (exit $rc)"
    grep -m1 -E "^==[0-9]+==ERROR|^SUMMARY|deadly signal|uncaught exception|terminate called|frame_fuzz: |object_fuzz: |cql_parser_fuzz: |cql_native_fuzz: " "$log" |
      sed 's/^/  /' || true
    grep -m1 "what():" "$log" | sed 's/^/  /' || true
    [ -n "$artifact" ] && echo "  reproduce: $bin $artifact"
    echo "  log: $log"
  fi
done
exit "$status"
