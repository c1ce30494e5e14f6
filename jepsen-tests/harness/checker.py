"""Judges a history (workload/history.h) the way sim/checker.h judges the simulator's: every put
writes a unique value, so a value a read returns names its write, and a write carrying a context
supersedes the values its read saw ("seen"). From those edges each value has ancestors; a read
"covers" a write w when it returns w or a value descending from w.

Checks (V: violation, fails the run; C: counted, reported, since the setting does not promise it):
  V  phantom      a read returned a value nobody wrote for that key, or one whose put failed
  V  lost         an acknowledged put that the final read (ALL, after heal) does not cover, and
                  that no non-failed delete superseded
  V  resurrected  the final read returns a value an acknowledged delete superseded
  V  false sibling  a read returned two values of which one descends from the other (one
                  violation per read)
  V  unjudged     a final read went unanswered, so durability could not be judged
  V/C stale       a read that does not cover a write acknowledged before it began (a delete that
                  supersedes the write counts as covering it); V when R + W > N, else C, with how
                  stale in ms (read start - ack) and in versions (the latest acknowledged writes
                  of the key's concurrent branches that it missed)
  V/C read-your-writes  the stale reads whose reader wrote the missed value (own session key)
  C  monotonic    a client's later read of its session key does not cover its earlier read
                  (promised only with blocking read repair, which runs do not set)
Plus figures: outcomes by error, latency p50 / p99, availability in and out of fault periods and
per side of each fault, siblings across a partition's sides, and t-visibility (PBS, measured).
After a heal (`run test --converge-by`), merkle_differences and replica_differences compare the
replicas' Merkle roots and stored objects (harness/converge.py asks the nodes).
"""
import json
from collections import defaultdict


def load(paths):
    events = []
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    events.append(json.loads(line))
    return events


class Op:
    __slots__ = ("id", "process", "f", "key", "value", "seen", "node", "t0", "t1", "type",
                 "values", "error", "fallback_acks")

    def __init__(self, e):
        self.id, self.process, self.f, self.key = e.get("op"), e["process"], e["f"], e["key"]
        self.value, self.seen, self.node = e.get("value"), e.get("seen", []), e.get("node")
        self.t0 = self.t1 = e["t_us"]
        self.type, self.values, self.error = "invoke", None, None
        self.fallback_acks = 0  # of a write's acknowledgements, those from stand-ins


def pair(events):
    """Operations from invoke / completion lines; final reads come as completions only. An
    invoke without completion (the workload was stopped) is in doubt: type "info"."""
    ops, open_ops = [], {}
    for e in events:
        if e["type"] == "invoke":
            op = Op(e)
            open_ops[op.id] = op
            ops.append(op)
            continue
        op = open_ops.pop(e.get("op"), None)
        if op is None:  # a final read, or a completion whose invoke was not written
            op = Op(e)
            ops.append(op)
        op.t1, op.type = e["t_us"], e["type"]
        op.values, op.error = e.get("values"), e.get("error")
        op.fallback_acks = e.get("fallback_acks", 0)
    for op in open_ops.values():
        op.type = "info"
    return ops


