"""Real kvnode processes on distinct loopback addresses inside the harness's namespace.

Node i (1-based) is n<i> on 127.0.0.<10+i>:7000; kvnode binds its outgoing peer sockets to its
listen address (PeerClientOptions::bind_host), so a rule on node addresses sees all node-to-node
traffic. Clients connect from 127.0.0.1, which no node uses. Every process is tracked by its PID
and signalled only through that PID.
"""
import json
import os
import signal
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
