"""Issue 3, execution on simulated nodes: placement by the rules, commands reaching the node
byte for byte, exit codes, retries and dependencies, cancel of a process group that ignores
TERM, time limits, and a node whose sshd goes away mid-run. Master restarts and lost runs are
in test_recovery.py."""

import tempfile
import time
import unittest
from pathlib import Path

from cluster_case import ENDED, ClusterTestCase
from harness import GPUQ_SIM_WORK
from master_harness import ADMIN_PASSWORD, wait_for


class ExecutionTest(ClusterTestCase):
    CLUSTER = {"count": 3, "gpus": [2, 2, 4],
               "model": ["NVIDIA A100-SXM4-80GB", "Tesla V100-SXM2-32GB",
                         "NVIDIA GeForce RTX 3090"],
               "mem_mib": [81920, 32768, 24576]}
    MASTER = {"extra_args": ["--kill-grace-ms", "1500"]}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = Path(tempfile.mkdtemp(prefix="gpuq-exec-"))

    # --- tests ---

    def test_command_and_workdir_reach_the_node_byte_for_byte(self):
        workdir = self.tmp / "dir with spaces"
        workdir.mkdir()
        command = ("echo \"double $GPUQ_TASK_ID\" 'single $HOME' `echo backtick` $((6*7))\n"
                   "printf '%s\\n' \"it's\" 'say \"hi\"'\n"
                   "pwd\n"
                   "echo cvd=$CUDA_VISIBLE_DEVICES order=$CUDA_DEVICE_ORDER run=$GPUQ_RUN_ID "
                   "node=$GPUQ_NODE mine=$MY_VAR")
        task = self.submit(command=command, workdir=str(workdir), gpus=2, node="node3",
                           env={"MY_VAR": "a b 'c' $d"})
        done = self.wait_status(task["id"], "succeeded")
        run = done["runs"][-1]
        cvd = ",".join(str(i) for i in run["gpu_indices"])
        self.assertEqual(len(run["gpu_indices"]), 2)
        expected = ("double %d single $HOME backtick 42\nit's\nsay \"hi\"\n%s\n"
                    "cvd=%s order=PCI_BUS_ID run=%d node=node3 mine=a b 'c' $d\n"
                    % (task["id"], workdir, cvd, run["id"]))
        self.assertEqual(self.log(run["id"]), expected)

    def test_sim_workload_sees_the_gpus_recorded_for_its_run(self):
        task = self.submit(command="%s --mem 1000 --seconds 1" % GPUQ_SIM_WORK, gpus=1,
                           node="node1")
        done = self.wait_status(task["id"], "succeeded")
        run = done["runs"][-1]
        self.assertIn("CUDA_VISIBLE_DEVICES=%d" % run["gpu_indices"][0], self.log(run["id"]))

    def test_logs_follow_shows_output_live_and_stops_at_the_end(self):
        task = self.submit(command="for i in 1 2 3 4 5; do echo line $i; sleep 0.5; done",
                           gpus=0)
        self.wait_status(task["id"], "running")
        self.master.cli("login", "--user", "admin", input=ADMIN_PASSWORD + "\n")
        started = time.monotonic()
        r = self.master.cli("logs", str(task["id"]), "--follow")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "".join("line %d\n" % i for i in range(1, 6)))
        self.assertLess(time.monotonic() - started, 15)
        # The copy on the master is the whole output, even if the node goes away later.
        self.assertEqual(self.log(self.task(task["id"])["runs"][0]["id"]), r.stdout)

    def test_exit_code_decides_and_retries_requeue(self):
        ok = self.submit(command="true", gpus=0)
        bad = self.submit(command="echo try; exit 3", gpus=1, retries=1)
        self.assertEqual(self.wait_status(ok["id"], ENDED)["status"], "succeeded")
        done = self.wait_status(bad["id"], "failed")
        self.assertEqual([r["exit_code"] for r in done["runs"]], [3, 3])
        self.assertEqual([r["status"] for r in done["runs"]], ["failed", "failed"])

    def test_dependents_wait_for_success_and_are_cancelled_by_failure(self):
        first = self.submit(command="sleep 1; exit 1", gpus=0)
        child = self.submit(command="echo never", gpus=0, after=[first["id"]])
        good = self.submit(command="sleep 1", gpus=0)
        after_good = self.submit(command="echo ran", gpus=0, after=[good["id"]])
        time.sleep(0.5)
        self.assertIn(self.task(after_good["id"])["status"], {"queued"})
        self.assertEqual(self.wait_status(child["id"], ENDED)["status"], "cancelled")
        self.assertEqual(self.wait_status(after_good["id"], ENDED)["status"], "succeeded")
        self.assertGreaterEqual(self.task(after_good["id"])["runs"][0]["started_at"],
                                self.task(good["id"])["runs"][0]["ended_at"])

    def test_placement_follows_model_node_and_count_constraints(self):
        by_model = self.submit(command="true", gpus=1, gpu_model="V100")
        by_node = self.submit(command="true", gpus=1, node="node3")
        four = self.submit(command="true", gpus=4)
        for task, node in ((by_model, "node2"), (by_node, "node3"), (four, "node3")):
            done = self.wait_status(task["id"], "succeeded")
            self.assertEqual(done["runs"][0]["node"], node)
        never = self.submit(command="true", gpus=8)
        self.assertIn("can never run", never.get("warning", ""))
        time.sleep(1.5)
        status, shown = self.master.api("GET", "/api/v1/tasks/%d" % never["id"], token=self.token)
        self.assertEqual(shown["status"], "queued")
        self.assertIn("can never run", shown["waiting_reason"])
        self.cancel(never["id"])

    def test_exclusive_avoids_foreign_processes_and_phantom_memory(self):
        pid = self.cluster.foreign("node1", 0, 30000)
        time.sleep(1.5)
        try:
            task = self.submit(command="true", gpus=1, node="node1", exclusive=True)
            done = self.wait_status(task["id"], "succeeded")
            self.assertEqual(done["runs"][0]["gpu_indices"], [1])
            both = self.submit(command="true", gpus=2, node="node1", exclusive=True)
            time.sleep(2)
            shown = self.task(both["id"])
            self.assertEqual(shown["status"], "queued")
            self.assertIn(str(pid), shown["waiting_reason"])
        finally:
            self.cluster.simctl("node1", "stop-foreign", str(pid))
        self.assertEqual(self.wait_status(both["id"], ENDED, timeout=90)["status"], "succeeded")

    def test_two_tasks_never_share_a_gpu_unless_both_allow_it(self):
        a = self.submit(command="sleep 30", gpus=1, node="node2")
        b = self.submit(command="sleep 30", gpus=1, node="node2")
        c = self.submit(command="sleep 30", gpus=1, node="node2")
        try:
            ra = self.wait_status(a["id"], "running")["runs"][0]["gpu_indices"]
            rb = self.wait_status(b["id"], "running")["runs"][0]["gpu_indices"]
            self.assertNotEqual(ra, rb)
            time.sleep(1.5)
            self.assertEqual(self.task(c["id"])["status"], "queued")
        finally:
            for t in (a, b, c):
                self.cancel(t["id"])
        for t in (a, b, c):
            self.wait_status(t["id"], "cancelled")

    def test_sharing_tasks_share_a_gpu_while_declared_memory_fits(self):
        a = self.submit(command="sleep 30", gpus=1, node="node1", share=True, mem_mib=30000)
        b = self.submit(command="sleep 30", gpus=1, node="node1", share=True, mem_mib=30000)
        c = self.submit(command="sleep 30", gpus=1, node="node1")
        try:
            ga = self.wait_status(a["id"], "running")["runs"][0]["gpu_indices"]
            gb = self.wait_status(b["id"], "running")["runs"][0]["gpu_indices"]
            gc = self.wait_status(c["id"], "running")["runs"][0]["gpu_indices"]
            self.assertEqual(ga, gb)      # both declared sharing and 60 GB fits in 80
            self.assertNotEqual(gc, ga)   # a non-sharing task never joins them
            d = self.submit(command="sleep 30", gpus=1, node="node1", share=True, mem_mib=30000)
            time.sleep(2)
            self.assertEqual(self.task(d["id"])["status"], "queued")  # 90 GB would not fit
            self.cancel(d["id"])
        finally:
            for t in (a, b, c):
                self.cancel(t["id"])
        for t in (a, b, c):
            self.wait_status(t["id"], "cancelled")

    def test_memory_and_utilisation_thresholds_pick_the_gpu_with_room(self):
        busy_mem = self.cluster.foreign("node2", 0, 20000, util=10)  # 12 GiB left on GPU 0
        busy_util = self.cluster.foreign("node2", 1, 1000, util=90)  # 10 % left on GPU 1
        time.sleep(1.5)
        try:
            needs_mem = self.submit(command="true", gpus=1, node="node2", mem_mib=16000)
            self.assertEqual(self.wait_status(needs_mem["id"], "succeeded")["runs"][0]
                             ["gpu_indices"], [1])
            needs_util = self.submit(command="true", gpus=1, node="node2", util_pct=50)
            self.assertEqual(self.wait_status(needs_util["id"], "succeeded")["runs"][0]
                             ["gpu_indices"], [0])
            neither = self.submit(command="true", gpus=1, node="node2", mem_mib=16000,
                                  util_pct=50)
            time.sleep(1.5)
            shown = self.task(neither["id"])
            self.assertEqual(shown["status"], "queued")
            self.assertIn("gpu", shown["waiting_reason"])
        finally:
            self.cluster.simctl("node2", "stop-foreign", str(busy_mem))
            self.cluster.simctl("node2", "stop-foreign", str(busy_util))
        self.assertEqual(self.wait_status(neither["id"], ENDED, timeout=90)["status"], "succeeded")

    def test_a_big_task_is_not_starved_by_small_ones(self):
        filler = self.submit(command="sleep 4", gpus=1, node="node2", time_limit_s=30)
        self.wait_status(filler["id"], "running")
        big = self.submit(command="true", gpus=2, node="node2")
        time.sleep(1)
        # No time limit: it could hold GPU 1 past the big task's start, so it must wait.
        small = self.submit(command="sleep 5", gpus=1, node="node2")
        # Ends well before the filler's time limit: it may run ahead on the reserved GPU.
        backfill = self.submit(command="true", gpus=1, node="node2", time_limit_s=2)
        self.assertEqual(self.wait_status(backfill["id"], ENDED)["status"], "succeeded")
        self.assertEqual(self.task(small["id"])["status"], "queued")
        self.assertIn("reservation", self.task(small["id"])["waiting_reason"])
        big_done = self.wait_status(big["id"], "succeeded", timeout=45)
        small_done = self.wait_status(small["id"], "succeeded", timeout=45)
        self.assertLess(big_done["runs"][0]["started_at"], small_done["runs"][0]["started_at"])

    def test_higher_priority_starts_first(self):
        blocker = self.submit(command="sleep 2", gpus=2, node="node2")
        self.wait_status(blocker["id"], "running")
        low = self.submit(command="true", gpus=2, node="node2", priority=0)
        high = self.submit(command="true", gpus=2, node="node2", priority=10)
        low_done = self.wait_status(low["id"], "succeeded")
        high_done = self.wait_status(high["id"], "succeeded")
        self.assertLess(high_done["runs"][0]["started_at"], low_done["runs"][0]["started_at"])

    def test_cancel_kills_a_group_that_ignores_term_and_frees_the_gpus(self):
        task = self.submit(command="%s --mem 3000 --seconds 600 --ignore-term --children 2"
                           % GPUQ_SIM_WORK, gpus=1, node="node2")
        run = self.wait_status(task["id"], "running")["runs"][0]
        wait_for(lambda: self.cluster.query_apps("node2"), timeout=10, message="GPU process")
        pids = [int(a["pid"]) for a in self.cluster.query_apps("node2")]
        self.cancel(task["id"])
        done = self.wait_status(task["id"], "cancelled", timeout=20)
        self.assertEqual(done["runs"][0]["status"], "cancelled")
        self.assertEqual(self.cluster.query_apps("node2"), [])
        for pid in pids + [run["pid"]]:
            self.assertFalse(Path("/proc/%d" % pid).exists() and
                             "Z" not in Path("/proc/%d/stat" % pid).read_text().split()[2],
                             "pid %d still alive" % pid)

    def test_time_limit_kills_and_marks_timed_out(self):
        task = self.submit(command="sleep 60", gpus=0, time_limit_s=1)
        done = self.wait_status(task["id"], ENDED, timeout=20)
        self.assertEqual(done["status"], "timed_out")
        self.assertEqual(done["runs"][0]["status"], "timed_out")

    def test_zz_node_sshd_stopped_mid_run_is_reconciled(self):
        flag = self.tmp / "end-now"
        task = self.submit(command="while [ ! -f '%s' ]; do sleep 0.1; done; exit 7" % flag,
                           gpus=1, node="node3")
        self.wait_status(task["id"], "running")
        self.cluster.stop("node3")
        try:
            flag.touch()  # the run ends while its node cannot be reached
            time.sleep(3)
            shown = self.task(task["id"])
            self.assertEqual(shown["status"], "running", shown)  # not failed while away
        finally:
            self.cluster.start("node3")
        done = self.wait_status(task["id"], ENDED, timeout=30)
        self.assertEqual(done["status"], "failed")
        self.assertEqual(done["runs"][0]["exit_code"], 7)


if __name__ == "__main__":
    unittest.main()