class KeyModel:
    """The writes of one key and the supersession edges between their values."""

    def __init__(self):
        self.puts = {}      # value -> Op
        self.dels = []      # Op
        self.parents = defaultdict(set)  # value -> the values its write superseded

    def t0(self, v):
        put = self.puts.get(v)
        return put.t0 if put is not None else -1

    def reach(self, starts, targets):
        """The targets that are one of `starts` or an ancestor of one. A descendant of a value is
        invoked after it, so the walk stops at values invoked before the oldest target: that
        keeps it short when the targets are recent, however long the key's history."""
        targets = set(targets)
        if not targets:
            return set()
        floor = min(self.t0(t) for t in targets)
        found, seen, stack = set(), set(), list(starts)
        while stack and found != targets:
            x = stack.pop()
            if x in seen:
                continue
            seen.add(x)
            if x in targets:
                found.add(x)
            if self.t0(x) >= floor:
                stack.extend(self.parents.get(x, ()))
        return found

    def delete_starts(self, ok_only=False):
        """The values deletes superseded (ok_only: acknowledged deletes; else also in doubt)."""
        out = []
        for d in self.dels:
            if d.type == "ok" or (not ok_only and d.type == "info"):
                out += d.seen
        return out


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def check(events, r, w, n, faults=(), sloppy=False):
    """Returns the result: a dict of figures and a list of violations. `faults` are faults.json
    entries: start_us, end_us (the history's clock), label, cut_off (node names). `sloppy`: the
    keyspace takes writes under sloppy quorum, where stand-ins' acknowledgements count toward W
    but their hints are invisible to reads: a read is then held to a write only when R plus the
    replicas that acknowledged it (W minus the write's fallback_acks) exceeds N."""
    ops = pair(events)
    overlap = r + w > n
    strict = overlap and not sloppy  # every acknowledged write promised to every later read
    keys = defaultdict(KeyModel)
    for op in ops:
        if op.f == "put":
            keys[op.key].puts[op.value] = op
            keys[op.key].parents[op.value] |= set(op.seen)
        elif op.f == "del":
            keys[op.key].dels.append(op)
    violations, stale = [], []
    counts = defaultdict(int)
    reads = [op for op in ops if op.f == "get" and op.type == "ok"]
    for op in reads:
        model, values = keys[op.key], op.values or []
        for v in values:
            put = model.puts.get(v)
            if put is None:
                violations.append(f"phantom: read of {op.key} returned {v!r}, never written")
            elif put.type == "fail":
                violations.append(f"phantom: read of {op.key} returned {v!r}, whose put failed")
        false = [(a, b) for b in values for a in model.reach([b], [a for a in values if a != b])]
        if false:
            a, b = false[0]
            violations.append(f"false sibling: read of {op.key} returned {a!r} beside {b!r}, "
                              f"which supersedes it ({len(false)} such pairs in this read)")
    _check_final(ops, keys, violations, counts)
    # Stale reads: events in time order; per key, the frontier of acknowledged puts (those no
    # later acknowledged put supersedes). A read covers every acknowledged put iff it covers the
    # frontier, since covering a value covers its ancestors.
    frontier = defaultdict(set)
    visibility = []  # (ms since the latest acknowledged write, whether the read returned it)
    timeline = [(op.t1, 0, op) for op in ops if op.f == "put" and op.type == "ok"]
    timeline += [(op.t0, 1, op) for op in reads if op.process != "final"]
    for _, kind, op in sorted(timeline, key=lambda x: (x[0], x[1])):
        model = keys[op.key]
        if kind == 0:
            f = frontier[op.key]
            f -= model.reach([op.value], f)
            f.add(op.value)
            continue
        counts["reads"] += 1
        values = op.values or []
        f = frontier[op.key]
        missed = f - model.reach(values + model.delete_starts(), f)
        if f:
            # t-visibility (PBS): did the read return the latest acknowledged write, started how
            # long after its acknowledgement?
            latest = max(f, key=lambda v: model.puts[v].t1)
            visibility.append(((op.t0 - model.puts[latest].t1) / 1000.0, latest not in missed))
        back = [d for d in model.dels
                if d.type == "ok" and d.t1 < op.t0 and set(d.seen) & set(values)]
        if missed or back:
            latest = max([model.puts[v].t1 for v in missed] + [d.t1 for d in back])
            own = any(model.puts[v].process == op.process for v in missed)
            # Promised: some missed write reached R + (W - its stand-ins' acks) > N replicas.
            writes = [model.puts[v] for v in missed] + back
            promised = overlap and any(r + w - x.fallback_acks > n for x in writes)
            stale.append({"key": op.key, "ms": (op.t0 - latest) / 1000.0,
                          "versions": len(missed) + len(back), "own": own,
                          "promised": promised})
    counts["lost"] = sum(1 for v in violations if v.startswith("lost"))
    ryw = [s for s in stale if s["own"]]
    for s in stale:
        if s["promised"]:
            kind = "read-your-writes" if s["own"] else "stale read"
            violations.append(f"{kind} under R+W>N: read of {s['key']} missed {s['versions']} "
                              f"acknowledged write(s), the latest {s['ms']:.1f} ms before it began")
    monotonic = _monotonic_violations(reads, keys)
    result = {
        "r": r, "w": w, "n": n, "strict_quorum_overlap": strict,
        "ops": len([op for op in ops if op.process != "final"]),
        "reads_checked": counts["reads"], "final_reads": counts["final_reads"],
        "acknowledged_puts": sum(1 for op in ops if op.f == "put" and op.type == "ok"),
        "lost_writes": counts["lost"],
        "stale_reads": len(stale),
        "stale_read_rate": len(stale) / counts["reads"] if counts["reads"] else 0.0,
        "stale_ms_p50": percentile([s["ms"] for s in stale], 50),
        "stale_ms_max": max([s["ms"] for s in stale], default=None),
        "stale_versions_max": max([s["versions"] for s in stale], default=None),
        "read_your_writes_violations": len(ryw),
        "monotonic_read_violations": monotonic,
        "siblings_seen": sum(1 for op in reads if op.values and len(op.values) > 1),
        "t_visibility": _t_visibility(visibility),
    }
    result.update(_figures(ops, faults))
    for fault, figures in zip(faults, result["per_fault"]):
        figures["cross_side_siblings"] = _cross_side_siblings(reads, keys, fault)
    result["violations"] = violations
    result["valid"] = not violations
    return result


