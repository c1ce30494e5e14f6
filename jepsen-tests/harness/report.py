"""`run report`: the CAP report. Runs a matrix of replication settings x faults, one real run per
cell (harness/runner.py with one fault held for most of the run), and writes report.md with its
tables and SVG pictures into jepsen-tests/results/<date>/ (or --results).

Sloppy quorum: "N3 R2 W2 sloppy" is N3 R2 W2 on a keyspace made with --sloppy (5 nodes, so
two stand-ins past every key's replicas). Not in the matrix yet, and why: siblings vs
last-write-wins (the key-value API always keeps siblings; LWW exists only for CQL-lite tables,
which this workload does not use).
"""
import copy
import json
import os
import subprocess
import time

from harness import charts, checker, runner

CONFIGS = [("N3 R1 W1", 1, 1), ("N3 R2 W2", 2, 2), ("N3 R2 W2 sloppy", 2, 2), ("N3 R1 W3", 1, 3),
           ("N3 R3 W1", 3, 1)]
FAULTS_FULL = ["none", "partition:isolate", "partition:halves", "partition:majorities-ring",
               "partition:bridge", "pause", "kill", "skew"]
FAULTS_QUICK = ["none", "partition:isolate", "partition:halves", "pause", "kill"]


def fault_name(kind):
    return kind.split(":", 1)[-1]


def cells(args):
    faults = FAULTS_QUICK if args.quick else FAULTS_FULL
    if args.faults:
        faults = [f for f in FAULTS_FULL if fault_name(f) in args.faults]
    configs = [c for c in CONFIGS
               if not args.configs or c[0].split(" ", 1)[1].replace(" ", "") in args.configs]
    return [(c, f) for c in configs for f in faults], faults, configs


def run(args, repo) -> int:
    matrix, faults, configs = cells(args)
    stamp = time.strftime("%Y-%m-%d-%H%M", time.gmtime())
    out = args.results or os.path.join(repo, "jepsen-tests", "results", stamp)
    runs = os.path.join(repo, "run", "jepsen", f"report-{stamp}")
    os.makedirs(out, exist_ok=True)
    results = {}
    started = time.monotonic()
    # The code the cells run is the code of this moment; say which, and whether it was committed.
    commit = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    for i, ((name, r, w), fault) in enumerate(matrix):
        cell = copy.copy(args)
        cell.r, cell.w, cell.rf, cell.nodes = r, w, 3, 5
        cell.sloppy = name.endswith("sloppy")
        cell.single_fault, cell.seed, cell.nemesis = fault, args.seed + i, []
        run_dir = os.path.join(runs, f"{name.replace(' ', '')}-{fault_name(fault)}")
        print(f"jepsen report: cell {i + 1}/{len(matrix)}: {name} x {fault_name(fault)}",
              flush=True)
        try:
            runner.run(cell, run_dir)
            with open(os.path.join(run_dir, "result.json")) as f:
                res = json.load(f)
        except Exception as e:  # a cell that breaks is reported, the matrix goes on
            res = {"error": f"{type(e).__name__}: {e}"}
        res["violations"] = res.get("violations", [])[:10]
        results[(name, fault)] = res
        if fault in ("none", "partition:halves", "kill") or name == "N3 R2 W2":
            _timeline(run_dir, out, name, fault)
    elapsed = time.monotonic() - started
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump([{"config": n, "fault": fl, **res} for (n, fl), res in results.items()], f,
                  indent=1)
    _heatmaps(results, faults, configs, out)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(_markdown(results, faults, configs, args, elapsed, commit, out))
    print(f"jepsen report: {out}/report.md ({elapsed / 60:.1f} min)")
    bad = [k for k, v in results.items() if "error" in v]
    return 1 if bad else 0


