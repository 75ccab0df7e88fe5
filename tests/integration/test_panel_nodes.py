"""Issue 4, the panel's node and task pages on a real simulated node: GPUs and their holders
on the dashboard, delete refused while a run is live, a changed host key accepted from the
node page, a task edited before it starts, a run's log downloaded whole, and paging."""

import re
import time
import unittest

from harness import SimCluster, wait_for
from master_harness import ADMIN_PASSWORD, Master
from panel_client import PanelClient


class PanelNodesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = SimCluster(1, gpus=2)
        cls.cluster.start_cluster()
        cls.master = Master(probe_interval_ms=300)
        cls.master.start()
        cls.token = cls.master.login()
        cls.master.put_credential(cls.token, cls.cluster.key, remote_user=cls.cluster.nodes[0]["user"])
        cls.panel = PanelClient(cls.master.url)
        cls.panel.login("admin", ADMIN_PASSWORD)
        n = cls.cluster.nodes[0]
        status, headers, body = cls.panel.submit("/admin/nodes/new", {"name": "gpu-a", "host": n["host"],
                                                                      "port": str(n["port"]), "probe": "nvidia-smi",
                                                                      "schedulable": "on"})
        assert status == 303, body[:500]
        cls.node_path = headers["location"].split("?")[0]
        wait_for(lambda: 'class="dot ok"' in cls.panel.get("/admin")[2], timeout=20, message="node available")

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)
        cls.cluster.close()

    def task_status(self, task_id):
        return self.master.api("GET", "/api/v1/tasks/%d" % task_id, token=self.token)[1]["status"]

    def submit(self, **fields):
        form = {"gpus": "1", "priority": "0", "retries": "0", **fields}
        status, headers, body = self.panel.submit("/admin/tasks/new", form)
        self.assertEqual(status, 303, body[:500])
        return int(headers["location"].split("?")[0].rsplit("/", 1)[1])

    def test_dashboard_shows_gpus_holders_and_a_live_node_cannot_be_deleted(self):
        self.cluster.foreign("node1", 1, 2048, user="bob")
        task = self.submit(name="holder", command="sleep 30")
        wait_for(lambda: self.task_status(task) == "running", timeout=20, message="running")
        body = wait_for(lambda: (lambda b: b if "foreign" in b and "#%d holder" % task in b else None)(
            self.panel.get("/admin")[2]), timeout=20, message="holders on the dashboard")
        self.assertIn("NVIDIA A100", body)
        self.assertRegex(body, r'class="holder foreign">foreign \w+ <span class="muted">pid \d+ · 2G')
        self.assertEqual(body.count('class="idx"'), 2)
        # The node page: a usage plot per GPU.
        self.assertEqual(self.panel.get(self.node_path)[2].count('class="plot"'), 2)
        status, headers, _ = self.panel.submit(self.node_path, {"action": "delete"})
        self.assertEqual(status, 303)
        status, _, body = self.panel.get(headers["location"])
        self.assertEqual(status, 200)  # still there
        self.assertIn("has 1 live run(s)", body)
        self.assertNotIn("has 1 live run(s)", self.panel.get(self.node_path)[2])  # shown once
        self.panel.submit("/admin/tasks/%d" % task, {"action": "cancel"})
        wait_for(lambda: self.task_status(task) == "cancelled", timeout=20, message="cancelled")

    def test_a_task_edited_before_it_starts_and_its_log_downloaded_whole(self):
        task = self.submit(name="draft", command="echo one", hold="on")
        self.assertEqual(self.task_status(task), "held")
        status, _, body = self.panel.get("/admin/tasks/%d/edit" % task)
        self.assertIn('value="draft"', body)
        status, headers, _ = self.panel.submit("/admin/tasks/%d/edit" % task, {
            "name": "final", "command": "seq 1 20000", "gpus": "0", "priority": "3", "retries": "0"})
        self.assertEqual(status, 303)
        _, t = self.master.api("GET", "/api/v1/tasks/%d" % task, token=self.token)
        self.assertEqual((t["name"], t["command"], t["gpus"], t["priority"]), ("final", "seq 1 20000", 0, 3))
        self.assertNotEqual(t["status"], "held")  # released by the edit (hold unticked)
        wait_for(lambda: self.task_status(task) == "succeeded", timeout=20, message="succeeded")
        # Editing after the start is refused.
        status, headers, _ = self.panel.get("/admin/tasks/%d/edit" % task)
        self.assertEqual(status, 303)
        self.assertIn("has already started", self.panel.get(headers["location"])[2])
        run = self.master.api("GET", "/api/v1/tasks/%d/runs" % task, token=self.token)[1][-1]["id"]
        want = "".join("%d\n" % i for i in range(1, 20001))
        full = wait_for(lambda: (lambda r: r if r[2] == want else None)(self.panel.get("/admin/runs/%d/log" % run)),
                        timeout=10, message="the whole log")
        self.assertIn("attachment", full[1]["content-disposition"])
        # The page shows only the log's end (64 KiB), cut at a line start.
        page = self.panel.get("/admin/tasks/%d" % task)[2]
        shown = re.search(r'<pre class="log" id="log-text"[^>]*>(.*?)</pre>', page, re.S).group(1)
        self.assertTrue(shown.endswith("20000\n"))
        self.assertLess(len(shown), 70000)
        self.assertTrue(want.endswith(shown))
        self.assertIn('data-offset="%d"' % len(want), page)

    def test_paging_through_tasks(self):
        csv = ["task_id,task_name,command,work_dir,n_gpus,execution,notify,status,allocated_gpus,start_time,end_time"]
        # 64 GPUs: no node has them, so released tasks stay queued.
        csv += ["%d,page-%d,echo,,64,No,No,,,," % (i, i) for i in range(60)]
        status, created = self.master.api("POST", "/api/v1/tasks/import", raw_body="\n".join(csv).encode(),
                                          token=self.token)
        self.assertEqual(status, 201)
        body = self.panel.get("/admin/tasks?status=held")[2]
        self.assertEqual(body.count("<tr data-task="), 50)
        nxt = re.search(r'id="next-page" href="([^"]+)"', body).group(1).replace("&amp;", "&")
        body2 = self.panel.get(nxt)[2]
        rows = body.count("<tr data-task=") + body2.count("<tr data-task=")
        self.assertGreaterEqual(rows, 60)
        self.assertNotIn('id="next-page"', body2)
        first = set(re.findall(r'<tr data-task="(\d+)"', body))
        self.assertFalse(first & set(re.findall(r'<tr data-task="(\d+)"', body2)))
        # Bulk release of two, then cancel of all on the page.
        ids = sorted(first)[:2]
        status, _, _ = self.panel.submit("/admin/tasks", {"action": "release", "id": ids}, page="/admin/tasks?status=held")
        self.assertEqual(status, 303)
        for i in ids:
            self.assertEqual(self.task_status(int(i)), "queued")
        status, _, _ = self.panel.submit("/admin/tasks", {"action": "cancel", "id": [c["id"] for c in created]},
                                         page="/admin/tasks")
        self.assertEqual(status, 303)
        for c in created:
            self.assertEqual(self.task_status(c["id"]), "cancelled")

    def test_z_a_changed_host_key_is_accepted_from_the_node_page(self):
        old = self.cluster.nodes[0]["host_key_sha256"]
        self.cluster.rekey("node1")
        new = self.cluster.node("node1")["host_key_sha256"]
        body = wait_for(lambda: (lambda b: b if 'id="pending-key"' in b else None)(self.panel.get(self.node_path)[2]),
                        timeout=20, message="the new key on the node page")
        self.assertIn(new, body)
        self.assertIn(old, body)
        # A fingerprint other than the one shown is refused.
        status, headers, _ = self.panel.submit(self.node_path, {"action": "accept_key", "fingerprint": "SHA256:other"})
        self.assertIn("changed again", self.panel.get(headers["location"])[2])
        status, headers, _ = self.panel.submit(self.node_path, {"action": "accept_key", "fingerprint": new})
        self.assertIn("msg=msg.key_accepted", headers["location"])
        wait_for(lambda: self.master.nodes_by_name(self.token)["gpu-a"]["available"], timeout=20, message="back")


if __name__ == "__main__":
    unittest.main()
