"""Issue 2, node links end to end: a master watching three real sshd nodes with simulated
GPUs. GPUs appear within two intervals; a stopped sshd turns its node unavailable and a
restarted one brings it back; a hung node leaves the others' samples on time; a swapped host
key is refused until an admin accepts it."""

import time
import unittest
from datetime import datetime

from harness import NVIDIA_SMI, SimCluster
from master_harness import Master, wait_for

INTERVAL_S = 1.0


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


class NodeLinksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = SimCluster(3, gpus=[8, 4, 1],
                                 model=["NVIDIA A100-SXM4-80GB", "Tesla V100-SXM2-32GB",
                                        "NVIDIA GeForce RTX 3090"],
                                 mem_mib=[81920, 32768, 24576])
        cls.cluster.start_cluster()
        cls.master = Master(probe_interval_ms=int(INTERVAL_S * 1000), probe_timeout_ms=2000,
                            connect_timeout_ms=2000)
        cls.master.start()
        cls.token = cls.master.login()
        cls.master.put_credential(cls.token, cls.cluster.key)
        cls.appear_s = {}
        for node in cls.cluster.nodes:
            added = time.monotonic()
            created = cls.master.add_node(cls.token, node)
            wait_for(lambda: cls.master.nodes_by_name(cls.token)[node["name"]]["available"],
                     timeout=10, message=node["name"] + " available")
            cls.appear_s[node["name"]] = time.monotonic() - added
            cls.node_ids = getattr(cls, "node_ids", {})
            cls.node_ids[node["name"]] = created["id"]

    @classmethod
    def tearDownClass(cls):
        cls.master.stop()
        cls.master.__exit__(None, None, None)
        cls.cluster.close()

    def nodes(self):
        return self.master.nodes_by_name(self.token)

    def test_gpus_appear_within_two_intervals(self):
        for name, seconds in self.appear_s.items():
            self.assertLess(seconds, 2 * INTERVAL_S, "%s took %.2fs" % (name, seconds))
        status, gpus = self.master.api("GET", "/api/v1/gpus", token=self.token)
        self.assertEqual(status, 200)
        by_node = {}
        for g in gpus:
            by_node.setdefault(g["node"], []).append(g)
        self.assertEqual({k: len(v) for k, v in by_node.items()},
                         {"node1": 8, "node2": 4, "node3": 1})
        self.assertEqual({g["model"] for g in by_node["node2"]}, {"Tesla V100-SXM2-32GB"})
        g = by_node["node1"][0]
        for field in ("node", "index", "uuid", "model", "mem_total_mib", "mem_used_mib",
                      "util_pct", "processes", "run_ids", "sampled_at"):
            self.assertIn(field, g)
        self.assertEqual(g["mem_total_mib"], 81920)
        self.assertTrue(g["uuid"].startswith("GPU-"))

    def test_host_keys_are_pinned_on_first_contact(self):
        nodes = self.nodes()
        for node in self.cluster.nodes:
            if node["name"] == "node1":
                continue  # the host key test may have rotated it
            self.assertEqual(nodes[node["name"]]["host_key_sha256"], node["host_key_sha256"])

    def test_foreign_process_shows_with_pid_memory_and_user(self):
        pid = self.cluster.foreign("node2", 3, 12000, util=60)
        try:
            def seen():
                gpu = [g for g in self.nodes()["node2"]["gpus"] if g["index"] == 3][0]
                return gpu if gpu["processes"] else None
            gpu = wait_for(seen, timeout=3 * INTERVAL_S, message="foreign process")
            self.assertEqual(gpu["processes"][0]["pid"], pid)
            self.assertEqual(gpu["processes"][0]["mem_mib"], 12000)
            self.assertTrue(gpu["processes"][0]["user"])
            self.assertEqual(gpu["mem_used_mib"], 12000)
            self.assertEqual(gpu["util_pct"], 60)
        finally:
            self.cluster.simctl("node2", "stop-foreign", str(pid))

    def test_driver_failure_marks_node_unavailable_with_the_drivers_words(self):
        self.cluster.simctl("node3", "driver-fail", "on")
        try:
            node = wait_for(lambda: (lambda n: n if not n["available"] else None)(
                self.nodes()["node3"]), timeout=3 * INTERVAL_S, message="node3 unavailable")
            self.assertIn("couldn't communicate with the NVIDIA driver", node["last_error"])
        finally:
            self.cluster.simctl("node3", "driver-fail", "off")
        wait_for(lambda: self.nodes()["node3"]["available"], timeout=3 * INTERVAL_S,
                 message="node3 back")

    def test_stopped_sshd_turns_node_unavailable_and_restart_brings_it_back(self):
        self.cluster.stop("node2")
        try:
            node = wait_for(lambda: (lambda n: n if not n["available"] else None)(
                self.nodes()["node2"]), timeout=5, message="node2 unavailable")
            self.assertTrue(node["last_error"])
            self.assertTrue(self.nodes()["node1"]["available"])
        finally:
            self.cluster.start("node2")
        wait_for(lambda: self.nodes()["node2"]["available"], timeout=20, message="node2 back")

    def test_hung_node_leaves_the_others_samples_on_time(self):
        # The hung sshd keeps its TCP connections open and accepts new ones, but never
        # answers: the worst case for a scheduler that polls nodes one after another.
        self.cluster.hang("node3")
        try:
            samples = {"node1": set(), "node2": set()}
            unavailable = None
            start = time.monotonic()
            while time.monotonic() - start < 8:
                nodes = self.nodes()
                for name in samples:
                    samples[name].add(parse_time(nodes[name]["last_sample_at"]))
                if not nodes["node3"]["available"] and unavailable is None:
                    unavailable = nodes["node3"]
                time.sleep(0.1)
            self.assertIsNotNone(unavailable, "the hung node was never marked unavailable")
            self.assertIn("no answer", unavailable["last_error"])
            for name, times in samples.items():
                times = sorted(times)
                gaps = [b - a for a, b in zip(times, times[1:])]
                self.assertGreaterEqual(len(times), 6, name)
                # On time: no gap longer than one interval plus scheduling noise.
                self.assertLess(max(gaps), INTERVAL_S + 0.5, "%s gaps %s" % (name, gaps))
        finally:
            self.cluster.resume("node3")
        wait_for(lambda: self.nodes()["node3"]["available"], timeout=20, message="node3 back")

    def test_probe_setting_gpustat_custom_path_and_missing_tool(self):
        node_id = self.node_ids["node2"]

        def set_probe(probe):
            status, body = self.master.api("PATCH", "/api/v1/nodes/%d" % node_id,
                                           {"probe": probe}, token=self.token)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["probe"], probe)

        def fresh_sample_after(t):
            def check():
                n = self.nodes()["node2"]
                return n if n["available"] and n["last_sample_at"] and \
                    parse_time(n["last_sample_at"]) > t else None
            return wait_for(check, timeout=10, message="fresh sample of node2")

        pid = self.cluster.foreign("node2", 1, 5000, util=20)
        try:
            for probe in ("gpustat", str(NVIDIA_SMI), "nvidia-smi"):
                set_probe(probe)
                node = fresh_sample_after(time.time())
                self.assertEqual(len(node["gpus"]), 4, probe)
                self.assertEqual(node["gpus"][0]["model"], "Tesla V100-SXM2-32GB", probe)
                procs = [p for g in node["gpus"] for p in g["processes"]]
                self.assertEqual([p["pid"] for p in procs], [pid], probe)
            set_probe("/nonexistent/nvidia-smi")
            node = wait_for(lambda: (lambda n: n if not n["available"] else None)(
                self.nodes()["node2"]), timeout=10, message="node2 unavailable")
            self.assertIn("not found", node["last_error"])
        finally:
            set_probe("nvidia-smi")
            self.cluster.simctl("node2", "stop-foreign", str(pid))
        fresh_sample_after(time.time())

    def test_swapped_host_key_is_refused_until_an_admin_accepts_it(self):
        old = self.nodes()["node1"]["host_key_sha256"]
        self.cluster.rekey("node1")
        new = self.cluster.node("node1")["host_key_sha256"]
        self.assertNotEqual(old, new)
        node = wait_for(lambda: (lambda n: n if n["pending_host_key_sha256"] else None)(
            self.nodes()["node1"]), timeout=20, message="new key seen")
        self.assertFalse(node["available"])
        self.assertIn("host key changed", node["last_error"])
        self.assertEqual(node["pending_host_key_sha256"], new)
        self.assertEqual(node["host_key_sha256"], old)  # still pinned to the old one
        # No samples while refused.
        before = node["last_sample_at"]
        time.sleep(2 * INTERVAL_S)
        self.assertEqual(self.nodes()["node1"]["last_sample_at"], before)

        node_id = self.node_ids["node1"]
        status, body = self.master.api("PATCH", "/api/v1/nodes/%d" % node_id,
                                       {"accept_host_key": "SHA256:not-the-key"}, token=self.token)
        self.assertEqual(status, 409)
        self.assertEqual(body["field"], "accept_host_key")
        status, body = self.master.api("PATCH", "/api/v1/nodes/%d" % node_id,
                                       {"accept_host_key": new}, token=self.token)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["host_key_sha256"], new)
        self.assertIsNone(body["pending_host_key_sha256"])
        wait_for(lambda: self.nodes()["node1"]["available"], timeout=5, message="node1 back")


if __name__ == "__main__":
    unittest.main()
