#!/usr/bin/env python3
"""End to end: the DataStax Python driver (Debian's python3-cassandra) against three real kvnode
processes serving --cql on 127.0.0.1.

Connect with the token-aware policy (protocol negotiated down to v4), create a keyspace and a
Feast-style online-store table (composite partition key, clustering column, CLUSTERING ORDER BY),
prepared INSERT / SELECT with bind values of every type, execute_concurrent_with_args at
concurrency 100, paging over 1,000 rows (simple and prepared), BATCH, consistency levels (SERIAL refused), errors as the
driver's exceptions (SyntaxException, InvalidRequest, AlreadyExists, Unavailable with its counts
after a node is killed), plain-text authentication (a wrong password refused), schema and
status change EVENTs, and malformed frames on raw sockets answered by protocol errors while
other connections keep working.

    driver_test.py KVNODE

Every wait polls a deadline; the nodes are this process's children, killed by PID on exit.
"""
import ctypes
import datetime
import faulthandler
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

from cassandra import AlreadyExists, AuthenticationFailed, ConsistencyLevel, InvalidRequest, \
    Unavailable
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT, NoHostAvailable
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.policies import DCAwareRoundRobinPolicy, FallthroughRetryPolicy, TokenAwarePolicy
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, BatchType, SimpleStatement

NODES = 3
DEADLINE_S = 30
TEST_DEADLINE_S = 240  # the whole test; ctest's timeout is 300 s
USER, PASSWORD = "feast", "s3cret"
AUTH = PlainTextAuthProvider(username=USER, password=PASSWORD)


