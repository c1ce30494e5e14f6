#!/usr/bin/env bash
# The main command: installs, builds, starts a ringkv node on 127.0.0.1:7000 and shows a put and
# a get through kvctl. The node keeps running; `scripts/demo.sh stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
run_dir=${RINGKV_RUN_DIR:-$PWD/run}
pid_file=$run_dir/n1.pid
build_dir=${RINGKV_BUILD_DIR:-build}

stop_node() {
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    kill -TERM "$(cat "$pid_file")"
    for _ in $(seq 100); do kill -0 "$(cat "$pid_file")" 2>/dev/null || break; sleep 0.1; done
    echo "demo: node n1 stopped"
  fi
  rm -f "$pid_file"
}

if [ "${1:-}" = stop ]; then
  stop_node
  exit 0
fi

scripts/build.sh
stop_node
mkdir -p "$run_dir"
"$build_dir/node/kvnode" --name n1 --listen 127.0.0.1:7000 --data "$run_dir/n1" --sync batch \
  >"$run_dir/n1.log" 2>&1 &
echo $! >"$pid_file"

kvctl="$build_dir/tools/kvctl --host 127.0.0.1:7000"
for _ in $(seq 100); do $kvctl info >/dev/null 2>&1 && break; sleep 0.1; done
if ! $kvctl info >/dev/null 2>&1; then
  echo "demo: the node did not come up; its log:" >&2
  cat "$run_dir/n1.log" >&2
  exit 1
fi

set -x
$kvctl info
$kvctl put doc:0001 '{"url":"https://example.org/a","lang":"en","quality":0.91,"stage":"dedup"}'
$kvctl get doc:0001; echo   # raw bytes: kvctl adds no newline when writing to a pipe
$kvctl get doc:0001 --format json
{ set +x; } 2>/dev/null
echo
echo "demo: node n1 is running on 127.0.0.1:7000 (log: $run_dir/n1.log)."
echo "demo: try '$build_dir/tools/kvctl --help'; stop it with 'scripts/demo.sh stop'."