VIOLATIONS_KEPT_PER_KIND = 100


def trim_violations(result):
    """Counts every violation by kind, and keeps only the first 100 of each kind in the list
    (a broken build can produce millions; result.json stays readable)."""
    counts, kept = defaultdict(int), []
    for v in result["violations"]:
        kind = v.split(":")[0].split(" under")[0]
        counts[kind] += 1
        if counts[kind] <= VIOLATIONS_KEPT_PER_KIND:
            kept.append(v)
    result["violation_counts"] = dict(counts)
    result["violations"] = kept
    result["valid"] = not counts
    return result


VISIBILITY_EDGES_MS = [0, 1, 2, 5, 10, 20, 50, 100, 1000]


def _t_visibility(samples):
    """Per bin of t (ms from the acknowledgement of a key's latest write to a read's start): how
    many reads, and how many returned that write. Measured, as PBS (Bailis et al. 2012) models."""
    out = []
    for lo, hi in zip(VISIBILITY_EDGES_MS, VISIBILITY_EDGES_MS[1:] + [None]):
        hits = [ok for t, ok in samples if t >= lo and (hi is None or t < hi)]
        out.append({"from_ms": lo, "to_ms": hi, "reads": len(hits), "returned": sum(hits)})
    return out


def _cross_side_siblings(reads, keys, fault):
    """Reads (the final ones included) whose siblings carry the two sides of the fault: one
    sibling descends from a write made during the fault by a client of a cut-off node, another
    from one made by a client of another node, neither of them an ancestor of the other sibling.
    (The siblings themselves may be later writes: clients keep writing after the heal.)"""
    start, end, cut = fault["start_us"], fault["end_us"], set(fault["cut_off"])

    def lineage(model, v):
        # The writes made during the fault that v is or descends from; a descendant is invoked
        # after its ancestor, so the walk stops at writes invoked before the fault.
        out, seen, stack = set(), set(), [v]
        while stack:
            x = stack.pop()
            if x in seen or model.t0(x) < start:
                continue
            seen.add(x)
            if model.t0(x) < end:
                out.add(x)
            stack.extend(model.parents.get(x, ()))
        return out

    count = 0
    for op in reads:
        if len(op.values or []) < 2 or op.t0 < start:
            continue
        model = keys[op.key]
        lines = [lineage(model, v) for v in op.values]

        def has(own, other, on_cut):
            return any((model.puts[x].node in cut) == on_cut for x in own - other)

        count += any(has(a, b, True) and has(b, a, False) for a in lines for b in lines)
    return count


def _check_final(ops, keys, violations, counts):
    """Durability on the final reads (ALL, after heal): every acknowledged put covered, unless a
    delete that did not fail superseded it; no value an acknowledged delete superseded."""
    for op in ops:
        if op.process != "final" or op.f != "get":
            continue
        if op.type != "ok":
            violations.append(f"unjudged: the final read of {op.key} was not answered "
                              f"({op.error}); its durability is unknown")
            continue
        counts["final_reads"] += 1
        model, values = keys[op.key], op.values or []
        acked = [p.value for p in model.puts.values() if p.type == "ok" and p.t1 < op.t0]
        covered = model.reach(values + model.delete_starts(), acked)
        for v in acked:
            if v not in covered:
                violations.append(f"lost: acknowledged put {op.key}={v!r} is missing from the "
                                  f"final read (which returned {values})")
        deleted = model.reach(model.delete_starts(ok_only=True), values)
        for v in deleted:
            violations.append(f"resurrected: {op.key}={v!r} was deleted (acknowledged) and came "
                              f"back in the final read")


