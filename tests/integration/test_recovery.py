"""Issue 3, recovery: a master killed with -9 during a burst of submissions, runs that end or
vanish while the master is down, and runs on a node that stays away longer than
--lost-after-ms. Every task ends exactly once, with its true exit code or as lost."""

import os
import signal
import tempfile
import time
import unittest
from pathlib import Path

from harness import SimCluster
from master_harness import Master, wait_for

ENDED = {"succeeded", "failed", "cancelled", "timed_out", "lost"}


class RecoveryTest(unittest.TestCase):
    def test_kill9_during_a_burst_of_50_every_task_ends_once_with_its_code(self):
        with SimCluster(2, gpus=4) as cluster, Master() as master:
            token = master.login()
            master.put_credential(token, cluster.key)
            for node in cluster.nodes:
                master.add_node(token, node)
            wait_for(lambda: all(n["available"] for n in master.nodes_by_name(token).values()),
                     timeout=15)
            marks = Path(tempfile.mkdtemp(prefix="gpuq-marks-"))
            ids = {}
            for i in range(50):
                status, task = master.api("POST", "/api/v1/tasks", {
                    "command": "echo $GPUQ_RUN_ID >> %s/$GPUQ_TASK_ID; sleep 0.%d; exit %d"
                               % (marks, i % 10, i % 5),
                    "gpus": 1}, token=token)
                self.assertEqual(status, 201, task)
                ids[task["id"]] = i % 5
            time.sleep(1.0)
            master.stop(signal.SIGKILL)
            time.sleep(3)  # runs end while the master is down
            master.start()
            token = master.login()

            def all_ended():
                status, tasks = master.api("GET", "/api/v1/tasks?limit=100", token=token)
                ended = [t for t in tasks if t["status"] in ENDED]
                return tasks if len(ended) == 50 else None
            tasks = wait_for(all_ended, timeout=120, message="all 50 tasks ended")
            for t in tasks:
                code = ids[t["id"]]
                self.assertEqual(len(t["runs"]), 1, t)
                self.assertEqual(t["runs"][0]["exit_code"], code, t)
                self.assertEqual(t["status"], "succeeded" if code == 0 else "failed", t)
                # The command ran exactly once on the node.
                self.assertEqual((marks / str(t["id"])).read_text().split(),
                                 [str(t["runs"][0]["id"])])
            # No GPU stays reserved.
            status, nodes = master.api("GET", "/api/v1/tasks?status=starting,running",
                                       token=token)
            self.assertEqual(nodes, [])

    def test_runs_on_a_node_away_longer_than_lost_after_are_lost(self):
        with SimCluster(1, gpus=1) as cluster, \
                Master(extra_args=["--lost-after-ms", "3000"]) as master:
            token = master.login()
            master.put_credential(token, cluster.key)
            master.add_node(token, cluster.nodes[0])
            wait_for(lambda: master.nodes_by_name(token)["node1"]["available"], timeout=15)
            status, task = master.api("POST", "/api/v1/tasks", {"command": "sleep 120"},
                                      token=token)
            wait_for(lambda: master.api("GET", "/api/v1/tasks/%d" % task["id"], token=token)[1]
                     ["status"] == "running", timeout=15)
            cluster.stop("node1")
            done = wait_for(lambda: (lambda t: t if t["status"] in ENDED else None)(
                master.api("GET", "/api/v1/tasks/%d" % task["id"], token=token)[1]), timeout=20)
            self.assertEqual(done["status"], "lost")
            self.assertIn("unreachable", done["runs"][0]["end_reason"])

    def test_run_gone_without_a_code_while_master_was_down_is_lost(self):
        with SimCluster(1, gpus=1) as cluster, Master() as master:
            token = master.login()
            master.put_credential(token, cluster.key)
            master.add_node(token, cluster.nodes[0])
            wait_for(lambda: master.nodes_by_name(token)["node1"]["available"], timeout=15)
            status, task = master.api("POST", "/api/v1/tasks", {"command": "sleep 120"},
                                      token=token)

            def running():
                t = master.api("GET", "/api/v1/tasks/%d" % task["id"], token=token)[1]
                return t if t["status"] == "running" and t["runs"][0]["pid"] else None
            run = wait_for(running, timeout=15)["runs"][0]
            master.stop(signal.SIGKILL)
            # The node "reboots": the runner and the command die without an exit code. The
            # run's runner file holds "PID START" of the runner.
            runner = Path(cluster.nodes[0]["home"]) / ".gpuq/runs" / ("%d.runner" % run["id"])
            os.kill(int(runner.read_text().split()[0]), signal.SIGKILL)
            os.killpg(run["pid"], signal.SIGKILL)
            master.start()
            token = master.login()
            done = wait_for(lambda: (lambda t: t if t["status"] in ENDED else None)(
                master.api("GET", "/api/v1/tasks/%d" % task["id"], token=token)[1]), timeout=30)
            self.assertEqual(done["status"], "lost")
            self.assertEqual(done["runs"][0]["status"], "lost")
            self.assertIsNone(done["runs"][0]["exit_code"])


if __name__ == "__main__":
    unittest.main()
