"""Partitions as nftables rules on the private namespace's loopback (never the host's: the
harness refuses to touch nft unless it runs inside its own namespace).

A partition is a set of directed links (src node, dst node) whose packets are dropped. Rules
match node addresses only, so clients (which connect from 127.0.0.1, an address no node uses)
always reach every node: as in Jepsen, faults are between the nodes, and a client's requests
meet the partition at the node it talks to.

Rules sit on the input hook: a dropped packet leaves its sender normally and is lost on the way,
as on a real network (on the output hook the sender would see EPERM).

TCP note: dropping a->b alone still stops new connections both ways (the SYN-ACK or the SYN is
lost) and stalls a->b data on existing ones; that is what a one-way partition does to TCP.
"""
import random
import subprocess

from harness import netns

TABLE = "ringkv_jepsen"


def _nft(script: str) -> None:
    if not netns.inside():
        raise RuntimeError("refusing to change nftables outside the harness's private namespace")
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True, timeout=10)


def apply(drops, addresses) -> None:
    """Replaces the rule set by one dropping every (src, dst) link in `drops` (node names), with
    `addresses` mapping a node name to its IP. An empty `drops` heals everything."""
    lines = [f"table ip {TABLE} {{}}", f"delete table ip {TABLE}", f"table ip {TABLE} {{",
             "  chain in {", "    type filter hook input priority 0; policy accept;"]
    for src, dst in sorted(drops):
        lines.append(f"    ip saddr {addresses[src]} ip daddr {addresses[dst]} drop")
    lines += ["  }", "}"]
    _nft("\n".join(lines) + "\n")


def heal(addresses) -> None:
    apply(set(), addresses)


def grudge_from_components(components):
    """Drops both ways between nodes of different components."""
    drops = set()
    for i, a in enumerate(components):
        for b in components[i + 1:]:
            for x in a:
                for y in b:
                    drops.add((x, y))
                    drops.add((y, x))
    return drops


def connected_to_drops(nodes, links):
    """Every directed pair of distinct nodes not in `links` (undirected pairs) is dropped."""
    allowed = {(a, b) for a, b in links} | {(b, a) for a, b in links}
    return {(a, b) for a in nodes for b in nodes if a != b and (a, b) not in allowed}


def cut_off(nodes, drops):
    """The nodes that cannot exchange packets both ways with a majority (themselves included)."""
    majority = len(nodes) // 2 + 1
    return [a for a in nodes
            if 1 + sum(1 for b in nodes if b != a and (a, b) not in drops
                       and (b, a) not in drops) < majority]


# Partition shapes. Each takes the node names and an RNG and returns (description, drops).
def isolate_one(nodes, rng):
    x = rng.choice(nodes)
    rest = [n for n in nodes if n != x]
    return f"isolate {x}", grudge_from_components([[x], rest])


def halves(nodes, rng):
    # A random minority (floor(n/2) nodes) against the majority.
    shuffled = nodes[:]
    rng.shuffle(shuffled)
    k = len(nodes) // 2
    minority, majority = sorted(shuffled[:k]), sorted(shuffled[k:])
    return (f"halves {'+'.join(minority)} | {'+'.join(majority)}",
            grudge_from_components([minority, majority]))


def majorities_ring(nodes, rng):
    # Nodes on a shuffled ring, each linked to its nearest neighbours only, so each sees a
    # majority (itself and n//2 others) but no two see the same one. Needs 5 nodes or more: with
    # 3, "itself and one neighbour each way" is everyone.
    if len(nodes) < 5:
        raise ValueError("majorities-ring needs at least 5 nodes")
    ring = nodes[:]
    rng.shuffle(ring)
    n, reach = len(ring), (len(nodes) // 2 + 1) // 2
    links = {(ring[i], ring[(i + d) % n]) for i in range(n) for d in range(1, reach + 1)}
    return f"majorities-ring {'-'.join(ring)}", connected_to_drops(nodes, links)


def bridge(nodes, rng):
    # Two halves that cannot talk, and one node that talks to both.
    if len(nodes) < 3:
        raise ValueError("bridge needs at least 3 nodes")
    shuffled = nodes[:]
    rng.shuffle(shuffled)
    b, rest = shuffled[0], shuffled[1:]
    k = len(rest) // 2
    left, right = sorted(rest[:k]), sorted(rest[k:])
    drops = grudge_from_components([left, right])
    return f"bridge {'+'.join(left)} <{b}> {'+'.join(right)}", drops


def one_way(nodes, rng):
    # Node x's packets to every other node are dropped; theirs to x pass.
    x = rng.choice(nodes)
    return f"one-way {x} -/-> others", {(x, y) for y in nodes if y != x}


SHAPES = {
    "isolate": isolate_one,
    "halves": halves,
    "majorities-ring": majorities_ring,
    "bridge": bridge,
    "one-way": one_way,
}


def make(shape: str, nodes, rng: random.Random):
    return SHAPES[shape](list(nodes), rng)
