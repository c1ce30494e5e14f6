"""`run test`: one bounded run inside the namespace.

  start the cluster -> wait until formed -> create the keyspace (RF = N) -> start the workload
  -> apply the nemesis schedule on the history's clock -> heal everything -> wait until formed
  -> final reads at ALL -> stop every node (by PID) -> check -> write results

Files in the run directory: history.jsonl, final.jsonl, faults.json, result.json, summary.txt,
n<i>.log and the nodes' data directories.
"""
import json
import os
import shutil
import subprocess
import sys
import time

from harness import checker, cluster as cluster_mod, converge, nemesis as nemesis_mod


def _now_us():
    return int(time.monotonic() * 1e6)  # CLOCK_MONOTONIC, the history's clock


def _sleep_until(t_monotonic):
    # Holding a fault for its period is the schedule, not a wait for an event.
    delay = t_monotonic - time.monotonic()
    if delay > 0:
        time.sleep(delay)


MARKER = ".jepsen-run"


def _fresh_dir(run_dir):
    """A run starts from empty data directories: an old run's values would read as phantoms. Only
    a directory an earlier run made (it holds the marker) is ever removed."""
    if os.path.isdir(run_dir) and os.listdir(run_dir):
        if not os.path.exists(os.path.join(run_dir, MARKER)):
            raise RuntimeError(f"{run_dir} is not empty and is not a jepsen run directory")
        shutil.rmtree(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    open(os.path.join(run_dir, MARKER), "w").close()


def rerun_command(args) -> str:
    """The command that runs the same schedule again (printed first, and on failure)."""
    single = getattr(args, "single_fault", None)
    nemesis = (f"--single-fault {single}" if single
               else f"--nemesis {' '.join(args.nemesis) or 'none'}")
    cmd = (f"jepsen-tests/run test --seed {args.seed} --nodes {args.nodes} "
           f"--duration-s {args.duration_s:g} --clients {args.clients} {nemesis} "
           f"--rf {args.rf} --r {args.r} --w {args.w} --sync {args.sync}")
    contacts = getattr(args, "client_contacts", "pinned")
    if contacts != "pinned":
        cmd += f" --client-contacts {contacts}"
    for flag in ("sloppy", "expect_minority_refuses", "expect_siblings", "expect_invalid"):
        if getattr(args, flag, False):
            cmd += " --" + flag.replace("_", "-")
    if getattr(args, "judge_as", None):
        cmd += f" --judge-as {args.judge_as}"
    for flag in ("read_repair", "hinted_handoff", "anti_entropy_interval_s", "converge_by"):
        if getattr(args, flag, None) is not None:
            cmd += f" --{flag.replace('_', '-')} {getattr(args, flag)}"
    return cmd


def _node_flags(args):
    """kvnode's flags for this run: the harness's own, and those the run sets."""
    extra = ["--sync", args.sync, "--request-timeout-ms", str(args.node_timeout_ms)]
    for flag in ("read_repair", "hinted_handoff", "anti_entropy_interval_s"):
        if getattr(args, flag, None) is not None:
            extra += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    return extra


def _setup(c, args) -> str:
    """Starts the cluster and prepares it; returns what went wrong, or "" when ready."""
    c.start()
    if not c.wait_formed(timeout_s=40):
        return "the cluster did not form within 40 s"
    # Partitions match node addresses: every connection a node opened to a peer must leave from
    # its own address (kvnode binds it), or a rule would miss it.
    peers = cluster_mod.peer_connections(c)
    unbound = [f"{n}: {lip} -> {rip}" for n, lip, rip in peers if lip != c.by_name[n].ip]
    if not peers or unbound:
        return f"peer connections not bound to their node's address (of {len(peers)}): {unbound}"
    print(f"jepsen: {len(peers)} peer connections, each from its node's own address")
    sloppy = ["--sloppy"] if getattr(args, "sloppy", False) else []
    ks = subprocess.run([c.kvctl, "--host", c.hosts()[0], "keyspace", "create", "jepsen", "--rf",
                         str(args.rf), "--if-not-exists"] + sloppy, capture_output=True,
                        text=True, timeout=30)
    return "" if ks.returncode == 0 else f"keyspace create failed: {ks.stderr.strip()}"


def _drive(nem, faults, before_end=None):
    """Applies the schedule while the workload runs; returns the faults.json entries. Calls
    before_end(entry) as each fault is about to end, while it still holds."""
    fault_log, t0 = [], time.monotonic()
    for f in faults:
        _sleep_until(t0 + f.start_s)
        nem.start(f)
        start_us = _now_us()  # the fault is in force from here (rules applied, signal sent)
        print(f"jepsen: +{time.monotonic() - t0:5.1f}s {f.label}", flush=True)
        _sleep_until(t0 + f.end_s)
        entry = {"start_us": start_us, "label": f.label, "cut_off": f.cut_off}
        if before_end is not None:
            before_end(entry)
        nem.end(f)
        entry["end_us"] = _now_us()
        fault_log.append(entry)
        print(f"jepsen: +{time.monotonic() - t0:5.1f}s end of {f.label}", flush=True)
    return fault_log


def run(args, run_dir) -> int:
    _fresh_dir(run_dir)
    c = cluster_mod.Cluster(args.build_dir, run_dir, args.nodes, _node_flags(args))
    workload_bin = os.path.join(args.build_dir, "jepsen-tests", "jepsen_workload")
    if getattr(args, "single_fault", None):
        faults = nemesis_mod.single(args.seed, c.names(), args.duration_s, args.single_fault)
    else:
        faults = nemesis_mod.schedule(args.seed, c.names(), args.duration_s, args.nemesis)
    nem = nemesis_mod.Nemesis(c)
    rerun = rerun_command(args)
    print(f"jepsen: run {run_dir}\njepsen: rerun with: {rerun}", flush=True)
    history = os.path.join(run_dir, "history.jsonl")
    final = os.path.join(run_dir, "final.jsonl")
    workload, converge_by = None, getattr(args, "converge_by", None)
    convergence = {"by": converge_by, "violations": []}
    try:
        problem = _setup(c, args)
        if problem:
            print(f"jepsen: {problem}", file=sys.stderr)
            return 2
        nodes_flag = ",".join(f"{nd.name}={nd.address}" for nd in c.nodes)
        common = [workload_bin, "--nodes", nodes_flag, "--keyspace", "jepsen", "--r",
                  str(args.r), "--w", str(args.w), "--timeout-ms", str(args.client_timeout_ms)]
        workload = subprocess.Popen(common + ["--history", history, "run", "--clients",
                                              str(args.clients), "--duration-s",
                                              str(args.duration_s), "--seed", str(args.seed),
                                              "--client-contacts",
                                              getattr(args, "client_contacts", "pinned")])
        fault_log = _drive(nem, faults, _hints_sampler(c) if converge_by == "hints" else None)
        workload_exit = workload.wait(timeout=args.duration_s + 30)
        workload = None
        healed = time.monotonic()
        nem.heal_all()
        formed = c.wait_formed(timeout_s=40)
        converge_s = time.monotonic() - healed
        if converge_by and formed:
            convergence = _converge(c, args, fault_log)
        subprocess.run(common + ["--history", final, "final", "--keys-from", history,
                                 "--deadline-s", "30"], timeout=120)
    finally:
        if workload is not None:
            workload.kill()
            workload.wait()
        c.stop_all()
    with open(os.path.join(run_dir, "faults.json"), "w") as f:
        json.dump(fault_log, f, indent=1)
    result = _judge(args, checker.load([history, final]), fault_log)
    result.update({"seed": args.seed, "nodes": args.nodes, "nemesis": args.nemesis,
                   "sync": args.sync, "formed_after_heal": formed,
                   "client_contacts": getattr(args, "client_contacts", "pinned"),
                   "seconds_to_form_after_heal": round(converge_s, 2), "rerun": rerun,
                   "faults": [x["label"] for x in fault_log]})
    if workload_exit != 0:
        result["violations"].append(f"the workload exited with status {workload_exit}")
    if not formed:
        result["violations"].append("the cluster did not form again within 40 s of the heal")
    result["convergence"] = convergence
    result["violations"] += convergence["violations"]
    return _write_result(args, run_dir, checker.trim_violations(result))


def _hints_sampler(c):
    """For --converge-by hints: records in each fault's entry the hints pending as it ends."""
    def sample(entry):
        entry["hints_at_end"] = converge.hints_pending(c)
    return sample


def _converge(c, args, fault_log):
    """--converge-by: after the heal, before the final reads at ALL. Returns what it measured and
    its violations (a repair that leaves the replicas differing, hints that never drain, or a run
    that gives the mechanism nothing to do, which would prove nothing)."""
    out = {"by": args.converge_by, "violations": []}
    if args.converge_by == "repair":
        before = converge.differences(c, "jepsen", args.rf)
        out["differences_before"] = {
            "merkle": sum(d.startswith("merkle roots differ") for d in before),
            "dump": sum(d.startswith("replicas differ") for d in before)}
        print(f"jepsen: before the repair: {out['differences_before']}", flush=True)
        if not out["differences_before"]["merkle"]:
            out["violations"].append("nothing to repair: no Merkle root differed before the "
                                      "repair, so this run proves nothing")
        reports, problems = converge.repair_all(c, "jepsen", timeout_s=60)
        out["violations"] += [f"repair failed: {p}" for p in problems]
        out["repair"] = {name: {k: r.get(k) for k in ("ranges_done", "keys_differing", "keys",
                                                      "bytes", "elapsed_ms")}
                         for name, r in reports.items()}
    else:
        held = [sum((f.get("hints_at_end") or {}).values()) for f in fault_log]
        out["hints_at_fault_end"] = [f.get("hints_at_end") for f in fault_log]
        if not any(held):
            out["violations"].append("no hint pending when the fault ended: hinted handoff had "
                                     "nothing to deliver, so this run proves nothing")
        drained_s, left = converge.wait_hints_drained(c, timeout_s=30)
        out["seconds_to_drain_hints"] = None if drained_s is None else round(drained_s, 2)
        if drained_s is None:
            out["violations"].append(f"hints undelivered: still pending 30 s after the "
                                     f"cluster formed: {left}")
    after = converge.wait_agreed(c, "jepsen", args.rf, timeout_s=15)
    out["differences_after"] = len(after)
    out["violations"] += after
    return out


def _judge(args, events, fault_log):
    """The checker, plus the checks the run asked for."""
    judged_r, judged_w = args.r or args.rf // 2 + 1, args.w or args.rf // 2 + 1
    if getattr(args, "judge_as", None):
        judged_r, judged_w = (int(x) for x in args.judge_as.upper()[1:].split("W"))
    result = checker.check(events, judged_r, judged_w, args.rf, fault_log,
                           sloppy=getattr(args, "sloppy", False))
    if getattr(args, "expect_minority_refuses", False):
        result["violations"] += checker.check_minority_refuses(result)
    if getattr(args, "expect_siblings", False):
        for f in result["per_fault"]:
            if not f["cross_side_siblings"]:
                result["violations"].append(f"{f['label']}: no read returned siblings written "
                                            "on both sides of it")
    return result


def _convergence_text(conv) -> str:
    """--converge-by in one line: what differed, what the repair or the hints did."""
    if conv["by"] == "repair":
        reports = conv.get("repair", {})
        total = {k: sum(r[k] or 0 for r in reports.values())
                 for k in ("keys", "bytes", "elapsed_ms")}
        text = (f"before the repair {conv.get('differences_before')} differences; repair on "
                f"{len(reports)} nodes, one after another: {total['keys']} keys repaired, "
                f"{total['bytes']} bytes exchanged (trees and objects), {total['elapsed_ms']} ms")
    else:
        text = (f"hints pending at each fault's end {conv.get('hints_at_fault_end')}; drained "
                f"{conv.get('seconds_to_drain_hints')} s after the cluster formed")
    return text + f"; after it {conv.get('differences_after')} differences"


def _write_result(args, run_dir, result) -> int:
    with open(os.path.join(run_dir, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    text = checker.summary_text(result)
    text += f"\n  faults: {', '.join(result['faults']) or 'none'}"
    text += f"\n  cluster formed {result['seconds_to_form_after_heal']} s after the heal"
    if result["convergence"]["by"]:
        text += "\n  " + _convergence_text(result["convergence"])
    if not result["valid"]:
        text += f"\n  FAILED (seed {args.seed}); rerun with: {result['rerun']}"
    with open(os.path.join(run_dir, "summary.txt"), "w") as f:
        f.write(text + "\n")
    print(text, flush=True)
    if getattr(args, "expect_invalid", False):
        print("jepsen: expected violations:", "found" if not result["valid"] else "NONE FOUND")
        return 0 if not result["valid"] else 1
    return 0 if result["valid"] else 1
