"""Issue 7 on a simulated node: a task with --on-time-limit requeue is stopped at its limit
and runs again later, with one log per run; the global default time limit applies to tasks
that set none; --venv activates a venv the test makes, and a missing venv or conda says so in
the run's log."""

import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from cluster_case import ENDED, ClusterTestCase
from master_harness import ADMIN_PASSWORD, wait_for


class RequeueEnvTest(ClusterTestCase):
    MASTER = {"extra_args": ["--kill-grace-ms", "1000", "--default-time-limit", "3s"]}

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="gpuq-requeue-"))
        super().setUpClass()

    def test_requeued_task_runs_twice_with_two_logs(self):
        workdir = self.tmp / "requeue"
        workdir.mkdir()
        # The first run checkpoints and is stopped at its limit; the second finds the
        # checkpoint and finishes.
        command = ("echo run $GPUQ_RUN_ID\n"
                   "if [ -e checkpoint ]; then echo resumed; exit 0; fi\n"
                   "touch checkpoint\n"
                   "trap 'echo got TERM; exit 143' TERM\n"
                   "sleep 30 & wait")
        task = self.submit(command=command, workdir=str(workdir), gpus=1, time_limit_s=2,
                           on_time_limit="requeue")
        self.assertEqual(task["on_time_limit"], "requeue")
        done = self.wait_status(task["id"], ENDED, timeout=40)
        self.assertEqual(done["status"], "succeeded")
        runs = done["runs"]
        self.assertEqual([r["status"] for r in runs], ["timed_out", "succeeded"])
        self.assertIn("requeued", runs[0]["end_reason"])
        self.assertEqual(self.log(runs[0]["id"]), "run %d\ngot TERM\n" % runs[0]["id"])
        self.assertEqual(self.log(runs[1]["id"]), "run %d\nresumed\n" % runs[1]["id"])

    def test_requeued_task_goes_behind_its_priority_class(self):
        # One GPU-hungry task at a time: the requeued task, stopped at its limit, goes behind
        # a task of its priority submitted after it.
        looping = self.submit(command="sleep 30", gpus=2, time_limit_s=1, on_time_limit="requeue")
        self.wait_status(looping["id"], {"running"})
        later = self.submit(command="echo later", gpus=2)
        done = self.wait_status(later["id"], ENDED, timeout=20)
        self.assertEqual(done["status"], "succeeded")
        # Without the requeue order the looping task (submitted first) would start again
        # at once and `later` would wait behind it.
        runs = wait_for(lambda: (lambda r: r if len(r) >= 2 and r[1]["started_at"] else None)(
            self.task(looping["id"])["runs"]), timeout=20, message="second run of the looping task")
        self.assertEqual(runs[0]["status"], "timed_out")
        self.assertLess(done["runs"][0]["started_at"], runs[1]["started_at"])
        status, _ = self.master.api("POST", "/api/v1/tasks/%d/cancel" % looping["id"], {},
                                    token=self.token)
        self.assertEqual(status, 200)
        # Cancelled, or timed out when the cancel came during a stop at the limit: either
        # way it is not requeued again.
        self.assertIn(self.wait_status(looping["id"], ENDED)["status"], {"cancelled", "timed_out"})

    def test_default_time_limit_applies_to_tasks_without_one(self):
        task = self.submit(command="sleep 30", gpus=0)
        self.assertIsNone(task["time_limit_s"])
        started = time.monotonic()
        done = self.wait_status(task["id"], ENDED, timeout=20)
        self.assertEqual(done["status"], "timed_out")
        self.assertLess(time.monotonic() - started, 10)
        own = self.submit(command="sleep 4; echo done", gpus=0, time_limit_s=30)
        self.assertEqual(self.wait_status(own["id"], ENDED, timeout=20)["status"], "succeeded")

    def test_venv_is_activated_before_the_command(self):
        venv = self.tmp / "venv with space"
        subprocess.run(["python3", "-m", "venv", "--without-pip", str(venv)], check=True,
                       timeout=60)
        task = self.submit(command='echo "env=$VIRTUAL_ENV"; python -c "import sys; print(sys.prefix)"',
                           gpus=0, venv=str(venv))
        done = self.wait_status(task["id"], ENDED)
        self.assertEqual(done["status"], "succeeded", self.log(done["runs"][-1]["id"]))
        self.assertEqual(self.log(done["runs"][-1]["id"]), "env=%s\n%s\n" % (venv, venv))
        # The CLI flag reaches the task too.
        self.master.cli("login", "--user", "admin", input=ADMIN_PASSWORD + "\n")
        r = self.master.cli("submit", "--gpus", "0", "--venv", str(venv), "--", "which", "python")
        self.assertEqual(r.returncode, 0, r.stderr)
        done = self.wait_status(int(r.stdout), ENDED)
        self.assertEqual(self.log(done["runs"][-1]["id"]), "%s/bin/python\n" % venv)

    def test_missing_environment_is_a_clear_error_in_the_log(self):
        missing = self.submit(command="echo must not run", gpus=0, venv=str(self.tmp / "nope"))
        done = self.wait_status(missing["id"], ENDED)
        self.assertEqual(done["status"], "failed")
        self.assertEqual(done["runs"][-1]["exit_code"], 127)
        log = self.log(done["runs"][-1]["id"])
        self.assertIn("gpuq: venv not found: '%s'" % (self.tmp / "nope"), log)
        self.assertNotIn("must not run", log)
        conda = self.submit(command="echo must not run", gpus=0, conda="no-such-env")
        done = self.wait_status(conda["id"], ENDED)
        self.assertEqual(done["status"], "failed")
        log = self.log(done["runs"][-1]["id"])
        self.assertRegex(log, r"gpuq: (conda not found|conda cannot activate the environment)")
        self.assertNotIn("must not run", log)
        status, body = self.master.api("POST", "/api/v1/tasks",
                                       {"command": "true", "conda": "a", "venv": "/b"},
                                       token=self.token)
        self.assertEqual((status, body.get("field")), (400, "conda"), body)


if __name__ == "__main__":
    unittest.main()
