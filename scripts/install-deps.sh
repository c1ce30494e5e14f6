#!/usr/bin/env bash
# Installs every package ringkv needs to build, test and run, from Debian 12's archive.
# Safe to run any number of times: apt-get install skips what is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev          # Asio (header-only with Boost.System)
  libleveldb-dev libsnappy-dev              # storage engine; LevelDB's CMake target links snappy
  capnproto libcapnp-dev                    # wire schema compiler and runtime
  libcli11-dev libfmt-dev                   # flags and formatting
  nlohmann-json3-dev                        # --format json output and config files
  libgtest-dev libgmock-dev                 # unit and end-to-end tests
  clang libclang-rt-14-dev                  # libFuzzer targets (clang -fsanitize=fuzzer)
  python3 procps                            # test harness helpers (ps, kill)
  python3-cassandra                         # DataStax Python driver: the CQL native protocol test
  libedit-dev                               # kvsh line editing, history, completion
  tmux                                      # kvsh tests drive the shell on a pseudo-terminal
  nftables iproute2 util-linux              # jepsen-tests: partitions in a private namespace
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