def _timeline(run_dir, out, name, fault):
    try:
        events = checker.load([os.path.join(run_dir, "history.jsonl")])
        with open(os.path.join(run_dir, "faults.json")) as f:
            faults = json.load(f)
    except (OSError, ValueError):
        return
    svg = charts.timeline(events, faults, f"{name}, {fault_name(fault)}")
    with open(os.path.join(out, _svg_name(name, fault)), "w") as f:
        f.write(svg)


def _svg_name(name, fault):
    return f"timeline-{name.replace(' ', '')}-{fault_name(fault)}.svg"


def sides(res):
    """Availability during the fault of the clients of the nodes it cut off (the minority side of
    a partition; the killed, paused or restarted node) and of the others; for no fault, the whole
    run's, twice."""
    per = res.get("per_fault") or []
    if not per:
        a = res.get("availability")
        return a, a
    return per[0].get("availability_cut_off"), per[0].get("availability_rest")


def _heatmaps(results, faults, configs, out):
    rows = [c[0] for c in configs]
    cols = [fault_name(f) for f in faults]
    by = {(n, fault_name(f)): v for (n, f), v in results.items()}

    def worst(r, c):
        return sides(by.get((r, c), {}))[0]

    def stale(r, c):
        v = by.get((r, c), {}).get("stale_read_rate")
        return None if v is None else 1.0 - min(1.0, v * 20)  # 5% stale or more: full red

    svg = charts.heatmap(rows, cols, worst, lambda r, c: _pct(worst(r, c)),
                         "Availability of the cut-off side's clients during the fault")
    with open(os.path.join(out, "heatmap-availability.svg"), "w") as f:
        f.write(svg)
    svg = charts.heatmap(rows, cols, stale,
                         lambda r, c: _pct(by.get((r, c), {}).get("stale_read_rate"), 2),
                         "Stale-read rate (share of reads missing an acknowledged write)")
    with open(os.path.join(out, "heatmap-stale.svg"), "w") as f:
        f.write(svg)


def _cross(res, fault):
    """Siblings across a partition's sides; other faults have no sides that write apart."""
    per = res.get("per_fault") or []
    if not per or not fault.startswith("partition:"):
        return "-"
    return per[0].get("cross_side_siblings", "-")


def _pct(x, digits=1):
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _ms(x):
    return "-" if x is None else f"{x:.1f}"


def _visibility_section(results, configs):
    """PBS's t-visibility, measured: per setting, pooled over its no-fault cell, the share of reads
    started t ms after a key's latest acknowledged write that returned it."""
    rows = []
    bins = None
    for name, _, _ in configs:
        vis = results.get((name, "none"), {}).get("t_visibility")
        if not vis:
            continue
        bins = bins or [f"{b['from_ms']}-{b['to_ms']}" if b["to_ms"] else f">={b['from_ms']}"
                        for b in vis]
        cells = [f"{b['returned'] / b['reads']:.3f} ({b['reads']})" if b["reads"] else "-"
                 for b in vis]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    if not rows:
        return []
    return ["", "## Staleness in the manner of PBS (no fault)", "",
            "Probability that a read started t ms after the acknowledgement of its key's latest "
            "write returns that write (number of reads in brackets), measured on the register, "
            "set, session and delete keys of the no-fault cell. PBS (Bailis et al., VLDB 2012) "
            "models this curve; here it is counted.", "",
            "| setting | " + " | ".join(f"t {b} ms" for b in bins) + " |",
            "|---|" + "---|" * len(bins)] + rows


