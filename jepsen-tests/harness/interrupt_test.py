"""A run that is stopped from outside leaves nothing behind: SIGTERM (the harness stops its nodes
and exits) and SIGKILL of the outer process (the kernel's chain: parent-death signal to unshare,
--kill-child to the inner harness, the PID namespace to everything in it). Polls with deadlines.

  interrupt_test.py BUILD_DIR OUT_DIR        exit 0 pass, 1 fail, 77 skip (not root, ...)
"""
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)

from harness import netns  # noqa: E402


def processes_mentioning(text):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


def one(build_dir, out_dir, sig) -> str:
    """Starts a run, waits until its nodes serve, sends `sig` to the outer process; returns what
    went wrong, or ""."""
    cmd = [sys.executable, os.path.join(HERE, "run"), "--build-dir", build_dir, "test", "--nodes",
           "3", "--duration-s", "60", "--nemesis", "none", "--out", out_dir]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    ready = False
    for line in proc.stdout:  # the run prints this once its nodes serve; bounded by the deadline
        if "peer connections" in line:
            ready = True
            break
        if time.monotonic() > deadline:
            break
    nodes = processes_mentioning(out_dir)
    if not ready or len(nodes) < 3:
        proc.kill()
        return f"the run never got its nodes up ({len(nodes)} processes)"
    proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while processes_mentioning(out_dir) and time.monotonic() < deadline:
        time.sleep(0.1)  # poll interval
    left = processes_mentioning(out_dir)
    return f"after {signal.Signals(sig).name}: processes left {left}" if left else ""


def main():
    build_dir, out_dir = sys.argv[1], sys.argv[2]
    reason = netns.why_unavailable()
    if reason:
        print(f"interrupt_test: SKIP: {reason}")
        return netns.SKIP_EXIT
    failures = []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        problem = one(build_dir, os.path.join(out_dir, signal.Signals(sig).name), sig)
        print(f"interrupt_test: {signal.Signals(sig).name}: {problem or 'nothing left behind'}")
        if problem:
            failures.append(problem)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
