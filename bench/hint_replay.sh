#!/usr/bin/env bash
# bench/hint_replay.sh: what hint replay costs the foreground (issue 11's benchmark).
#
# One run, on one 3-node cluster (127.0.0.1:21100-21102, its own temporary directory):
#   1. n3 is killed; HINTS keys are written at QUORUM through n1 and n2, so they hold ~HINTS hints
#      for n3.
#   2. "replay": n3 is restarted and, at once, kvbench runs workload a (50% reads, 50% updates,
#      QUORUM, CLIENTS clients) for SECONDS while n1 and n2 replay their hints to n3 (throttled by
#      the node defaults or the KVNODE_FLAGS given). Pending hints are printed before and after.
#   3. "no replay": once every hint is delivered, the same kvbench load runs again for SECONDS.
# Prints the machine's load (uptime) and both kvbench summaries: compare their p99 latencies.
# The order (replay first) favours the second phase slightly (warmer caches); say so with the
# figures. Every process is started here and stopped by PID (the cluster launcher's stop).
#
#   bench/hint_replay.sh [--hints N] [--clients N] [--seconds S] [-- KVNODE_FLAGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
hints=100000 clients=50 seconds=20
while [ $# -gt 0 ]; do
  case "$1" in
    --hints) hints=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--hints N] [--clients N] [--seconds S] [-- KVNODE_FLAGS...]" >&2; exit 2 ;;
  esac
done
build=${RINGKV_BUILD_DIR:-build}
dir=$(mktemp -d /tmp/ringkv-hint-bench.XXXXXX)
cluster=(tools/ringkv-cluster --dir "$dir")
trap '"${cluster[@]}" stop all >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
hosts=127.0.0.1:21100,127.0.0.1:21101
all=$hosts,127.0.0.1:21102

pending() {  # hints pending for n3 on n1 and n2
  "$build/tools/kvctl" hints --host "$hosts" --format json 2>/dev/null |
    python3 -c 'import json,sys
d=json.load(sys.stdin); n=0
def walk(x):
    global n
    if isinstance(x, dict):
        if x.get("target") == "n3" and "count" in x: n += int(x["count"])
        for v in x.values(): walk(v)
    elif isinstance(x, list):
        for v in x: walk(v)
walk(d); print(n)'
}

echo "== machine: $(uptime)"
"${cluster[@]}" start -n 3 --base-port 21100 -- "$@" >/dev/null
"${cluster[@]}" kill n3 >/dev/null
echo "== writing $hints keys at QUORUM with n3 down"
"$build/tools/kvbench/kvbench" --hosts "$hosts" --workload load --keys "$hints" --clients 50 \
  --value-bytes 100 --cl quorum --progress-s 0 | tail -3
echo "== pending hints for n3: $(pending)"

bench() {
  "$build/tools/kvbench/kvbench" --hosts "$all" --workload a --keys "$hints" --clients "$clients" \
    --value-bytes 100 --cl quorum --duration-s "$seconds" --progress-s 0
}
echo "== replay: n3 restarted, kvbench a, $clients clients, ${seconds}s"
"${cluster[@]}" restart n3 >/dev/null
bench
echo "== pending hints for n3 after the replay phase: $(pending)"
for _ in $(seq 1 600); do  # bounded: at most 600 polls of 0.5 s
  [ "$(pending)" = "0" ] && break
  sleep 0.5
done
echo "== no replay (pending: $(pending)): kvbench a, $clients clients, ${seconds}s"
bench
echo "== machine: $(uptime)"
