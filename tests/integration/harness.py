"""Helpers for gpuq's integration tests: simulated GPU nodes that are real sshd instances on
loopback addresses (scripts/sim/nodes.sh), reached with the system ssh client.

    from harness import SimCluster

    class T(unittest.TestCase):
        def test_something(self):
            with SimCluster(3, gpus=[8, 4, 2]) as c:
                r = c.ssh("node1", "nvidia-smi -L")
                ...

Everything a cluster starts (sshd, processes started in its ssh sessions, foreign GPU
processes) is ended when the `with` block ends, also when a test fails; a watchdog process
does the same if the test process itself is killed (ctest timeout). Set GPUQ_KEEP_SIM=1 to
keep the temporary folder for a post-mortem.
"""

import atexit
import getpass
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = Path(os.environ.get("GPUQ_SOURCE_DIR") or HERE.parents[1]).resolve()
BUILD_DIR = Path(os.environ.get("GPUQ_BUILD_DIR") or REPO_ROOT / "build").resolve()
SIM_DIR = REPO_ROOT / "scripts" / "sim"
NODES_SH = SIM_DIR / "nodes.sh"
SIMCTL = SIM_DIR / "simctl"
GPUQ_SIM_WORK = SIM_DIR / "gpuq-sim-work"
NVIDIA_SMI = SIM_DIR / "nvidia-smi"

DEFAULT_MODEL = "NVIDIA A100-SXM4-80GB"

SSH_OPTIONS = [
    "-F", "/dev/null",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "BatchMode=yes",
    "-o", "IdentitiesOnly=yes",
    "-o", "LogLevel=ERROR",
]


