"""Runs the harness inside a private network namespace (DESIGN.md §8, network safety rule).

The outer process re-executes the harness under
    unshare --net --pid --fork --kill-child --mount-proc
so that everything the run starts (kvnode processes, workload clients, nftables rules) lives in a
namespace holding only its own loopback. Cleanup does not depend on our code running to the end:
the inner harness is PID 1 of a new PID namespace, so when it exits, however it exits, the kernel
SIGKILLs every process left in that namespace; --kill-child SIGKILLs the inner harness if the
unshare process itself dies; and the network namespace, with its firewall rules, disappears with
its last process. The host's own firewall and network configuration are never touched.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

IN_NS_ENV = "RINGKV_JEPSEN_IN_NS"
# ctest's SKIP_RETURN_CODE: a run that cannot isolate itself says why and skips, never passes.
SKIP_EXIT = 77


def inside() -> bool:
    return os.environ.get(IN_NS_ENV) == "1"


def why_unavailable() -> str:
    """Empty when a private namespace can be made here; otherwise the reason it cannot."""
    if os.geteuid() != 0:
        return "not root: unshare -n and nftables need root"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) not found"
    if shutil.which("nft") is None:
        return "nft not found (scripts/install-deps.sh installs nftables)"
    probe = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "true"],
                           capture_output=True, text=True, timeout=20)
    if probe.returncode != 0:
        return "unshare --net --pid failed: " + probe.stderr.strip()
    return ""


def reexec_inside(argv, time_limit_s: float) -> int:
    """Runs `argv` (the harness command line) inside a fresh namespace; returns its exit code.

    Bounded: after time_limit_s the inner harness gets SIGTERM, 10 s later the unshare process gets
    SIGKILL (which, through --kill-child and the PID namespace, kills everything inside).
    """
    env = dict(os.environ, **{IN_NS_ENV: "1"})
    cmd = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc", "--",
           sys.executable] + list(argv)
    # The last link of the chain: if this process dies, even by SIGKILL, the kernel SIGKILLs
    # unshare, whose --kill-child SIGKILLs the inner harness, whose PID namespace then dies.
    proc = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    deadline = time.monotonic() + time_limit_s
    try:
        while True:
            try:
                return proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"jepsen: the run passed its time limit ({time_limit_s:.0f} s); stopping it",
                      file=sys.stderr)
                _stop(proc)
                return 124
    except KeyboardInterrupt:
        _stop(proc)
        return 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _die_with_parent():
    PR_SET_PDEATHSIG = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _stop(proc: subprocess.Popen) -> None:
    # SIGTERM the inner harness (the unshare process's only child) so it can stop its nodes and
    # write what it has; then SIGKILL unshare, which takes the whole namespace with it.
    for child in _children(proc.pid):
        try:
            os.kill(child, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _children(pid: int):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def setup_inside() -> None:
    """In the new namespace: bring up its loopback (it starts down), and make SIGTERM an exception
    so `finally` blocks run (PID 1 ignores signals it has no handler for)."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
