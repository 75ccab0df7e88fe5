"""Issue 2, the first API and CLI: authentication on every route, per-field errors that
leave nothing half-written, the stored SSH key never shown or stored in the clear, the CLI's
login and nodes views and exit codes, and restarts that keep the state."""

import os
import signal
import sqlite3
import subprocess
import unittest
from pathlib import Path

from harness import SimCluster, free_port
from master_harness import ADMIN_PASSWORD, Master, wait_for

ROUTES = [
    ("GET", "/api/v1/nodes"), ("POST", "/api/v1/nodes"), ("GET", "/api/v1/nodes/1"),
    ("PATCH", "/api/v1/nodes/1"), ("DELETE", "/api/v1/nodes/1"), ("GET", "/api/v1/gpus"),
    ("PUT", "/api/v1/me/credential"), ("GET", "/api/v1/me/credential"), ("GET", "/api/v1/me"),
    ("GET", "/api/v1/users"), ("POST", "/api/v1/users"),
]


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = SimCluster(1, gpus=2)
        cls.cluster.start_cluster()
        cls.master = Master()
        cls.master.start()
        cls.token = cls.master.login()

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)
        cls.cluster.close()

    def api(self, method, path, body=None, token="admin"):
        return self.master.api(method, path, body, token=self.token if token == "admin" else token)

    def test_every_route_refuses_requests_without_a_valid_token(self):
        for method, path in ROUTES:
            for token in (None, "gpuq_not-a-real-token"):
                status, body = self.master.api(method, path, {}, token=token)
                self.assertEqual(status, 401, (method, path, token, body))
                self.assertIn("error", body)

    def test_normal_users_cannot_change_nodes_or_see_users(self):
        status, _ = self.api("POST", "/api/v1/users",
                             {"username": "alice", "password": "alice-pass-1", "role": "user"})
        self.assertIn(status, (201, 409))
        alice = self.master.login("alice", "alice-pass-1")
        status, _ = self.api("POST", "/api/v1/nodes", {"name": "x", "host": "127.0.0.1"}, alice)
        self.assertEqual(status, 403)
        self.assertEqual(self.api("GET", "/api/v1/users", token=alice)[0], 403)
        self.assertEqual(self.api("GET", "/api/v1/nodes", token=alice)[0], 200)

    def test_bad_node_fields_are_named_and_nothing_is_written(self):
        cases = [
            ({"host": "127.0.0.1"}, "name"),
            ({"name": "n x", "host": "127.0.0.1"}, "name"),
            ({"name": "ok1", "host": "-oProxyCommand=id"}, "host"),
            ({"name": "ok1", "host": "127.0.0.1", "port": 70000}, "port"),
            ({"name": "ok1", "host": "127.0.0.1", "port": "22"}, "port"),
            ({"name": "ok1", "host": "127.0.0.1", "probe": "nvidia-smi; rm -rf /"}, "probe"),
            ({"name": "ok1", "host": "127.0.0.1", "prot": 22}, "prot"),
        ]
        for body, field in cases:
            status, err = self.api("POST", "/api/v1/nodes", body)
            self.assertEqual(status, 400, body)
            self.assertEqual(err["field"], field, body)
        status, err = self.master.api("POST", "/api/v1/nodes", raw_body=b"{not json",
                                      token=self.token)
        self.assertEqual(status, 400)
        names = [n["name"] for n in self.api("GET", "/api/v1/nodes")[1]]
        self.assertNotIn("ok1", names)

    def test_duplicate_node_name_is_a_conflict_on_name(self):
        node = self.cluster.nodes[0]
        self.master.add_node(self.token, node, name="dup")
        status, err = self.api("POST", "/api/v1/nodes",
                               {"name": "dup", "host": node["host"], "port": node["port"]})
        self.assertEqual(status, 409)
        self.assertEqual(err["field"], "name")
        node_id = self.master.nodes_by_name(self.token)["dup"]["id"]
        self.assertEqual(self.api("DELETE", "/api/v1/nodes/%d" % node_id)[0], 204)
        self.assertEqual(self.api("GET", "/api/v1/nodes/%d" % node_id)[0], 404)

    def test_private_key_is_never_returned_nor_stored_in_the_clear(self):
        key_text = Path(self.cluster.key).read_text()
        body = self.master.put_credential(self.token, self.cluster.key)
        self.assertTrue(body["public_key_sha256"].startswith("SHA256:"))
        status, cred = self.api("GET", "/api/v1/me/credential")
        self.assertEqual(status, 200)
        self.assertEqual(set(cred), {"remote_user", "public_key_sha256", "updated_at"})
        # Nothing of the key's body is in the database files, WAL included.
        secret_line = key_text.strip().splitlines()[2]
        for f in self.master.data.glob("gpuq.db*"):
            self.assertNotIn(secret_line.encode(), f.read_bytes(), f)
        self.assertEqual(os.stat(self.master.data / "secret.key").st_mode & 0o777, 0o600)
        status, err = self.api("PUT", "/api/v1/me/credential",
                               {"remote_user": "root", "private_key": "not a key"})
        self.assertEqual((status, err["field"]), (400, "private_key"))

    def test_wrong_passwords_are_rate_limited(self):
        statuses = [self.master.api("POST", "/api/v1/tokens",
                                    {"username": "ratelimited", "password": "wrong"})[0]
                    for _ in range(7)]
        self.assertEqual(statuses[:5], [401] * 5)
        self.assertEqual(statuses[5:], [429, 429])

    def test_cli_login_and_nodes(self):
        r = self.master.cli("login", "--user", "admin", input=ADMIN_PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        cred_file = self.master.tmp / "config" / "gpuq" / "credentials"
        self.assertEqual(os.stat(cred_file).st_mode & 0o777, 0o600)
        self.master.put_credential(self.token, self.cluster.key)
        node = self.cluster.nodes[0]
        r = self.master.cli("node", "add", "clinode", node["host"], "--port", str(node["port"]))
        self.assertEqual(r.returncode, 0, r.stderr)
        wait_for(lambda: self.master.nodes_by_name(self.token)["clinode"]["available"], timeout=5)
        r = self.master.cli("nodes")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("clinode", r.stdout)
        self.assertIn("NVIDIA A100-SXM4-80GB", r.stdout)
        self.assertIn("/  81920 MiB", r.stdout)
        r = self.master.cli("nodes", "--json")
        self.assertIn('"clinode"', r.stdout)
        r = self.master.cli("node", "rm", "clinode")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_cli_exit_codes(self):
        self.assertEqual(self.master.cli("nodes", "--bogus").returncode, 2)
        r = self.master.cli("nodes", "--token", "gpuq_wrong")
        self.assertEqual(r.returncode, 1)
        self.assertIn("token", r.stderr)
        r = self.master.cli("nodes", server="http://127.0.0.1:%d" % free_port())
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot reach the master", r.stderr)


class RestartTest(unittest.TestCase):
    def test_restart_keeps_nodes_pinned_keys_and_password(self):
        with SimCluster(1, gpus=1) as cluster, Master() as master:
            token = master.login()
            master.put_credential(token, cluster.key)
            master.add_node(token, cluster.nodes[0])
            wait_for(lambda: master.nodes_by_name(token)["node1"]["available"], timeout=5)
            self.assertEqual(master.stop(signal.SIGTERM), 0)
            master.start()
            token = master.login()  # the same admin password
            node = wait_for(lambda: (lambda n: n if n["available"] else None)(
                master.nodes_by_name(token)["node1"]), timeout=5)
            self.assertEqual(node["host_key_sha256"], cluster.nodes[0]["host_key_sha256"])
            self.assertEqual(len(node["gpus"]), 1)

    def test_database_newer_than_the_binary_is_refused(self):
        with Master() as master:
            master.stop()
            db = sqlite3.connect(master.data / "gpuq.db")
            db.execute("PRAGMA user_version = 999")
            db.commit()
            db.close()
            proc = master.start(wait=False)
            self.assertEqual(proc.wait(timeout=10), 1)
            self.assertIn("newer than this gpuq", master.log())

    def test_taken_port_fails_at_start_with_a_clear_message(self):
        with Master() as first:
            second = Master()
            second.port = first.port
            proc = second.start(wait=False)
            try:
                self.assertEqual(proc.wait(timeout=10), 1)
                self.assertIn("cannot listen on 127.0.0.1:%d" % first.port, second.log())
            finally:
                second.__exit__(None, None, None)

    def test_second_master_on_the_same_data_folder_is_refused(self):
        with Master() as first:
            second = Master(data_dir=first.data)
            proc = second.start(wait=False)
            try:
                self.assertEqual(proc.wait(timeout=10), 1)
                self.assertIn("another gpuq master (pid %d)" % first.proc.pid, second.log())
            finally:
                second.__exit__(None, None, None)
            self.assertEqual(first.api("GET", "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
