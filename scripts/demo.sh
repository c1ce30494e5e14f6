#!/usr/bin/env bash
# The main command: installs the dependencies, builds, starts a fresh three-node ringkv cluster on
# 127.0.0.1:7000-7002 with tools/ringkv-cluster, writes and reads a raw record at QUORUM, then runs
# the LLM data pipeline demo: a synthetic web corpus bulk-loaded with kvload, near-dedup by MinHash
# bands, a quality filter during which node n2 is killed (QUORUM carries on with 2 of 3), shard
# assignment, n2 restarted and caught up (by hinted handoff, then read repair for anything the
# hints have not yet delivered), and one shard exported by token ranges.
# It ends in the CQL-lite shell (kvsh -k pipeline) on the loaded data; when stdin is not a
# terminal it runs a few example queries with kvsh -e instead. The cluster keeps running;
# `scripts/demo.sh stop` stops it.
#   RINGKV_BUILD_DIR  build directory (default: build)
#   RINGKV_RUN_DIR    where the cluster's data and logs go (default: run; the cluster is run/cluster,
#                     the pipeline's files run/pipeline)
#   RINGKV_DEMO_DOCS  documents in the synthetic corpus (default 2000)
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

pipeline_dir=$run_dir/pipeline
docs=${RINGKV_DEMO_DOCS:-2000}

cluster() { tools/ringkv-cluster --dir "$cluster_dir" "$@"; }
kvctl() { "$build_dir/tools/kvctl" "$@"; }
kvload() { "$build_dir/tools/kvload/kvload" "$@"; }
ringkv-pipeline() { "$build_dir/tools/pipeline/ringkv-pipeline" "$@"; }
kvsh() { "$build_dir/tools/kvsh/kvsh" "$@"; }

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
    kvload) line=$build_dir/tools/kvload/kvload ;;
    ringkv-pipeline) line=$build_dir/tools/pipeline/ringkv-pipeline ;;
    kvsh) line=$build_dir/tools/kvsh/kvsh ;;
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
run cluster start -n 3 --base-port 7000 --cql-base-port 9042 --sync batch
wait_all_three_up

section "A raw record, written and read back at QUORUM (2 of 3 replicas)"
run kvctl --host "$hosts" put doc:0001 \
  '{"url":"https://example.org/a","lang":"en","quality":0.91,"shard":17,"stage":"dedup"}' --cl quorum
run kvctl --host "$hosts" get doc:0001 --cl quorum
if has_command ring; then run kvctl --host 127.0.0.1:7000 ring; fi

section "The pipeline: a synthetic web corpus, its schema, and a bulk load with kvload"
mkdir -p "$pipeline_dir"
rm -f "$pipeline_dir"/*.jsonl
run ringkv-pipeline generate --docs "$docs" --out "$pipeline_dir/corpus.jsonl"
echo "# one record (MinHash band keys, quality features; planted_dup_of marks a planted near-duplicate):"
grep -m 1 planted_dup_of "$pipeline_dir/corpus.jsonl"
run ringkv-pipeline --host "$hosts" run --stages setup
run kvload --host "$hosts" --keyspace pipeline --table docs --progress plain \
  --errors "$pipeline_dir/docs.errors.jsonl" "$pipeline_dir/corpus.jsonl"
echo "# a file with two bad rows: they go to the error file with their line numbers, the good row"
echo "# loads, and the exit status is 1 (loading it again is safe: rows are upserts)"
printf '%s\n' '{"doc_id":"doc-extra-1","url":"https://extra.example/1","lang":"en","lang_score":0.9}' \
  '{"doc_id":"doc-extra-2","lang_score":"high"}' '{"url":"https://extra.example/3"}' \
  >"$pipeline_dir/extra.jsonl"
run --may-fail kvload --host "$hosts" --keyspace pipeline --table docs --progress none \
  --errors "$pipeline_dir/extra.errors.jsonl" "$pipeline_dir/extra.jsonl"
cat "$pipeline_dir/extra.errors.jsonl"

section "The stages; n2 is killed half-way through the quality filter and restarted before catch-up"
run ringkv-pipeline --host "$hosts" run --stages dedup,quality,shard,catchup,export \
  --export "$pipeline_dir/shard-0.jsonl" --export-shard 0 \
  --at "quality:50=tools/ringkv-cluster --dir $cluster_dir kill n2" \
  --at "catchup=tools/ringkv-cluster --dir $cluster_dir restart n2"
echo "# the first lines of the exported shard:"
head -n 3 "$pipeline_dir/shard-0.jsonl"

# A planted near-duplicate and its first band key, for the example queries.
dup_line=$(grep -m 1 planted_dup_of "$pipeline_dir/corpus.jsonl" || true)
dup_id=$(sed 's/^{"doc_id":"\([^"]*\)".*/\1/' <<<"$dup_line")
dup_band=$(grep -o 'b0:[0-9a-f]*' <<<"$dup_line" | head -n 1 || true)
examples=(
  "SELECT * FROM stage_runs;"
  "SELECT doc_id, status, reason, dup_of, planted_dup_of FROM docs WHERE doc_id = '${dup_id:-doc-000042}';"
  "SELECT docs FROM bands WHERE band_key = '${dup_band:-b0:0}';"
  "SELECT doc_id, lang, status, reason, shard FROM docs LIMIT 8;"
  "SELECT count(*) FROM docs;"
)
interactive_only=(
  "TRACING ON;   -- then a SELECT shows which replicas answered and any read repair"
  "CONSISTENCY ALL;"
  "DESCRIBE TABLE docs;"
)

if [ -t 0 ] && [ -t 1 ]; then
  section "The CQL-lite shell on the pipeline's data (kvsh -k pipeline); queries to try first:"
  for q in "${examples[@]}" "${interactive_only[@]}"; do echo "  $q"; done
  cat <<EOF

When you leave the shell (EXIT or Ctrl-D) the cluster keeps running:
stop it with '${stop_env}scripts/demo.sh stop'.
EOF
  kvsh 127.0.0.1:7000 -k pipeline || true
else
  section "Example queries with kvsh -e (stdin is not a terminal: no interactive shell)"
  for q in "${examples[@]}"; do
    run --may-fail kvsh 127.0.0.1:7000 -k pipeline -e "$q"
  done
fi

cat <<EOF

demo: the cluster keeps running: n1 127.0.0.1:7000, n2 127.0.0.1:7001, n3 127.0.0.1:7002
      (data and logs: $cluster_dir; the pipeline's files: $pipeline_dir). Try:
  $build_dir/tools/kvsh/kvsh -k pipeline                  # the CQL-lite shell
  $build_dir/tools/kvload/kvload --help                   # the bulk loader
  $build_dir/tools/pipeline/ringkv-pipeline --help        # the pipeline's stages and hooks
  $build_dir/tools/kvctl --host $hosts get doc:0001 --cl quorum
  tools/ringkv-cluster$launcher_dir_flag status     # also: kill|pause|resume|restart|logs NODE
demo: stop it with '${stop_env}scripts/demo.sh stop' (or 'tools/ringkv-cluster$launcher_dir_flag stop all').
EOF
