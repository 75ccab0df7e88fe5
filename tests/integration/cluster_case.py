"""A unittest base class for tests that need simulated nodes and one master: every node
registered with the admin's credential and available before the first test, and the task
helpers those tests share.

    class MyTest(ClusterTestCase):
        CLUSTER = {"count": 1, "gpus": 2}               # SimCluster arguments
        MASTER = {"extra_args": ["--kill-grace-ms", "1000"]}  # Master arguments
"""

import unittest
import urllib.request

from harness import SimCluster
from master_harness import Master, wait_for

ENDED = {"succeeded", "failed", "cancelled", "timed_out", "lost"}
LIVE = {"starting", "running"}


class ClusterTestCase(unittest.TestCase):
    CLUSTER = {"count": 1, "gpus": 2}
    MASTER = {}

    @classmethod
    def setUpClass(cls):
        cls.cluster = SimCluster(**cls.CLUSTER)
        cls.cluster.start_cluster()
        cls.master = Master(**cls.MASTER)
        cls.master.start()
        cls.token = cls.master.login()
        cls.master.put_credential(cls.token, cls.cluster.key)
        for node in cls.cluster.nodes:
            cls.master.add_node(cls.token, node)
        wait_for(lambda: all(n["available"] for n in cls.master.nodes_by_name(cls.token).values()),
                 timeout=15, message="every node available")

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)
        cls.cluster.close()

    def submit(self, **body):
        status, task = self.master.api("POST", "/api/v1/tasks", body, token=self.token)
        self.assertEqual(status, 201, task)
        return task

    def task(self, task_id):
        status, task = self.master.api("GET", "/api/v1/tasks/%d" % task_id, token=self.token)
        self.assertEqual(status, 200, task)
        return task

    def wait_status(self, task_id, statuses, timeout=30):
        statuses = {statuses} if isinstance(statuses, str) else set(statuses)
        return wait_for(lambda: (lambda t: t if t["status"] in statuses else None)(self.task(task_id)),
                        timeout=timeout, message="task %d in %s" % (task_id, statuses))

    def log(self, run_id):
        req = urllib.request.Request(self.master.url + "/api/v1/runs/%d/log?offset=0" % run_id)
        req.add_header("Authorization", "Bearer " + self.token)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode(errors="replace")

    def cancel(self, task_id):
        status, body = self.master.api("POST", "/api/v1/tasks/%d/cancel" % task_id, {},
                                       token=self.token)
        self.assertEqual(status, 200, body)
