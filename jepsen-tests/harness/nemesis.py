"""Nemeses composed into a schedule from a seed.

A schedule is a list of faults, each held for a period and then undone, separated by quiet gaps:
  partition:<shape>  nftables drops (harness/net.py): isolate, halves, majorities-ring, bridge,
                     one-way
  kill               SIGKILL a node; it is started again (same flags, same data) when the period
                     ends
  kill-all           SIGKILL every node at once (a power cut of the whole cluster); all are
                     started again when the period ends
  pause              SIGSTOP a node; SIGCONT when the period ends
  skew               restart a node with --clock-offset-ms (a random offset within +-2 s), and
                     back to 0 when the period ends. kvnode reads its offset only at start, so
                     this nemesis is a clean restart too; a clock changed while the node runs
                     is not possible yet.
The same seed, node count, duration and nemesis list give the same schedule.
"""
import random

from harness import net

KINDS = ["partition:" + s for s in net.SHAPES] + ["kill", "kill-all", "pause", "skew"]


class Fault:
    def __init__(self, kind, start_s, end_s, target, rng_seed):
        self.kind, self.start_s, self.end_s = kind, start_s, end_s
        self.target, self.rng_seed = target, rng_seed
        self.label = kind
        self.offset_ms = 0
        # The nodes this fault cuts off: those that can no longer exchange packets both ways
        # with a majority of the nodes (themselves included), or the node killed, paused or
        # restarted. Their clients are the "minority side" of the fault.
        self.cut_off = []

    def to_json(self):
        return {"kind": self.kind, "start_s": round(self.start_s, 3),
                "end_s": round(self.end_s, 3), "label": self.label}


def expand(kinds):
    """'partition' means every shape; 'all' every kind."""
    out = []
    for k in kinds:
        if k == "all":
            out += KINDS
        elif k == "partition":
            out += ["partition:" + s for s in net.SHAPES]
        elif k in KINDS:
            out.append(k)
        else:
            raise ValueError(f"unknown nemesis {k!r} (known: {', '.join(KINDS)}, partition, all)")
    return out


def schedule(seed, nodes, duration_s, kinds, hold_s=(2.0, 4.0), gap_s=(1.0, 2.0)):
    """Faults from 1 s after the start until 1 s before the end: the kinds in a seeded random
    order, repeated, so every kind comes once before any comes twice."""
    rng = random.Random(seed)
    kinds = [k for k in expand(kinds)
             if not (k == "partition:majorities-ring" and len(nodes) < 5)]
    faults, t = [], 1.0
    while kinds:
        hold = rng.uniform(*hold_s)
        if t + hold > duration_s - 1.0:
            break
        if len(faults) % len(kinds) == 0:
            rng.shuffle(kinds)
        kind = kinds[len(faults) % len(kinds)]
        faults.append(Fault(kind, t, t + hold, rng.choice(nodes), rng.randrange(1 << 30)))
        t += hold + rng.uniform(*gap_s)
    return faults


def single(seed, nodes, duration_s, kind):
    """One fault of `kind` held from 2 s after the start until 2 s before the end (a CAP report
    cell); no fault for kind "none"."""
    if kind == "none":
        return []
    rng = random.Random(seed)
    return [Fault(expand([kind])[0], 2.0, duration_s - 2.0, rng.choice(nodes),
                  rng.randrange(1 << 30))]


class Nemesis:
    """Applies and undoes faults on a harness Cluster. Thread safety: one thread."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.active = []

    def start(self, fault):
        nd = self.cluster.by_name[fault.target]
        if fault.kind.startswith("partition:"):
            shape = fault.kind.split(":", 1)[1]
            label, drops = net.make(shape, self.cluster.names(), random.Random(fault.rng_seed))
            net.apply(drops, self.cluster.addresses())
            fault.label = label
            fault.cut_off = net.cut_off(self.cluster.names(), drops)
        elif fault.kind == "kill":
            nd.kill9()
            fault.label = f"kill -9 {nd.name}"
        elif fault.kind == "kill-all":
            for other in self.cluster.nodes:
                other.kill9()
            fault.label = "kill -9 all nodes"
        elif fault.kind == "pause":
            nd.pause()
            fault.label = f"pause {nd.name}"
        elif fault.kind == "skew":
            rng = random.Random(fault.rng_seed)
            fault.offset_ms = rng.choice([-1, 1]) * rng.randrange(200, 2000)
            nd.stop()
            nd.clock_offset_ms = fault.offset_ms
            nd.start()
            fault.label = f"clock {nd.name} {fault.offset_ms:+d} ms"
        if fault.kind == "kill-all":
            fault.cut_off = self.cluster.names()
        elif not fault.kind.startswith("partition:"):
            fault.cut_off = [nd.name]
        self.active.append(fault)

    def end(self, fault):
        nd = self.cluster.by_name[fault.target]
        if fault.kind.startswith("partition:"):
            net.heal(self.cluster.addresses())
        elif fault.kind == "kill":
            nd.start()
        elif fault.kind == "kill-all":
            for other in self.cluster.nodes:
                other.start()
        elif fault.kind == "pause":
            nd.resume()
        elif fault.kind == "skew":
            nd.stop()
            nd.clock_offset_ms = 0
            nd.start()
        self.active.remove(fault)

    def heal_all(self):
        """Undoes whatever is still in force, and brings every node back."""
        for fault in list(self.active):
            self.end(fault)
        net.heal(self.cluster.addresses())
        for nd in self.cluster.nodes:
            if nd.paused:
                nd.resume()
            if not nd.running():
                nd.start()


