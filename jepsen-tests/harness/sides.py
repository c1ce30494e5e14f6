#!/usr/bin/env python3
"""Availability per side of a partition, from run directories (history.jsonl, faults.json):

  jepsen-tests/harness/sides.py run/jepsen/20261207-230000-1 run/jepsen/...

For each run, and pooled over all of them: of the operations invoked while a fault held, the
share acknowledged (ok / (ok + fail + info)) for the clients whose home node (the node a pinned
client talks to; a client with every node as contact point starts there) the fault cut off, and
for the others. The mode a run's clients used (result.json's client_contacts) is printed beside
it; pool only runs of one mode.
"""
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import checker  # noqa: E402


def _line(pooled):
    return "; ".join(f"{side} {checker._pct(t['availability'])} of {t['ops']} "
                     f"(ok {t['ok']}, fail {t['fail']}, info {t['info']})"
                     for side, t in pooled.items())


def main(run_dirs):
    if not run_dirs:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    everything = []
    for d in run_dirs:
        with open(os.path.join(d, "faults.json")) as f:
            faults = json.load(f)
        per_fault = checker.fault_figures(checker.load([os.path.join(d, "history.jsonl")]),
                                          faults)
        mode = "?"
        if os.path.exists(os.path.join(d, "result.json")):
            with open(os.path.join(d, "result.json")) as f:
                mode = json.load(f).get("client_contacts", "pinned")
        labels = ", ".join(f["label"] for f in per_fault) or "no fault"
        print(f"{d} [{mode}] {labels}\n  {_line(checker.pool_sides(per_fault))}")
        everything += per_fault
    if len(run_dirs) > 1:
        print(f"pooled over {len(run_dirs)} runs\n  {_line(checker.pool_sides(everything))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
