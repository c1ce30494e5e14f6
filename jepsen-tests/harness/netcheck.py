"""`run netcheck`: proves each partition shape blocks exactly the links it should, and no other.

For every shape, the rules are applied and the network measured (harness/probe.py): a UDP
datagram src->dst must arrive exactly when (src, dst) is not dropped; a TCP connection must open
exactly when neither direction is dropped; the clients' address reaches every node always. After
a heal everything must pass again.
"""
import random

from harness import net, probe


def expected(addresses, drops):
    names = list(addresses)
    udp = {(a, b) for a in names for b in names if a != b and (a, b) not in drops}
    tcp = {(a, b) for (a, b) in udp if (b, a) not in drops}
    clients = {("client", b) for b in names}
    return udp | clients, tcp | clients


def check_one(label, addresses, drops, out) -> bool:
    net.apply(drops, addresses)
    want_udp, want_tcp = expected(addresses, drops)
    got_udp, got_tcp = probe.udp_reach(addresses), probe.tcp_connect(addresses)
    good = got_udp == want_udp and got_tcp == want_tcp
    out.append(f"{'ok  ' if good else 'FAIL'} {label}: {len(drops)} links dropped, "
               f"{len(got_udp)} datagram paths and {len(got_tcp)} TCP paths open")
    for name, want, got in (("udp", want_udp, got_udp), ("tcp", want_tcp, got_tcp)):
        if want - got:
            out.append(f"     {name} blocked but should pass: {sorted(want - got)}")
        if got - want:
            out.append(f"     {name} passed but should be blocked: {sorted(got - want)}")
    return good


def run(n_nodes: int, seed: int) -> int:
    addresses = {f"n{i}": f"127.0.0.{10 + i}" for i in range(1, n_nodes + 1)}
    rng = random.Random(seed)
    out, good = [], True
    good &= check_one("no partition", addresses, set(), out)
    for shape in net.SHAPES:
        try:
            label, drops = net.make(shape, list(addresses), rng)
        except ValueError as e:
            out.append(f"skip {shape}: {e}")
            continue
        good &= check_one(label, addresses, drops, out)
        good &= check_one(f"healed after {shape}", addresses, set(), out)
    print("\n".join(out))
    print("netcheck:", "every partition blocked exactly its links" if good else "FAILED")
    return 0 if good else 1
