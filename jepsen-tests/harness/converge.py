"""After the heal: do the replicas hold the same data? (`run test --converge-by repair|hints`)

Two views of the same question, both asked of every node through kvctl from 127.0.0.1:
  merkle  each node's `kvctl merkle KEYSPACE`: per range it replicates, every replica's Merkle
          root; a range whose roots are not all equal (or that a replica did not answer) differs
  dump    each node's `kvctl dump KEYSPACE`: the objects it stores; each key must be held by RF
          nodes with the same sibling and tombstone counts (checker.replica_differences)
Plus the two ways to get there: `kvctl repair` on every node (anti-entropy), and waiting until no
node holds a hint (hinted handoff). Every wait is a poll with a deadline.
"""
import json
import subprocess
import time

from harness import checker


def _kvctl(c, node, *argv, timeout_s=30):
    """kvctl against one node in JSON; (exit status, parsed output or None, stderr)."""
    try:
        r = subprocess.run([c.kvctl, "--host", node.address, "--timeout-ms", "5000", "--format",
                            "json", *argv], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return None, None, f"kvctl {' '.join(argv)} gave no answer within {timeout_s} s"
    try:
        out = json.loads(r.stdout) if r.stdout.strip() else None
    except ValueError:
        out = None
    return r.returncode, out, r.stderr.strip()


def differences(c, keyspace, rf):
    """What differs between replicas now, merkle view then dump view; [] when they agree."""
    merkles, dumps, out = {}, {}, []
    for nd in c.nodes:
        code, merkle, err = _kvctl(c, nd, "merkle", keyspace)
        if code != 0 or merkle is None:
            out.append(f"kvctl failed: merkle on {nd.name}: {err}")
            continue
        merkles[nd.name] = merkle
        code, dump, err = _kvctl(c, nd, "dump", keyspace, timeout_s=60)
        if code != 0 or dump is None:
            out.append(f"kvctl failed: dump on {nd.name}: {err}")
            continue
        dumps[nd.name] = dump["objects"]
    return out + checker.merkle_differences(merkles) + checker.replica_differences(dumps, rf)


def wait_agreed(c, keyspace, rf, timeout_s):
    """Polls until the replicas agree; returns the last differences ([] when they agreed)."""
    deadline = time.monotonic() + timeout_s
    while True:
        diff = differences(c, keyspace, rf)
        if not diff or time.monotonic() >= deadline:
            return diff
        time.sleep(0.5)  # poll interval: trees take a write in the background


def repair_all(c, keyspace, timeout_s):
    """`kvctl repair KEYSPACE` on every node in turn, each retried until it exits 0 (it is
    refused while the node's trees build, or while it is busy with a peer's exchange). Returns
    (each node's final report, problems)."""
    deadline = time.monotonic() + timeout_s
    reports, problems = {}, []
    for nd in c.nodes:
        last = ""
        while nd.name not in reports:
            left = int(deadline - time.monotonic())
            if left < 1:
                problems.append(f"{nd.name}: kvctl repair did not succeed within {timeout_s} s "
                                f"({last})")
                break
            code, report, err = _kvctl(c, nd, "repair", keyspace, "--wait-timeout-s",
                                       str(left), timeout_s=left + 5)
            if code == 0 and report is not None:
                reports[nd.name] = report
            else:
                last = err
                time.sleep(0.5)  # poll interval before asking again
    return reports, problems


def hints_pending(c):
    """Hints every node holds, by "holder->target"; None when a node did not answer."""
    try:
        r = subprocess.run([c.kvctl, "--host", ",".join(c.hosts()), "--timeout-ms", "2000",
                            "--format", "json", "hints"], capture_output=True, text=True,
                           timeout=30)
        rows = json.loads(r.stdout) if r.returncode == 0 else None
    except (subprocess.TimeoutExpired, ValueError):
        return None
    if rows is None:
        return None
    return {f"{h['node']}->{h['target']}": h["count"] for h in rows if h["count"] > 0}


def wait_hints_drained(c, timeout_s):
    """Polls until no node holds a hint; (seconds it took or None, the last hints seen)."""
    start = time.monotonic()
    while True:
        pending = hints_pending(c)
        if pending == {}:
            return time.monotonic() - start, pending
        if time.monotonic() - start >= timeout_s:
            return None, pending
        time.sleep(0.2)  # poll interval