def find_gpuq_binary():
    """The built `gpuq` executable under GPUQ_BUILD_DIR, or None."""
    for candidate in (BUILD_DIR / "gpuq", BUILD_DIR / "master" / "gpuq", BUILD_DIR / "bin" / "gpuq"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    for path in sorted(BUILD_DIR.rglob("gpuq")):
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def wait_for(predicate, timeout=10.0, interval=0.1, message="condition"):
    """Polls predicate() until it returns something truthy, which is returned; fails the test
    with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, message))
        time.sleep(interval)


def free_port(ip="127.0.0.1"):
    """A TCP port that is free on ip right now (bind to port 0 and ask the kernel)."""
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def default_first_ip():
    """A per-process 127.X.Y.11, so concurrent test files (ctest -j) rarely share addresses.
    Sharing is harmless anyway: the port is picked free on every address a cluster uses."""
    pid = os.getpid()
    return "127.%d.%d.11" % (100 + pid % 100, 1 + (pid // 100) % 250)


def ip_add(ip, n):
    v = int.from_bytes(socket.inet_aton(ip), "big") + n
    return socket.inet_ntoa(v.to_bytes(4, "big"))


def _run(args, check=True, timeout=120, **kw):
    r = subprocess.run([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (shlex.join(map(str, args)), r.returncode,
                                                       r.stdout, r.stderr))
    return r


# Runs detached from the test process; when the test process dies (its end of our stdin pipe
# closes) without having said "done", it cleans the cluster up.
_WATCHDOG = r"""
import os, shutil, subprocess, sys
data = sys.stdin.buffer.read()
if b"done" not in data:
    subprocess.run(["sh", sys.argv[1], "cleanup", "--base", sys.argv[2]],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if sys.argv[3] != "keep":
        shutil.rmtree(sys.argv[2], ignore_errors=True)
"""


class SimCluster:
    """count simulated nodes (node1..nodeN) on consecutive loopback addresses from first_ip.

    gpus and model may be one value for all nodes or a list with one value per node.
    Attributes: base (temp folder), key (client private key), nodes (dicts from nodes.json:
    name, host, port, user, dir, sim_dir, home, host_key_sha256, host_key_line, pid, state).
    """

    def __init__(self, count=3, gpus=8, model=DEFAULT_MODEL, mem_mib=81920, first_ip=None,
                 port=None, keep=None):
        self.count = count
        self.gpus = gpus if isinstance(gpus, (list, tuple)) else [gpus] * count
        self.models = model if isinstance(model, (list, tuple)) else [model] * count
        self.mem_mib = mem_mib if isinstance(mem_mib, (list, tuple)) else [mem_mib] * count
        if not (len(self.gpus) == len(self.models) == len(self.mem_mib) == count):
            raise ValueError("gpus, model and mem_mib lists need one entry per node")
        self.first_ip = first_ip or default_first_ip()
        self.port = port
        self.keep = bool(os.environ.get("GPUQ_KEEP_SIM")) if keep is None else keep
        self.base = None
        self.key = None
        self.nodes = []
        self._watchdog = None
        self._closed = False

    # --- life cycle ---

    def __enter__(self):
        self.start_cluster()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start_cluster(self):
        # GPUQ_SIM_DIR: where the nodes' folders (their homes, runs and logs) go; default the
        # system's temporary folder.
        self.base = Path(tempfile.mkdtemp(prefix="gpuq-sim-", dir=os.environ.get("GPUQ_SIM_DIR")))
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(NODES_SH), str(self.base), "keep" if self.keep else "rm"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        atexit.register(self.close)
        try:
            self.key = self.base / "client_key"
            _run(["sh", NODES_SH, "keygen", self.key])
            args = ["sh", NODES_SH, "start", "--base", self.base, "--count", self.count,
                    "--gpus", self.gpus[0], "--model", self.models[0], "--mem-mib", self.mem_mib[0],
                    "--first-ip", self.first_ip, "--authorized-keys", str(self.key) + ".pub"]
            if self.port:
                args += ["--port", self.port]
            _run(args)
            self.reload()
            for i, node in enumerate(self.nodes):
                if (self.gpus[i], self.models[i], self.mem_mib[i]) != (self.gpus[0], self.models[0], self.mem_mib[0]):
                    self.simctl_raw("init", node["sim_dir"], "--gpus", self.gpus[i], "--model", self.models[i],
                                    "--mem-mib", self.mem_mib[i], "--hostname", node["name"])
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        if self._closed or self.base is None:
            return
        self._closed = True
        try:
            if (self.base / "nodes.list").exists():
                _run(["sh", NODES_SH, "cleanup", "--base", self.base], check=False)
        finally:
            if self._watchdog is not None:
                try:
                    self._watchdog.stdin.write(b"done")
                    self._watchdog.stdin.close()
                    self._watchdog.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if not self.keep:
                shutil.rmtree(self.base, ignore_errors=True)
            try:
                atexit.unregister(self.close)
            except Exception:
                pass

    # --- nodes ---

    def reload(self):
        with open(self.base / "nodes.json") as f:
            self.nodes = json.load(f)
        return self.nodes

    def node(self, node):
        """The node dict for a name, index (0-based) or node dict."""
        if isinstance(node, dict):
            node = node["name"]
        if isinstance(node, int):
            return self.nodes[node]
        for n in self.nodes:
            if n["name"] == node:
                return n
        raise KeyError(node)

    @property
    def names(self):
        return [n["name"] for n in self.nodes]

    def _nodes_sh(self, command, *names, check=True):
        r = _run(["sh", NODES_SH, command, "--base", self.base, *names], check=check)
        self.reload()
        return r

    def stop(self, name):
        return self._nodes_sh("stop", self.node(name)["name"])

    def start(self, name):
        return self._nodes_sh("start-node", self.node(name)["name"])

    def hang(self, name):
        return self._nodes_sh("hang", self.node(name)["name"])

    def resume(self, name):
        return self._nodes_sh("resume", self.node(name)["name"])

    def rekey(self, name):
        return self._nodes_sh("rekey", self.node(name)["name"])

    def reap(self, *names):
        return self._nodes_sh("reap", *[self.node(n)["name"] for n in names])

    # --- ssh ---

    def ssh_args(self, node, *extra):
        """argv for the system ssh client to node (before the remote command)."""
        n = self.node(node)
        return ["ssh", *SSH_OPTIONS, "-i", str(self.key), "-p", str(n["port"]), *extra,
                "%s@%s" % (n.get("user") or getpass.getuser(), n["host"])]

    def ssh(self, node, command, timeout=60, check=False, input=None, connect_timeout=None):
        """Runs command on node through ssh; returns CompletedProcess (text stdout/stderr)."""
        extra = ["-o", "ConnectTimeout=%d" % connect_timeout] if connect_timeout else []
        r = subprocess.run(self.ssh_args(node, *extra) + [command], input=input, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise RuntimeError("ssh %s %r failed (%d): %s%s" % (self.node(node)["name"], command,
                                                              r.returncode, r.stdout, r.stderr))
        return r

    def ssh_popen(self, node, command, **kw):
        """Starts command on node through ssh without waiting (text pipes by default)."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("text", True)
        return subprocess.Popen(self.ssh_args(node) + [command], **kw)

    def nvidia_smi(self, node, *args, check=True):
        """Runs the simulated nvidia-smi on node; returns its stdout."""
        r = self.ssh(node, "nvidia-smi " + shlex.join(args), check=check)
        return r.stdout

    def query_gpus(self, node, fields="index,uuid,name,memory.total,memory.used,utilization.gpu"):
        """[{field: value}] from --query-gpu with csv,noheader,nounits (values as strings)."""
        names = fields.split(",")
        out = self.nvidia_smi(node, "--query-gpu=" + fields, "--format=csv,noheader,nounits")
        return [dict(zip(names, line.split(", "))) for line in out.splitlines() if line]

    def query_apps(self, node, fields="gpu_uuid,pid,used_memory,process_name"):
        names = fields.split(",")
        out = self.nvidia_smi(node, "--query-compute-apps=" + fields, "--format=csv,noheader,nounits")
        return [dict(zip(names, line.split(", "))) for line in out.splitlines() if line]

    # --- simulator control (runs locally on the node's state folder) ---

    def simctl_raw(self, *args, check=True):
        return _run([sys.executable, "-I", "-S", SIMCTL, *args], check=check).stdout.strip()

    def simctl(self, node, command, *args, check=True):
        """simctl COMMAND <node's sim dir> ARGS..., e.g. simctl("node1", "phantom", "--gpu", "0",
        "--mem-mib", "3000"); returns its stdout, stripped."""
        return self.simctl_raw(command, self.node(node)["sim_dir"], *args, check=check)

    def foreign(self, node, gpu, mem_mib, util=0, user="bob"):
        """Starts a foreign GPU process on node; returns its pid."""
        return int(self.simctl(node, "foreign", "--gpu", gpu, "--mem-mib", mem_mib, "--util", util,
                               "--user", user))

    def wait_for(self, predicate, timeout=10.0, interval=0.1, message="condition"):
        return wait_for(predicate, timeout, interval, message)
