#!/usr/bin/env bash
# The main command: installs the dependencies, builds, starts a fresh three-node ringkv cluster on
# 127.0.0.1:7000-7002 with tools/ringkv-cluster, writes a few LLM-pipeline records, reads them back
# at QUORUM, then kills a node to show QUORUM still works with two of three replicas (and ALL does
# not), and restarts it. The cluster keeps running; `scripts/demo.sh stop` stops it.
#   RINGKV_BUILD_DIR  build directory (default: build)
#   RINGKV_RUN_DIR    where the cluster's data and logs go (default: run; the cluster is run/cluster)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${RINGKV_BUILD_DIR:-build}
export RINGKV_BUILD_DIR=$build_dir
run_dir=${RINGKV_RUN_DIR:-$PWD/run}
cluster_dir=$run_dir/cluster
launcher_dir_flag=""  # how the hints name the cluster directory, when it is not the default
stop_env=""
if [ "$cluster_dir" != "$PWD/run/cluster" ]; then
  launcher_dir_flag=" --dir $cluster_dir"
  stop_env="RINGKV_RUN_DIR=$run_dir "
fi
hosts=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002

cluster() { tools/ringkv-cluster --dir "$cluster_dir" "$@"; }
kvctl() { "$build_dir/tools/kvctl" "$@"; }

# The single node an earlier version of this demo started (run/n1.pid): stop it, so that it
# neither keeps 127.0.0.1:7000 nor outlives 'demo.sh stop'. Only a kvnode is ever signalled.
stop_legacy_node() {
  local pid_file=$run_dir/n1.pid pid
  [ -f "$pid_file" ] || return 0
  pid=$(<"$pid_file")
  if [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q kvnode; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "demo: the single node of an earlier demo (pid $pid) stopped"
  fi
  rm -f "$pid_file"
}

if [ "${1:-}" = stop ]; then
  stop_legacy_node
  if [ -d "$cluster_dir" ]; then cluster stop all; else echo "demo: no cluster in $cluster_dir"; fi
  exit 0
elif [ $# -gt 0 ]; then
  echo "usage: scripts/demo.sh [stop]" >&2
  exit 2
fi

# Shows a command as one would type it from the repository root, quoted for a shell.
show() {
  local first=$1 arg line
  shift
  case $first in
    kvctl) line=$build_dir/tools/kvctl ;;
    cluster) line=tools/ringkv-cluster${launcher_dir_flag} ;;
    *) line=$first ;;
  esac
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_:,./=+-]+$ ]]; then
      line+=" $arg"
    else
      line+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  echo "\$ $line"
}
# Prints a command, runs it and prints its output, ending in a newline (kvctl get prints a value's
# raw bytes, with no newline of its own). A failure ends the demo, unless the first argument is
# --may-fail: then the exit status is shown.
run() {
  local may_fail=false out rc=0
  if [ "$1" = --may-fail ]; then may_fail=true; shift; fi
  show "$@"
  out=$("$@") || rc=$?
  [ -z "$out" ] || printf '%s\n' "$out"
  if $may_fail; then
    echo "(exit status $rc)"
  elif [ $rc -ne 0 ]; then
    echo "demo: that failed (exit status $rc); node logs are in $cluster_dir" >&2
    exit $rc
  fi
}
section() { printf '\n=== %s\n' "$*"; }

# Polls until a read that needs all three replicas is answered (found or not found: both mean
# three replicas replied), i.e. the node coordinating it believes all three up. Bounded: 30 s.
wait_all_three_up() {
  local rc
  for _ in $(seq 150); do
    rc=0
    kvctl --host "$hosts" --timeout-ms 2000 get demo:probe --r 3 >/dev/null 2>&1 || rc=$?
    if [ $rc -eq 0 ] || [ $rc -eq 3 ]; then return 0; fi
    sleep 0.2
  done
  echo "demo: the three nodes did not all see each other within 30 s; logs in $cluster_dir" >&2
  return 1
}

# Whether this kvctl has the subcommand $1 (ring, getendpoints: they arrive with the cluster).
has_command() { kvctl --help 2>/dev/null | grep -Eq "^ +$1( |$)"; }

scripts/build.sh

section "A fresh three-node cluster (tools/ringkv-cluster)"
stop_legacy_node
if [ -d "$cluster_dir" ]; then cluster wipe; fi
run cluster start -n 3 --base-port 7000 --sync batch
wait_all_three_up

section "Pipeline records, written and read back at QUORUM (2 of 3 replicas)"
records=(
  'doc:0001={"url":"https://example.org/a","lang":"en","quality":0.91,"dedup_sig":"mh:5f1c9a2e","shard":17,"stage":"dedup"}'
  'doc:0002={"url":"https://example.de/b","lang":"de","quality":0.78,"dedup_sig":"mh:0be47d13","shard":4,"stage":"quality"}'
  'doc:0003={"url":"https://example.fr/c","lang":"fr","quality":0.42,"dedup_sig":"mh:5f1c9a2e","shard":17,"stage":"dropped:duplicate"}'
)
for record in "${records[@]}"; do
  run kvctl --host "$hosts" put "${record%%=*}" "${record#*=}" --cl quorum
done
for record in "${records[@]}"; do
  run kvctl --host "$hosts" get "${record%%=*}" --cl quorum
done
run kvctl --host "$hosts" --format json get doc:0001 --cl quorum

section "What a node says about itself, and about the ring"
run kvctl --host 127.0.0.1:7000 info
if has_command ring; then run kvctl --host 127.0.0.1:7000 ring; fi
if has_command getendpoints; then run kvctl --host 127.0.0.1:7000 getendpoints doc:0001; fi

section "n3 crashes (SIGKILL): QUORUM needs 2 of 3 replicas, so it still works"
run cluster kill n3
run cluster status
run kvctl --host "$hosts" put doc:0004 \
  '{"url":"https://example.org/d","lang":"en","quality":0.88,"dedup_sig":"mh:77aa01c4","shard":9,"stage":"tokenized"}' \
  --cl quorum
run kvctl --host "$hosts" get doc:0004 --cl quorum
run kvctl --host "$hosts" get doc:0001 --cl quorum
echo "# ALL needs all three replicas: UNAVAILABLE at once (exit status 4), not a timeout"
run --may-fail kvctl --host "$hosts" get doc:0004 --cl all
if has_command ring; then run kvctl --host 127.0.0.1:7000 ring; fi

section "n3 restarts on its data and rejoins"
run cluster restart n3
wait_all_three_up
echo "# doc:0004 was written while n3 was down; ALL reads it from all three (and read-repairs n3)"
run kvctl --host "$hosts" get doc:0004 --cl all
run cluster status

cat <<EOF

demo: the cluster keeps running: n1 127.0.0.1:7000, n2 127.0.0.1:7001, n3 127.0.0.1:7002
      (data and logs: $cluster_dir). Try:
  $build_dir/tools/kvctl --host $hosts get doc:0002 --cl quorum
  $build_dir/tools/kvctl --host $hosts put doc:0005 '{"lang":"en","stage":"dedup"}' --cl all
  $build_dir/tools/kvctl --host $hosts --format json get doc:0001
  $build_dir/tools/kvctl --help
  tools/ringkv-cluster$launcher_dir_flag status     # also: kill|pause|resume|restart|logs NODE
demo: stop it with '${stop_env}scripts/demo.sh stop' (or 'tools/ringkv-cluster$launcher_dir_flag stop all').
EOF
