"""Regression: the master's memory grew to 91 MB after listing 2 000 tasks a few times (glibc
kept one heap arena per HTTP thread at its peak); issue 6 wants <= 60 MB after 10 000
tasks. The master limits glibc to two arenas."""

import http.client
import json
import unittest
from pathlib import Path

from master_harness import Master


def rss_mib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


class MasterMemoryTest(unittest.TestCase):
    def test_memory_stays_bounded_after_listing_thousands_of_tasks(self):
        with Master() as master:
            token = master.login()
            headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            csv = "task_name,command,n_gpus\n" + "".join(
                "t%d,python train.py --seed %d,1\n" % (i, i) for i in range(3000))
            status, created = master.api("POST", "/api/v1/tasks/import", raw_body=csv.encode(),
                                         token=token)
            self.assertEqual(status, 201, created)
            # Lists from several connections at once, so several HTTP threads allocate.
            conns = [http.client.HTTPConnection("127.0.0.1", master.port, timeout=30)
                     for _ in range(4)]
            for _ in range(3):
                for conn in conns:
                    conn.request("GET", "/api/v1/tasks?limit=10000", headers=headers)
                for conn in conns:
                    reply = conn.getresponse()
                    self.assertEqual(reply.status, 200)
                    self.assertEqual(len(json.loads(reply.read())), 3000)
            for conn in conns:
                conn.close()
            self.assertLess(rss_mib(master.proc.pid), 60)


if __name__ == "__main__":
    unittest.main()