def _monotonic_violations(reads, keys):
    last, bad = {}, 0
    for op in sorted(reads, key=lambda o: o.t0):
        if op.process == "final" or not op.key.startswith("q:"):
            continue
        k = (op.process, op.key)
        earlier = set(last.get(k, ()))
        if earlier - keys[op.key].reach(op.values or [], earlier):
            bad += 1
        last[k] = op.values or []
    return bad


def _figures(ops, faults):
    run = [op for op in ops if op.process != "final" and op.type != "invoke"]
    by_outcome = defaultdict(int)
    for op in run:
        by_outcome[op.type + ("" if op.type == "ok" else f":{op.error or 'none'}")] += 1
    lat = [(op.t1 - op.t0) / 1000.0 for op in run if op.type == "ok"]

    def in_fault(op):
        return any(f["start_us"] <= op.t0 < f["end_us"] for f in faults)

    def availability(subset):
        return (sum(1 for op in subset if op.type == "ok") / len(subset)) if subset else None

    def outcomes(subset):
        out = {"ok": 0, "fail": 0, "info": 0}
        for op in subset:
            out[op.type] += 1
        return out

    def errors(subset):
        out = defaultdict(int)
        for op in subset:
            if op.type != "ok":
                out[f"{op.type}:{op.error}"] += 1
        return dict(sorted(out.items()))

    per_fault = []
    for f in faults:
        during = [op for op in run if f["start_us"] <= op.t0 < f["end_us"]]
        cut = [op for op in during if op.node in f.get("cut_off", [])]
        rest = [op for op in during if op.node not in f.get("cut_off", [])]
        per_fault.append({
            "label": f["label"], "cut_off": f.get("cut_off", []),
            "availability_by_node": {node: availability([op for op in during if op.node == node])
                                     for node in sorted({op.node for op in run if op.node})},
            # Availability per side: the clients of the nodes the fault cut off, and the others.
            "availability_cut_off": availability(cut), "availability_rest": availability(rest),
            "outcomes_cut_off": outcomes(cut), "outcomes_rest": outcomes(rest),
            "errors_cut_off": errors(cut), "errors_rest": errors(rest),
            # Acknowledged while the fault held (answered before it ended).
            "acknowledged_on_cut_off": sum(1 for op in cut
                                           if op.type == "ok" and op.t1 < f["end_us"]),
        })
    return {
        "outcomes": dict(sorted(by_outcome.items())),
        "latency_ms_p50": percentile(lat, 50), "latency_ms_p99": percentile(lat, 99),
        "availability": availability(run),
        "availability_in_faults": availability([op for op in run if in_fault(op)]),
        "availability_no_fault": availability([op for op in run if not in_fault(op)]),
        "per_fault": per_fault,
    }


def fault_figures(events, faults):
    """Per fault, the figures of check()'s per_fault (availability and outcomes per side),
    without judging the history."""
    return _figures(pair(events), faults)["per_fault"]


def pool_sides(per_fault):
    """The outcomes of the faults that cut some node off, summed per side (over faults, and
    over runs when given several runs' lists concatenated), with each side's availability."""
    pooled = {side: {"ok": 0, "fail": 0, "info": 0} for side in ("cut_off", "rest")}
    for f in per_fault:
        if not f["cut_off"]:
            continue
        for side, total in pooled.items():
            for k, v in f[f"outcomes_{side}"].items():
                total[k] += v
    for total in pooled.values():
        n = total["ok"] + total["fail"] + total["info"]
        total["ops"], total["availability"] = n, (total["ok"] / n if n else None)
    return pooled