def poll(what, attempt, timeout_s=DEADLINE_S):
    """Calls attempt() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            result = attempt()
            if result:
                return result
        except Exception as e:  # the thing polled for may fail until it is ready
            last = e
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what} (last error: {last!r})")


def die_with_parent():
    """Runs in each node's child process before exec: the kernel SIGKILLs the node if this test
    process dies first (killed by a ctest timeout, say), so no node outlives its test."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Nodes:
    def __init__(self, kvnode, root):
        self.kvnode, self.root, self.procs = kvnode, root, {}

    def start(self):
        for attempt in range(5):
            base = random.randrange(20000, 31000)
            self.ports = [base + i for i in range(NODES)]
            self.cql_ports = [p + 100 for p in self.ports]
            seeds = ",".join(f"127.0.0.1:{p}" for p in self.ports)
            for i in range(NODES):
                self.spawn(i, seeds, attempt)
            if poll("CQL ports", lambda: all(self.accepting(p) for p in self.cql_ports) or
                    any(p.poll() is not None for p in self.procs.values()), 20) and \
                    all(p.poll() is None for p in self.procs.values()):
                return
            self.stop()  # a port was taken: try another range
        raise AssertionError("could not start the nodes")

    def spawn(self, i, seeds, attempt):
        data = os.path.join(self.root, f"try{attempt}", f"n{i + 1}")
        log = open(os.path.join(self.root, f"n{i + 1}.log"), "ab")
        credentials = os.path.join(self.root, "credentials")
        with open(credentials, "w") as f:
            f.write(f"# user:password\n{USER}:{PASSWORD}\n")
        self.procs[i] = subprocess.Popen(
            [self.kvnode, "--name", f"n{i + 1}", "--listen", f"127.0.0.1:{self.ports[i]}",
             "--cql", f"127.0.0.1:{self.cql_ports[i]}", "--cql-credentials-file", credentials,
             "--data", data, "--seeds", seeds],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    @staticmethod
    def accepting(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def kill(self, i):
        p = self.procs.get(i)
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)

    def stop(self):
        for i in list(self.procs):
            self.kill(i)
        self.procs = {}


# ---- raw frames, for the bad-input checks ----

def frame(opcode, body=b"", version=4, stream=1, length=None):
    n = len(body) if length is None else length
    return struct.pack(">BBhBi", version, 0, stream, opcode, n & 0xffffffff if n < 0 else n) + body


def read_frame(sock):
    head = b""
    while len(head) < 9:
        chunk = sock.recv(9 - len(head))
        if not chunk:
            raise AssertionError("connection closed before a response")
        head += chunk
    version, flags, stream, opcode, length = struct.unpack(">BBhBI", head)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            raise AssertionError("connection closed in the middle of a response")
        body += chunk
    return version, stream, opcode, body


def error_of(body):
    code, n = struct.unpack(">iH", body[:6])
    return code, body[6:6 + n].decode()


STARTUP = struct.pack(">H", 1) + struct.pack(">H", 11) + b"CQL_VERSION" + \
    struct.pack(">H", 5) + b"3.0.0"


def query_body(text, consistency=1):
    data = text.encode()
    return struct.pack(">i", len(data)) + data + struct.pack(">HB", consistency, 0)


def started(port):
    """A raw connection through STARTUP and the password exchange."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(frame(0x01, STARTUP))
    check(read_frame(s)[2] == 0x03, "STARTUP: no AUTHENTICATE")
    token = b"\0" + USER.encode() + b"\0" + PASSWORD.encode()
    s.sendall(frame(0x0F, struct.pack(">i", len(token)) + token))
    check(read_frame(s)[2] == 0x10, "AUTH_RESPONSE: no AUTH_SUCCESS")
    return s


def stream_reuse_and_events(port):
    # Two requests in flight under one stream id: a protocol error, then the connection closes.
    with started(port) as s:
        q = query_body("SELECT * FROM system.local")
        s.sendall(frame(0x07, q, stream=5) + frame(0x07, q, stream=5))
        messages = []
        try:
            for _ in range(3):
                version, stream, opcode, body = read_frame(s)
                if opcode == 0:
                    messages.append(error_of(body)[1])
        except (AssertionError, OSError):
            pass  # closed
        check(any("already in use" in m for m in messages), f"stream reuse: {messages}")
    # REGISTER for schema changes, then a table created through another connection to the node.
    with started(port) as listener, started(port) as other:
        events = struct.pack(">H", 1) + struct.pack(">H", 13) + b"SCHEMA_CHANGE"
        listener.sendall(frame(0x0B, events, stream=2))
        check(read_frame(listener)[2] == 0x02, "REGISTER: no READY")
        other.sendall(frame(0x07, query_body("CREATE TABLE feast.evt (k text PRIMARY KEY)", 4)))
        check(read_frame(other)[2] == 0x08, "CREATE TABLE: no RESULT")
        version, stream, opcode, body = read_frame(listener)
        check(opcode == 0x0C and stream == -1, f"no EVENT: opcode {opcode} stream {stream}")
        check(b"SCHEMA_CHANGE" in body and b"CREATED" in body and b"evt" in body, f"{body!r}")


def raw_checks(port):
    startup = STARTUP
    cases = [
        ("a newer version", frame(0x05, version=5), "unsupported protocol version"),
        ("a 2 GiB frame", frame(0x07, length=0x7fffffff), "over the limit"),
        ("a query before STARTUP", frame(0x07, struct.pack(">i", 8) + b"SELECT 1" + b"\0\1\0"),
         "before STARTUP"),
        ("an unknown opcode", frame(0x2a), "unexpected opcode"),
        ("a truncated STARTUP", frame(0x01, b"\0\5\0"), "malformed STARTUP"),
    ]
    for what, data, expected in cases:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(data)
            version, stream, opcode, body = read_frame(s)
            check(opcode == 0, f"{what}: opcode {opcode}, not ERROR")
            code, message = error_of(body)
            check(code == 0x000A and expected in message, f"{what}: {code:#x} {message!r}")
            check(version == 0x84, f"{what}: answered with version byte {version:#x}")
    # A v2 client (8-byte header, one-byte stream id) is refused in v2's layout.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">BBbBi", 2, 0, 7, 0x05, 0))
        head = b""
        while len(head) < 8:
            chunk = s.recv(8 - len(head))
            check(chunk, "v2 OPTIONS: closed without an answer")
            head += chunk
        check(head[:4] == b"\x82\x00\x07\x00", f"v2 OPTIONS answered with {head!r}")
    # Garbage: answered or closed, never a crash; the node still serves a good conversation.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(os.urandom(64))
        try:
            read_frame(s)
        except (AssertionError, OSError):
            pass
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(frame(0x05) + frame(0x01, startup, stream=2))
        check(read_frame(s)[2] == 0x06, "OPTIONS: no SUPPORTED")
        check(read_frame(s)[2] == 0x03, "STARTUP: no AUTHENTICATE")


def main():
    # A hang shows where it is, before ctest's timeout kills the test without a word.
    faulthandler.dump_traceback_later(TEST_DEADLINE_S, exit=True)
    kvnode = sys.argv[1]
    root = tempfile.mkdtemp(prefix="cql-driver-test-")
    nodes = Nodes(kvnode, root)
    ok = False
    try:
        nodes.start()
        run(nodes)
        ok = True
    finally:
        nodes.stop()
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"driver_test: logs kept in {root}", file=sys.stderr)
    print("driver_test: ok")


def run(nodes):
    raw_checks(nodes.cql_ports[0])

    # Wait until the contact point knows its two peers, so the driver sees the whole ring.
    simple = ExecutionProfile(load_balancing_policy=DCAwareRoundRobinPolicy(local_dc="datacenter1"))
    wrong = Cluster(["127.0.0.1"], port=nodes.cql_ports[0], protocol_version=4,
                    execution_profiles={EXEC_PROFILE_DEFAULT: simple},
                    auth_provider=PlainTextAuthProvider(username=USER, password="wrong"))
    try:
        wrong.connect()
        check(False, "connected with a wrong password")
    except NoHostAvailable as e:
        check(all(isinstance(x, AuthenticationFailed) for x in e.errors.values()), f"{e.errors}")
    wrong.shutdown()
    probe = Cluster(["127.0.0.1"], port=nodes.cql_ports[0], protocol_version=4,
                    execution_profiles={EXEC_PROFILE_DEFAULT: simple}, auth_provider=AUTH)
    s = probe.connect()
    poll("two peers", lambda: len(list(s.execute("SELECT peer FROM system.peers_v2"))) == 2)
    # ...and until every node sees every other up: a write at ALL to a keyspace of RF 3.
    def formed():
        s.execute("CREATE KEYSPACE IF NOT EXISTS formed WITH replication = "
                  "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        s.execute("CREATE TABLE IF NOT EXISTS formed.t (k int PRIMARY KEY)")
        for k in range(10):
            s.execute(SimpleStatement(f"INSERT INTO formed.t (k) VALUES ({k})",
                                      consistency_level=ConsistencyLevel.ALL))
        return True
    poll("the cluster formed", formed)
    probe.shutdown()

    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc="datacenter1")),
        consistency_level=ConsistencyLevel.QUORUM, retry_policy=FallthroughRetryPolicy(),
        request_timeout=20)
    # No protocol_version: the driver starts newer and must be talked down to v4.
    cluster = Cluster(["127.0.0.1"], port=nodes.cql_ports[0], auth_provider=AUTH,
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile})
    session = cluster.connect()
    check(cluster.protocol_version == 4, f"negotiated v{cluster.protocol_version}")
    hosts = cluster.metadata.all_hosts()
    check(sorted(h.endpoint.port for h in hosts) == sorted(nodes.cql_ports),
          f"hosts {[str(h.endpoint) for h in hosts]}")

    session.execute("CREATE KEYSPACE feast WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 3}")
    try:
        session.execute("CREATE KEYSPACE feast WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 3}")
        check(False, "a second CREATE KEYSPACE succeeded")
    except AlreadyExists as e:
        check(e.keyspace == "feast", f"AlreadyExists names {e.keyspace!r}")
    session.set_keyspace("feast")
    stream_reuse_and_events(nodes.cql_ports[0])
    session.execute("""
        CREATE TABLE online_store (project text, entity_key blob, feature_name text,
                                   value blob, event_ts timestamp, created_ts timestamp,
                                   PRIMARY KEY ((project, entity_key), feature_name))
        WITH CLUSTERING ORDER BY (feature_name DESC)""")
    table = poll("table metadata",
                 lambda: cluster.metadata.keyspaces["feast"].tables.get("online_store"))
    check([c.name for c in table.partition_key] == ["project", "entity_key"], "partition key")
    check([c.name for c in table.clustering_key] == ["feature_name"], "clustering key")
    replicas = cluster.metadata.get_replicas("feast", b"any routing key")
    check(len(replicas) == 3, f"token map gives {len(replicas)} replicas")

    # Prepared writes and reads, Feast's shape.
    insert = session.prepare("INSERT INTO online_store (project, entity_key, feature_name, value, "
                             "event_ts, created_ts) VALUES (?, ?, ?, ?, ?, ?)")
    ts = datetime.datetime(2026, 12, 7, 10, 0, 0, 123000)
    for f in ("age", "country", "score"):
        session.execute(insert, ("p1", b"\x01\x02", f, f.encode() * 2, ts, ts))
    select = session.prepare("SELECT feature_name, value, event_ts FROM online_store "
                             "WHERE project = ? AND entity_key = ?")
    rows = list(session.execute(select, ("p1", b"\x01\x02")))
    check([r.feature_name for r in rows] == ["score", "country", "age"], f"order: {rows}")
    check(rows[0].value == b"scorescore" and rows[0].event_ts == ts, f"values: {rows[0]}")
    # Feast writes created_ts as None when it has none: a null bind value.
    session.execute(insert, ("p1", b"\x01\x02", "age", b"x", ts, None))
    row = session.execute(select, ("p1", b"\x01\x02")).all()[-1]
    check(row.feature_name == "age" and row.value == b"x", f"after a null bind: {row}")
    check(session.execute("SELECT created_ts FROM online_store WHERE project = 'p1' AND "
                          "entity_key = 0x0102 AND feature_name = 'age'").one().created_ts is None,
          "created_ts is not null")

    # Every bind type.
    session.execute("CREATE TABLE types (k text PRIMARY KEY, b blob, t timestamp, i int, "
                    "d double, f boolean, u uuid, l list<text>, s set<int>, m map<text, double>)")
    u = uuid.uuid4()
    put = session.prepare("INSERT INTO types (k, b, t, i, d, f, u, l, s, m) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    session.execute(put, ("k1", b"\x00\xff", ts, -7, 2.5, True, u, ["x", "y"], {3, 1},
                          {"a": 1.5}))
    # The same values as literals the driver formats itself (simple statements with %s).
    session.execute("INSERT INTO types (k, b, t, i, d, f, u, l, s, m) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    ("k2", b"\x00\xff", ts, -7, 2.5, True, u, ["x", "y"], {3, 1}, {"a": 1.5}))
    for k in ("k1", "k2"):
        got = session.execute(session.prepare("SELECT * FROM types WHERE k = ?"), (k,)).one()
        check((got.b, got.t, got.i, got.d, got.f, got.u, got.l, set(got.s), dict(got.m)) ==
              (b"\x00\xff", ts, -7, 2.5, True, u, ["x", "y"], {1, 3}, {"a": 1.5}),
              f"types of {k}: {got}")

    # A 1 MiB value, through a prepared statement both ways.
    big = os.urandom(1 << 20)
    session.execute(put, ("big", big, ts, 0, 0.0, False, u, [], set(), {}))
    check(session.execute("SELECT b FROM types WHERE k = 'big'").one().b == big, "1 MiB blob")

    # 1,000 rows in 10 partitions at concurrency 100 (one partition is one ringkv object, read
    # and rewritten by each write to it: spreading them keeps the test fast), then all of them
    # read back in pages of 100 by a scan.
    session.execute("CREATE TABLE events (doc text, seq int, body text, PRIMARY KEY (doc, seq))")
    add = session.prepare("INSERT INTO events (doc, seq, body) VALUES (?, ?, ?)")
    rows = [(f"d{i % 10}", i // 10, f"b{i // 10}") for i in range(1000)]
    results = execute_concurrent_with_args(session, add, rows, concurrency=100)
    check(all(r.success for r in results), "a concurrent insert failed")
    page = session.execute(SimpleStatement("SELECT doc, seq, body FROM events", fetch_size=100))
    check(page.has_more_pages and len(page.current_rows) == 100, "the scan's first page")
    seen = [(r.doc, r.seq, r.body) for r in page]
    check(sorted(seen) == sorted(rows), f"paged {len(seen)} rows, {len(set(seen))} distinct")
    count = session.execute("SELECT count(*) FROM events").one()
    check(count[0] == 1000, f"count {count}")
    # Paging a prepared statement within a partition: the paging state travels in EXECUTE.
    by_doc = session.prepare("SELECT seq FROM events WHERE doc = ?")
    by_doc.fetch_size = 30
    first = session.execute(by_doc, ("d1",))
    check(len(first.current_rows) == 30 and first.has_more_pages, "prepared first page")
    check([r.seq for r in first] == list(range(100)), "prepared paging")

    # BATCH: prepared and simple statements, logged and unlogged.
    for kind in (BatchType.LOGGED, BatchType.UNLOGGED):
        batch = BatchStatement(batch_type=kind)
        batch.add(add, ("batch", 1, f"{kind}"))
        batch.add(SimpleStatement("INSERT INTO events (doc, seq, body) VALUES (%s, %s, %s)"),
                  ("batch", 2, f"{kind}"))
        session.execute(batch)
        bodies = [r.body for r in session.execute("SELECT body FROM events WHERE doc = 'batch'")]
        check(bodies == [f"{kind}"] * 2, f"batch {kind}: {bodies}")

    # Consistency levels and errors.
    for cl in (ConsistencyLevel.ONE, ConsistencyLevel.TWO, ConsistencyLevel.ALL,
               ConsistencyLevel.LOCAL_QUORUM):
        row = session.execute(SimpleStatement("SELECT body FROM events WHERE doc = 'd1' AND "
                                              "seq = 5", consistency_level=cl)).one()
        check(row.body == "b5", f"read at {cl}: {row}")
    for bad, exc in (("SELECT * FROM events WHERE doc = 'd1'", InvalidRequest),
                     ("SELEC * FROM events", SyntaxException),
                     ("SELECT * FROM nosuch", InvalidRequest)):
        cl = ConsistencyLevel.SERIAL if exc is InvalidRequest and "nosuch" not in bad \
            else ConsistencyLevel.ONE
        try:
            session.execute(SimpleStatement(bad, consistency_level=cl))
            check(False, f"{bad!r} at {cl} succeeded")
        except exc:
            pass

    # A node killed: a connection registered for STATUS_CHANGE hears it is DOWN; ALL needs 3
    # of 2 alive, and the driver gets Unavailable with the counts.
    watcher = started(nodes.cql_ports[0])
    events = struct.pack(">H", 1) + struct.pack(">H", 13) + b"STATUS_CHANGE"
    watcher.sendall(frame(0x0B, events, stream=3))
    check(read_frame(watcher)[2] == 0x02, "REGISTER STATUS_CHANGE: no READY")
    nodes.kill(2)
    watcher.settimeout(DEADLINE_S)  # the deadline of the wait: each read blocks at most this
    down = struct.pack(">H", 4) + b"DOWN" + b"\x04\x7f\x00\x00\x01" + \
        struct.pack(">i", nodes.cql_ports[2])
    for _ in range(20):  # events about other nodes may come first
        version, stream, opcode, body = read_frame(watcher)
        if opcode == 0x0C and body.startswith(struct.pack(">H", 13) + b"STATUS_CHANGE") and \
                body.endswith(down):
            break
    else:
        check(False, "no STATUS_CHANGE DOWN for the killed node")
    watcher.close()
    def unavailable():
        try:
            session.execute(SimpleStatement("INSERT INTO events (doc, seq, body) VALUES "
                                            "('d2', 1, 'x')", consistency_level=ConsistencyLevel.ALL))
        except Unavailable as e:
            return e
        return None
    e = poll("Unavailable", unavailable)
    check((e.required_replicas, e.alive_replicas) == (3, 2),
          f"Unavailable {e.required_replicas}/{e.alive_replicas}")
    row = session.execute(SimpleStatement("SELECT body FROM events WHERE doc = 'd1' AND seq = 7",
                                          consistency_level=ConsistencyLevel.QUORUM)).one()
    check(row.body == "b7", "QUORUM read with a node down")
    cluster.shutdown()


if __name__ == "__main__":
    main()
