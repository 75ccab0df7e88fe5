"""A gpuq master for integration tests: started from the build tree with a fresh data folder
on a free loopback port, driven through its HTTP API (urllib) and the `gpuq` CLI.

    with Master() as m:
        token = m.login()
        status, body = m.api("GET", "/api/v1/nodes", token=token)
"""

import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from harness import find_gpuq_binary, free_port, wait_for  # noqa: F401 (re-exported)

ADMIN_PASSWORD = "admin-pass-123"


class Master:
    def __init__(self, probe_interval_ms=1000, probe_timeout_ms=2000, connect_timeout_ms=2000,
                 data_dir=None, extra_args=(), ca_file=None):
        """ca_file: the master serves HTTPS (extra_args carry --tls-cert/--tls-key) and
        clients trust this certificate."""
        self.binary = find_gpuq_binary()
        if self.binary is None:
            raise RuntimeError("gpuq binary not found under GPUQ_BUILD_DIR; build it first")
        self.tmp = Path(tempfile.mkdtemp(prefix="gpuq-master-"))
        self.data = Path(data_dir) if data_dir else self.tmp / "data"
        self.port = free_port("127.0.0.1")
        self.ssl_context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
        self.url = "%s://127.0.0.1:%d" % ("https" if ca_file else "http", self.port)
        self.args = ["--probe-interval-ms", str(probe_interval_ms),
                     "--probe-timeout-ms", str(probe_timeout_ms),
                     "--connect-timeout-ms", str(connect_timeout_ms), *extra_args]
        self.proc = None
        self.log_path = self.tmp / "master.log"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def start(self, wait=True):
        env = dict(os.environ, GPUQ_ADMIN_PASSWORD=ADMIN_PASSWORD)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.binary), "master", "--listen", "127.0.0.1:%d" % self.port,
             "--data", str(self.data), *self.args],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        if wait:
            self.wait_healthy()
        return self.proc

    def wait_healthy(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("master exited with %d:\n%s" % (self.proc.returncode, self.log()))
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1,
                                            context=self.ssl_context) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError("master not healthy after %ds:\n%s" % (timeout, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Stops the master; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("master did not stop within %ds" % timeout)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # --- HTTP API ---

    def api(self, method, path, body=None, token=None, raw_body=None):
        """Returns (status, decoded JSON body or None)."""
        data = raw_body if raw_body is not None else (
            json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl_context) as r:
                text = r.read().decode()
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                return e.code, json.loads(text) if text else None
            except ValueError:
                return e.code, text

    def login(self, username="admin", password=ADMIN_PASSWORD):
        status, body = self.api("POST", "/api/v1/tokens",
                                {"username": username, "password": password})
        if status != 201:
            raise AssertionError("login failed: %s %s" % (status, body))
        return body["token"]

    def put_credential(self, token, key_path, remote_user="root"):
        status, body = self.api("PUT", "/api/v1/me/credential",
                                {"remote_user": remote_user,
                                 "private_key": Path(key_path).read_text()}, token=token)
        if status != 200:
            raise AssertionError("credential: %s %s" % (status, body))
        return body

    def add_node(self, token, node, name=None, **extra):
        body = {"name": name or node["name"], "host": node["host"], "port": node["port"], **extra}
        status, created = self.api("POST", "/api/v1/nodes", body, token=token)
        if status != 201:
            raise AssertionError("add node: %s %s" % (status, created))
        return created

    def nodes_by_name(self, token):
        status, nodes = self.api("GET", "/api/v1/nodes", token=token)
        assert status == 200, (status, nodes)
        return {n["name"]: n for n in nodes}

    # --- CLI ---

    def cli(self, *args, input=None, env=None, server=None):
        """Runs `gpuq ARGS` against this master with its own config folder."""
        e = dict(os.environ, GPUQ_SERVER=server or self.url,
                 XDG_CONFIG_HOME=str(self.tmp / "config"))
        e.pop("GPUQ_TOKEN", None)
        if env:
            e.update(env)
        return subprocess.run([str(self.binary), *args], input=input, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=60)

