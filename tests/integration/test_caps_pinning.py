"""Issue 7 on simulated nodes: concurrency caps (total, per user, per node) hold under a burst
of submissions with the reason shown; pinned tasks (gpu_ids) wait for their GPUs while others
are free, preferred GPUs are taken when free, and GPUQ_GPU names the GPUs."""

import sqlite3
import threading
import time
import unittest

import json

from cluster_case import ENDED, LIVE, ClusterTestCase
from harness import GPUQ_SIM_WORK, SimCluster
from master_harness import ADMIN_PASSWORD, Master, wait_for
from panel_client import PanelClient


class CapsTest(unittest.TestCase):
    """--max-running 3, --max-running-per-user 2, --max-running-per-node 2 on two nodes of
    four GPUs: every cap is tighter than the GPUs."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = SimCluster(2, gpus=4)
        cls.cluster.start_cluster()
        cls.master = Master(extra_args=["--max-running", "3", "--max-running-per-user", "2",
                                        "--max-running-per-node", "2"])
        cls.master.start()
        cls.admin = cls.master.login()
        cls.master.put_credential(cls.admin, cls.cluster.key)
        status, body = cls.master.api("POST", "/api/v1/users",
                                      {"username": "bob", "password": "bob-pass-123",
                                       "role": "user"}, token=cls.admin)
        assert status == 201, body
        cls.bob = cls.master.login("bob", "bob-pass-123")
        cls.master.put_credential(cls.bob, cls.cluster.key)
        for node in cls.cluster.nodes:
            cls.master.add_node(cls.admin, node)
        wait_for(lambda: all(n["available"] for n in cls.master.nodes_by_name(cls.admin).values()),
                 timeout=15, message="nodes available")

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)
        cls.cluster.close()

    def test_caps_hold_under_a_burst_and_say_why(self):
        ids = []
        lock = threading.Lock()

        def burst(token, n):
            for _ in range(n):
                status, task = self.master.api("POST", "/api/v1/tasks",
                                               {"command": "sleep 1.5", "gpus": 1}, token=token)
                self.assertEqual(status, 201, task)
                with lock:
                    ids.append(task["id"])

        threads = [threading.Thread(target=burst, args=(t, 5)) for t in (self.admin, self.bob)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        peak_total, peak_user, peak_node, reasons = 0, {}, {}, set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, tasks = self.master.api("GET", "/api/v1/tasks?limit=100", token=self.admin)
            self.assertEqual(status, 200)
            mine = [t for t in tasks if t["id"] in ids]
            live = [t for t in mine if t["status"] in LIVE]
            peak_total = max(peak_total, len(live))
            for user in ("admin", "bob"):
                peak_user[user] = max(peak_user.get(user, 0),
                                      sum(1 for t in live if t["user"] == user))
            for node in ("node1", "node2"):
                peak_node[node] = max(peak_node.get(node, 0),
                                      sum(1 for t in live if t["runs"] and t["runs"][-1]["node"] == node))
            reasons.update(t.get("waiting_reason") or "" for t in mine if t["status"] == "queued")
            if all(t["status"] in ENDED for t in mine) and len(mine) == len(ids):
                break
            time.sleep(0.05)
        status, tasks = self.master.api("GET", "/api/v1/tasks?limit=100", token=self.admin)
        self.assertEqual({t["status"] for t in tasks if t["id"] in ids}, {"succeeded"})
        self.assertLessEqual(peak_total, 3)
        self.assertGreaterEqual(peak_total, 2, "the caps must still let tasks run side by side")
        self.assertLessEqual(max(peak_user.values()), 2, peak_user)
        self.assertLessEqual(max(peak_node.values()), 2, peak_node)
        joined = " | ".join(sorted(reasons))
        self.assertIn("max_running", joined)

    def save_scheduling(self, panel, max_running):
        return panel.submit("/admin/settings", {
            "section": "scheduling", "max_running": max_running, "max_running_per_user": "",
            "max_running_per_node": "", "default_time_limit": ""})

    def test_panel_setting_changes_the_cap_while_the_master_runs(self):
        panel = PanelClient(self.master.url)
        panel.login("admin", ADMIN_PASSWORD)
        status, _, body = self.save_scheduling(panel, "-1")
        self.assertEqual(status, 400)
        self.assertIn('data-field="max_running"', body)
        db = sqlite3.connect(str(self.master.data / "gpuq.db"), timeout=10)
        try:
            status, _, _ = self.save_scheduling(panel, "1")  # no restart
            self.assertEqual(status, 303)
            self.assertEqual(db.execute("SELECT value FROM settings WHERE key = 'max_running'")
                             .fetchone(), ("1",))
            ids = [self.master.api("POST", "/api/v1/tasks", {"command": "sleep 1", "gpus": 1},
                                   token=self.admin)[1]["id"] for _ in range(3)]
            peak = 0
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                tasks = [self.master.api("GET", "/api/v1/tasks/%d" % i, token=self.admin)[1]
                         for i in ids]
                peak = max(peak, sum(1 for t in tasks if t["status"] in LIVE))
                if all(t["status"] in ENDED for t in tasks):
                    break
                time.sleep(0.05)
            self.assertEqual(peak, 1)
        finally:
            # Empty hands the cap back to --max-running.
            status, _, _ = self.save_scheduling(panel, "")
            self.assertEqual(status, 303)
            self.assertIsNone(db.execute("SELECT value FROM settings WHERE key = 'max_running'")
                              .fetchone())
            db.close()

    def test_cap_reason_in_gpuq_show(self):
        blockers = [self.master.api("POST", "/api/v1/tasks", {"command": "sleep 4", "gpus": 1},
                                    token=self.admin)[1]["id"] for _ in range(3)]
        waiting = self.master.api("POST", "/api/v1/tasks", {"command": "true", "gpus": 1},
                                  token=self.admin)[1]["id"]
        wait_for(lambda: "max_running" in (self.master.api(
            "GET", "/api/v1/tasks/%d" % waiting, token=self.admin)[1].get("waiting_reason") or ""),
            timeout=10, message="cap reason")
        self.master.cli("login", "--user", "admin", input=ADMIN_PASSWORD + "\n")
        shown = self.master.cli("show", str(waiting))
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("max_running", shown.stdout)
        queue = self.master.cli("queue")
        line = [l for l in queue.stdout.splitlines() if l.split()[:1] == [str(waiting)]]
        self.assertTrue(line and "max_running" in line[0], queue.stdout)
        for t in blockers + [waiting]:
            wait_for(lambda t=t: self.master.api("GET", "/api/v1/tasks/%d" % t,
                                                 token=self.admin)[1]["status"] in ENDED,
                     timeout=30, message="task ends")


class PinningTest(ClusterTestCase):
    CLUSTER = {"count": 1, "gpus": 4}

    def test_pinned_task_waits_for_its_gpus(self):
        first = self.submit(command="sleep 3", gpu_ids=[1, 2], gpus=2)
        run = self.wait_status(first["id"], LIVE)["runs"][-1]
        self.assertEqual(run["gpu_indices"], [1, 2])
        second = self.submit(command="echo gpu=$GPUQ_GPU cvd=$CUDA_VISIBLE_DEVICES", gpu_ids=[2])
        time.sleep(1.5)
        waiting = self.task(second["id"])
        self.assertEqual(waiting["status"], "queued", "GPUs 0 and 3 are free, yet it must wait")
        self.assertIn("gpu 2", waiting["waiting_reason"])
        done = self.wait_status(second["id"], ENDED)
        self.assertEqual(done["status"], "succeeded")
        self.assertEqual(done["runs"][-1]["gpu_indices"], [2])
        self.assertGreaterEqual(done["runs"][-1]["started_at"], self.task(first["id"])["runs"][-1]["ended_at"])
        self.assertEqual(self.log(done["runs"][-1]["id"]), "gpu=cuda2 cvd=2\n")

    def test_preferred_gpu_taken_when_free_else_any(self):
        pref = self.submit(command="echo $GPUQ_GPU", prefer_gpus=[3])
        done = self.wait_status(pref["id"], ENDED)
        self.assertEqual(done["runs"][-1]["gpu_indices"], [3])
        blocker = self.submit(command="sleep 3", gpu_ids=[3])
        self.wait_status(blocker["id"], LIVE)
        other = self.submit(command="echo $GPUQ_GPU", prefer_gpus=[3])
        done = self.wait_status(other["id"], ENDED, timeout=2.5)  # does not wait for GPU 3
        self.assertNotEqual(done["runs"][-1]["gpu_indices"], [3])
        self.wait_status(blocker["id"], ENDED)

    def test_queue_and_nodes_views(self):
        task = self.submit(command="%s --mem 1000 --seconds 4" % GPUQ_SIM_WORK, gpu_ids=[2],
                           name="viewed")
        run = self.wait_status(task["id"], {"running"})["runs"][-1]
        self.master.cli("login", "--user", "admin", input=ADMIN_PASSWORD + "\n")
        queue = self.master.cli("queue")
        self.assertEqual(queue.returncode, 0, queue.stderr)
        lines = queue.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "USER", "NAME", "STATE", "TIME", "GPUS", "NODE",
                                            "REASON"])
        row = [l.split() for l in lines[1:] if l.split()[0] == str(task["id"])][0]
        self.assertEqual(row[1:4], ["admin", "viewed", "running"])
        self.assertEqual(row[6], "node1:2")
        as_json = json.loads(self.master.cli("queue", "--json").stdout)
        self.assertIn(task["id"], [t["id"] for t in as_json])
        # gpustat-like: GPU 2 shows the run's process as its holder once sampled.
        wait_for(lambda: "run %d" % run["id"] in self.master.cli("nodes").stdout, timeout=10,
                 message="holder shown in gpuq nodes")
        nodes = self.master.cli("nodes")
        gpu2 = [l for l in nodes.stdout.splitlines() if l.strip().startswith("[2]")][0]
        self.assertIn("MiB", gpu2)
        self.assertIn("run %d" % run["id"], gpu2)
        listed = json.loads(self.master.cli("nodes", "--json").stdout)
        self.assertEqual(len(listed[0]["gpus"]), 4)
        self.wait_status(task["id"], ENDED)

    def test_cli_flags_reach_the_task(self):
        self.master.cli("login", "--user", "admin", input=ADMIN_PASSWORD + "\n")
        r = self.master.cli("submit", "--gpus", "2", "--gpu-ids", "0,3", "--prefer-gpus", "3",
                            "--", "echo", "$GPUQ_GPU")
        self.assertEqual(r.returncode, 0, r.stderr)
        task = self.task(int(r.stdout.strip()))
        self.assertEqual((task["gpu_ids"], task["prefer_gpus"]), ([0, 3], [3]))
        done = self.wait_status(task["id"], ENDED)
        self.assertEqual(done["runs"][-1]["gpu_indices"], [0, 3])
        bad = self.master.cli("submit", "--gpu-ids", "0,x", "--", "true")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("--gpu-ids", bad.stderr)
        status, body = self.master.api("POST", "/api/v1/tasks",
                                       {"command": "true", "gpus": 2, "gpu_ids": [1]},
                                       token=self.token)
        self.assertEqual((status, body.get("field")), (400, "gpu_ids"), body)
        never = self.submit(command="true", gpu_ids=[7])
        self.assertIn("can never run", never.get("warning", ""))
        status, _ = self.master.api("POST", "/api/v1/tasks/%d/cancel" % never["id"], {},
                                    token=self.token)
        self.assertEqual(status, 200)


if __name__ == "__main__":
    unittest.main()