def _markdown(results, faults, configs, args, elapsed, commit, out):
    cmd = "jepsen-tests/run report" + (" --quick" if args.quick else "")
    lines = [
        f"# CAP report, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"`{cmd} --duration-s {args.duration_s:g} --seed {args.seed}` at commit {commit}, "
        f"{elapsed / 60:.1f} minutes. Every cell is one real run: 5 kvnode processes "
        f"(`--sync {args.sync}`) in a private network namespace, keyspace RF 3, "
        f"{args.clients} clients (client i talks only to node i mod 5), one fault held from "
        f"2 s to 2 s before the end of a {args.duration_s:g} s run, then heal, final reads at "
        "ALL, and the checker (`jepsen-tests/README.md`). Each cell's line in `results.json` "
        "has its rerun command.",
        "",
        "*N3 R2 W2 sloppy* is N3 R2 W2 on a keyspace made with `--sloppy`: when a key's "
        "replicas are cut off, nodes past them stand in and count toward W, so it stays "
        "available where strict R2 W2 is not, and its stale reads are counted, not promised "
        "away (a stand-in's hint is invisible to reads until delivered).",
        "",
        "Not measured here: last-write-wins "
        "(the key-value API keeps siblings; LWW is a CQL-lite table option the workload does "
        "not use), time to converge beyond \"the cluster formed again\" (no anti-entropy yet).",
        "",
        "How to read a row. *Availability* is the share of operations invoked while the fault "
        "held that were acknowledged, for the clients of the nodes the fault cut off (those that "
        "cannot exchange packets with a majority of the nodes, or the node killed, paused or "
        "restarted) and for the others; n/a: the fault cuts no node off (in majorities-ring and "
        "bridge every node still sees a majority). A node-majority is not a key's replica "
        "majority: with 5 nodes and RF 3 a 2 | 3 split leaves some keys with 2 replicas on the "
        "small side, so strict quorums fail on the large side too. *Stale reads* missed a write "
        "acknowledged before they began (allowed when R + W <= N; a violation otherwise), with "
        "how long before. *Lost* acknowledged writes are judged on final reads at ALL after the "
        "heal. *Reads with siblings* counts reads that returned more than one value; in brackets, "
        "for partitions, those whose siblings descend from writes made on both sides during it. "
        "*Non-monotonic*: a client's session read that went back (counted, not promised). "
        "*Formed after heal*: seconds until every node again coordinates a write to all "
        "replicas.",
        "",
        "![availability](heatmap-availability.svg) ![stale reads](heatmap-stale.svg)",
        "",
        "| setting | fault | checker | availability cut-off side / rest | p50 / p99 ms | stale reads "
        "| stale by ms p50 / max | lost acked writes | reads with siblings (across the fault's sides) "
        "| non-monotonic | formed after heal s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, _, _ in configs:
        for fault in faults:
            res = results.get((name, fault), {})
            if "error" in res:
                lines.append(f"| {name} | {fault_name(fault)} | error: {res['error']} |"
                             + " |" * 8)
                continue
            wst, bst = sides(res)
            counts = res.get("violation_counts") or {}
            verdict = ("valid" if res.get("valid") else
                       "**" + ", ".join(f"{n} {k}" for k, n in counts.items()) + "**")
            lines.append(
                f"| {name} | {fault_name(fault)} | {verdict} | {_pct(wst)} / {_pct(bst)} | "
                f"{_ms(res.get('latency_ms_p50'))} / {_ms(res.get('latency_ms_p99'))} | "
                f"{res.get('stale_reads')} of {res.get('reads_checked')} "
                f"({_pct(res.get('stale_read_rate'), 2)}) | {_ms(res.get('stale_ms_p50'))} / "
                f"{_ms(res.get('stale_ms_max'))} | {res.get('lost_writes')} | "
                f"{res.get('siblings_seen')} ({_cross(res, fault)}) | "
                f"{res.get('monotonic_read_violations')} | "
                f"{res.get('seconds_to_form_after_heal')} |")
    lines += _visibility_section(results, configs)
    lines += ["", "## Timelines", ""]
    for (name, fault) in results:
        path = _svg_name(name, fault)
        if os.path.exists(os.path.join(out, path)):
            lines.append(f"![{name} {fault_name(fault)}]({path})")
    lines += ["", "## Violations (first 10 per cell)", ""]
    for (name, fault), res in results.items():
        for v in res.get("violations", []):
            lines.append(f"- {name}, {fault_name(fault)}: {v}")
    return "\n".join(lines) + "\n"
