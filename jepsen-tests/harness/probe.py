"""Measures what the network lets through, to prove a partition blocks exactly what it should.

UDP shows each direction on its own (a datagram a->b arrives or not); TCP shows what the nodes
will live with (a connection needs both directions). Every probe is bounded by a deadline.
"""
import selectors
import socket
import time

PROBE_PORT = 6999  # no node listens here


def udp_reach(addresses, timeout_s=1.0):
    """The set of (src, dst) node pairs whose datagrams arrive, plus ("client", dst) from
    127.0.0.1 (the clients' address)."""
    receivers = {}
    for name, ip in addresses.items():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, PROBE_PORT))
        s.setblocking(False)
        receivers[name] = s
    senders = dict(addresses, client="127.0.0.1")
    try:
        for src, src_ip in senders.items():
            out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            out.bind((src_ip, 0))
            for dst, dst_ip in addresses.items():
                if dst != src:
                    out.sendto(f"{src}>{dst}".encode(), (dst_ip, PROBE_PORT))
            out.close()
        got = set()
        sel = selectors.DefaultSelector()
        for s in receivers.values():
            sel.register(s, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        expected = sum(1 for s in senders for d in addresses if d != s)
        while len(got) < expected and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                data, _ = key.fileobj.recvfrom(256)
                src, dst = data.decode().split(">")
                got.add((src, dst))
        sel.close()
        return got
    finally:
        for s in receivers.values():
            s.close()


def tcp_connect(addresses, timeout_s=1.0):
    """The set of (src, dst) node pairs where src (bound to its own address) can open a TCP
    connection to dst, plus ("client", dst)."""
    listeners = []
    for ip in addresses.values():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, PROBE_PORT))
        s.listen(64)
        listeners.append(s)
    sel = selectors.DefaultSelector()
    pending = {}
    try:
        for src, src_ip in dict(addresses, client="127.0.0.1").items():
            for dst, dst_ip in addresses.items():
                if dst == src:
                    continue
                c = socket.socket()
                c.bind((src_ip, 0))
                c.setblocking(False)
                c.connect_ex((dst_ip, PROBE_PORT))
                sel.register(c, selectors.EVENT_WRITE, (src, dst))
                pending[(src, dst)] = c
        ok = set()
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                c = key.fileobj
                pair = key.data
                sel.unregister(c)
                del pending[pair]
                if c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    ok.add(pair)
                c.close()
        return ok
    finally:
        for c in pending.values():
            c.close()
        for s in listeners:
            s.close()
        sel.close()
