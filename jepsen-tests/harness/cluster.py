"""Real kvnode processes on distinct loopback addresses inside the harness's namespace.

Node i (1-based) is n<i> on 127.0.0.<10+i>:7000; kvnode binds its outgoing peer sockets to its
listen address (PeerClientOptions::bind_host), so a rule on node addresses sees all node-to-node
traffic. Clients connect from 127.0.0.1, which no node uses. Every process is tracked by its PID
and signalled only through that PID.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import time

PORT = 7000


def node_ip(i: int) -> str:
    return f"127.0.0.{10 + i}"


class Node:
    def __init__(self, name, ip, data_dir, log_path, argv):
        self.name, self.ip = name, ip
        self.address = f"{ip}:{PORT}"
        self.data_dir, self.log_path, self.argv = data_dir, log_path, argv
        self.proc = None
        self.paused = False
        self.clock_offset_ms = 0

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        argv = self.argv + [f"--clock-offset-ms={self.clock_offset_ms}"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.paused = False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def kill9(self):
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.paused = False

    def pause(self):
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self, timeout_s=10.0):
        """SIGTERM (after SIGCONT if paused), then SIGKILL if it has not exited in time."""
        if not self.running():
            return
        self.resume()
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()


class Cluster:
    def __init__(self, build_dir, run_dir, n, extra_flags=()):
        self.build_dir = build_dir
        self.kvctl = os.path.join(build_dir, "tools", "kvctl")
        kvnode = os.path.join(build_dir, "node", "kvnode")
        for binary in (kvnode, self.kvctl):
            if not os.access(binary, os.X_OK):
                raise FileNotFoundError(f"{binary} not found: build first")
        seeds = ",".join(f"{node_ip(i)}:{PORT}" for i in range(1, n + 1))
        self.nodes = []
        for i in range(1, n + 1):
            name = f"n{i}"
            data = os.path.join(run_dir, name)
            argv = [kvnode, "--name", name, "--listen", f"{node_ip(i)}:{PORT}", "--data", data,
                    "--seeds", seeds, "--cluster-name", "jepsen", *extra_flags]
            self.nodes.append(Node(name, node_ip(i), data, os.path.join(run_dir, f"{name}.log"),
                                   argv))
        self.by_name = {nd.name: nd for nd in self.nodes}

    def names(self):
        return [nd.name for nd in self.nodes]

    def addresses(self):
        return {nd.name: nd.ip for nd in self.nodes}

    def hosts(self):
        return [nd.address for nd in self.nodes]

    def start(self):
        for nd in self.nodes:
            nd.start()

    def stop_all(self):
        for nd in self.nodes:
            nd.stop()

    def wait_formed(self, timeout_s=40.0) -> bool:
        """Polls until every running, unpaused node lists every member up in its ring."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(self._sees_all_up(nd) for nd in self.nodes if nd.running() and not nd.paused):
                return True
            time.sleep(0.2)  # poll interval, not a wait for an event
        return False

    def _sees_all_up(self, nd) -> bool:
        # A write needing every replica through this node proves it coordinates with all of
        # them; the ring listing proves it believes every member up.
        w = str(min(3, len(self.nodes)))
        try:
            put = subprocess.run([self.kvctl, "--host", nd.address, "--timeout-ms", "1000", "put",
                                  f"probe:formed:{nd.name}", "x", "--w", w],
                                 capture_output=True, timeout=5)
            if put.returncode != 0:
                return False
            r = subprocess.run([self.kvctl, "--host", nd.address, "--timeout-ms", "1000",
                                "--format", "json", "ring"], capture_output=True, text=True,
                               timeout=5)
        except subprocess.TimeoutExpired:
            return False
        if r.returncode != 0:
            return False
        try:
            members = json.loads(r.stdout).get("members", [])
        except ValueError:
            return False
        return len(members) == len(self.nodes) and all(m.get("up") for m in members)


def _tcp_connections():
    """Established IPv4 TCP connections of this namespace: inode -> (local ip, remote ip,
    remote port)."""
    out = {}
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
            if state != "01":  # ESTABLISHED
                continue
            lip = socket.inet_ntoa(struct.pack("<I", int(local.split(":")[0], 16)))
            rip = socket.inet_ntoa(struct.pack("<I", int(remote.split(":")[0], 16)))
            out[inode] = (lip, rip, int(remote.split(":")[1], 16))
    return out


def peer_connections(cluster):
    """The connections each running node holds to another node's listen port: a list of (node
    name, local ip, remote ip). Found through the node's socket fds, so clients' connections
    (from 127.0.0.1, made by other processes) are not among them. REQUIRES: inside the harness's
    namespace (its /proc/net/tcp)."""
    conns, out, node_ips = _tcp_connections(), [], {nd.ip for nd in cluster.nodes}
    for nd in cluster.nodes:
        if not nd.running():
            continue
        fd_dir = f"/proc/{nd.proc.pid}/fd"
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            conn = conns.get(target[len("socket:["):-1]) if target.startswith("socket:[") else None
            if conn and conn[2] == PORT and conn[1] in node_ips:
                out.append((nd.name, conn[0], conn[1]))
    return out