def check_minority_refuses(result, rest_availability_min=0.8):
    """The strict-quorum promise under a partition: the cut-off side acknowledges nothing while
    the partition holds and refuses with UNAVAILABLE (fail fast), while the rest stays available.
    Returns the violations."""
    out = []
    if not result["strict_quorum_overlap"]:
        return ["minority check asked of a run without R + W > N"]
    for f in result["per_fault"]:
        if not f["cut_off"]:
            out.append(f"{f['label']}: cuts no node off; nothing to check")
            continue
        if f["acknowledged_on_cut_off"]:
            out.append(f"{f['label']}: the cut-off side acknowledged "
                       f"{f['acknowledged_on_cut_off']} operations while the partition held")
        if not f["errors_cut_off"].get("fail:Unavailable"):
            out.append(f"{f['label']}: the cut-off side never answered UNAVAILABLE "
                       f"(errors {f['errors_cut_off']})")
        rest = f["availability_rest"]
        if rest is None or rest < rest_availability_min:
            out.append(f"{f['label']}: the rest was available for {rest} of its operations, "
                       f"under {rest_availability_min}")
    return out


def merkle_differences(merkles):
    """Ranges whose replicas' Merkle roots differ, from each node's `kvctl merkle` answer (by
    node name). A root a replica did not give (an error in its place) counts as differing."""
    out = []
    for name, merkle in sorted(merkles.items()):
        for r in merkle["ranges"]:
            roots = r["roots"]
            answered = all(len(x) == 16 and all(ch in "0123456789abcdef" for ch in x)
                           for x in roots)
            if not answered or len(set(roots)) > 1:
                pairs = " ".join(f"{n}={x}" for n, x in zip(r["replicas"], roots))
                out.append(f"merkle roots differ: as {name} sees ({r['start']}, {r['end']}]: "
                           f"{pairs}")
    return out


def replica_differences(dumps, rf):
    """Keys whose copies differ, from each node's `kvctl dump` objects (by node name): every key
    must be held by rf nodes, all with the same sibling and tombstone counts."""
    holders = defaultdict(dict)
    for name, objects in dumps.items():
        for o in objects:
            holders[o["key"]][name] = (o["siblings"], o["tombstones"])
    out = []
    for key, copies in sorted(holders.items()):
        if len(copies) != rf or len(set(copies.values())) > 1:
            held = ", ".join(f"{n} {s} siblings {t} tombstones"
                             for n, (s, t) in sorted(copies.items()))
            out.append(f"replicas differ: {key} held by {len(copies)} of {rf} replicas: {held}")
    return out


def summary_text(result) -> str:
    lines = [f"R={result['r']} W={result['w']} N={result['n']}: "
             f"{'VALID' if result['valid'] else 'INVALID'}",
             f"  ops {result['ops']}, acknowledged puts {result['acknowledged_puts']}, "
             f"reads checked {result['reads_checked']}, final reads {result['final_reads']}",
             f"  lost writes {result['lost_writes']}, stale reads {result['stale_reads']} "
             f"(rate {result['stale_read_rate']:.4f}, p50 {result['stale_ms_p50']} ms, "
             f"max {result['stale_ms_max']} ms, max versions {result['stale_versions_max']})",
             f"  read-your-writes violations {result['read_your_writes_violations']}, "
             f"monotonic-read violations {result['monotonic_read_violations']}, "
             f"reads with siblings {result['siblings_seen']}",
             f"  availability {_pct(result['availability'])} (in faults "
             f"{_pct(result['availability_in_faults'])}, otherwise "
             f"{_pct(result['availability_no_fault'])}), latency p50 "
             f"{result['latency_ms_p50']} ms p99 {result['latency_ms_p99']} ms",
             f"  outcomes {result['outcomes']}"]
    for f in result.get("per_fault", []):
        if f["cut_off"]:
            lines.append(f"  during {f['label']}: " + side_text(f))
    if result.get("violation_counts"):
        lines.append(f"  violations by kind {result['violation_counts']}")
    for v in result["violations"][:20]:
        lines.append("  VIOLATION " + v)
    return "\n".join(lines)


def side_text(fault) -> str:
    """One fault's availability per side: the clients whose node (their home: the first contact
    point) it cut off, and the others; operations invoked while it held."""
    out = []
    for side, name in (("cut_off", "clients of " + ",".join(fault["cut_off"])), ("rest", "others")):
        o = fault[f"outcomes_{side}"]
        out.append(f"{name} {_pct(fault[f'availability_{side}'])} ok of {sum(o.values())} "
                   f"(fail {o['fail']}, info {o['info']})")
    return "; ".join(out)


def _pct(x):
    return "n/a" if x is None else f"{100 * x:.1f}%"
