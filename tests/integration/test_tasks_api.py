"""Issue 3, the task records: submit through the API and `gpuq submit` with every field,
commands and workdirs kept byte for byte, per-field errors that write nothing, edit while
queued, hold/release, cancel, per-user visibility, the queue/show/cancel/logs views and their
exit codes, and `gpuq import` of the CSV queue format (1000 rows in one transaction; a bad
row creates nothing and names its line). No nodes are needed: tasks stay queued."""

import json
import sqlite3
import time
import unittest
import urllib.error
import urllib.request

from harness import free_port
from master_harness import Master

# A command that exercises every quoting hazard between the user and the node.
HAIRY_COMMAND = (
    "#!/bin/bash\n"
    "echo \"double $HOME\" 'single $HOME' `echo backtick` $(echo dollar-paren)\n"
    "printf '%s\\n' \"it's\" 'say \"hi\"' \\\n"
    "  --flag=\"a b\"; echo tab\there\n"
    "cd \"/tmp/dir with spaces\" && ls *\n")
HAIRY_WORKDIR = "/data/my experiments/run #1 (it's \"quoted\")"

CSV_HEADER = ("task_id,task_name,command,work_dir,n_gpus,execution,notify,status,"
              "allocated_gpus,start_time,end_time\n")


def csv_field(text):
    return '"' + text.replace('"', '""') + '"'


def make_csv(rows, bad_row=None):
    """rows tasks; the command of every 3rd spans three lines. Returns (text, line where each
    row starts). With bad_row=i, row i gets n_gpus "lots"."""
    out = [CSV_HEADER]
    starts = []
    line = 2
    for i in range(rows):
        if i % 3 == 0:
            command = "cd /data\npython train.py --seed %d --name \"run %d\"\necho done" % (i, i)
        else:
            command = "python eval.py --seed %d" % i
        gpus = "lots" if i == bad_row else str(i % 3)
        execution = "No" if i % 10 == 0 else "Yes"
        notify = "Yes" if i % 7 == 0 else "No"
        out.append("%d,job-%d,%s,/data/job %d,%s,%s,%s,pending,,,\n" % (
            i, i, csv_field(command), i, gpus, execution, notify))
        starts.append(line)
        line += command.count("\n") + 1
    return "".join(out), starts


class TasksApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.master = Master()
        cls.master.start()
        cls.admin = cls.master.login()
        for name in ("alice", "bob"):
            status, body = cls.master.api("POST", "/api/v1/users",
                                          {"username": name, "password": name + "-pass-1",
                                           "role": "user"}, token=cls.admin)
            assert status == 201, (status, body)
        cls.alice = cls.master.login("alice", "alice-pass-1")
        cls.bob = cls.master.login("bob", "bob-pass-1")

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)

    # --- helpers ---

    def api(self, method, path, body=None, token=None):
        return self.master.api(method, path, body, token=token or self.alice)

    def submit(self, body, token=None):
        status, task = self.api("POST", "/api/v1/tasks", body, token)
        self.assertEqual(status, 201, task)
        return task

    def get(self, task_id, token=None):
        status, task = self.api("GET", "/api/v1/tasks/%d" % task_id, token=token)
        self.assertEqual(status, 200, task)
        return task

    def count_tasks(self):
        status, tasks = self.master.api("GET", "/api/v1/tasks?limit=10000", token=self.admin)
        self.assertEqual(status, 200, tasks)
        return len(tasks)

    def cli(self, *args, token=None, **kw):
        return self.master.cli(*args, env={"GPUQ_TOKEN": token or self.alice}, **kw)

    def post_csv(self, text, token=None):
        req = urllib.request.Request(self.master.url + "/api/v1/tasks/import",
                                     data=text.encode(), method="POST")
        req.add_header("Authorization", "Bearer " + (token or self.alice))
        req.add_header("Content-Type", "text/csv")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode())

    # --- submit ---

    def test_submit_via_api_round_trips_every_field(self):
        dep = self.submit({"command": "true"})
        body = {"name": "train-resnet", "command": "python train.py", "workdir": "/data/x",
                "gpus": 2, "mem_mib": 8192, "util_pct": 30, "exclusive": False, "share": True,
                "node": "node7", "gpu_model": "A100", "env": {"A": "1", "B": "x y"},
                "priority": 5, "time_limit_s": 5400, "retries": 2, "after": [dep["id"]],
                "notify": "failure", "hold": True}
        created = self.submit(body)
        self.assertIn("warning", created)  # no node is registered: it can never run yet
        task = self.get(created["id"])
        for key, value in body.items():
            if key != "hold":
                self.assertEqual(task[key], value, key)
        self.assertEqual(task["status"], "held")
        self.assertEqual(task["user"], "alice")
        self.assertEqual(task["runs"], [])
        self.assertTrue(task["created_at"].endswith("Z"))
        self.assertEqual(task["waiting_reason"], "held: release it to let it run")
        for key in ("id", "name", "user", "command", "workdir", "gpus", "mem_mib", "util_pct",
                    "exclusive", "node", "share", "gpu_model", "env", "priority",
                    "time_limit_s", "retries", "after", "notify", "status", "created_at",
                    "runs"):
            self.assertIn(key, task)

    def test_defaults(self):
        task = self.get(self.submit({"command": "nvidia-smi"})["id"])
        self.assertEqual((task["gpus"], task["mem_mib"], task["util_pct"], task["exclusive"],
                          task["share"], task["priority"], task["retries"]),
                         (1, 0, 0, False, False, 0, 0))
        self.assertIsNone(task["workdir"])
        self.assertIsNone(task["node"])
        self.assertIsNone(task["time_limit_s"])
        self.assertEqual((task["env"], task["after"], task["notify"], task["status"]),
                         ({}, [], "end", "queued"))
        self.assertIn("waiting_reason", task)

    def test_cli_submit_round_trips_every_flag(self):
        dep = self.submit({"command": "true"})
        r = self.cli("submit", "--name", "cli job", "--workdir", "/data/y", "--gpus", "4",
                     "--mem", "1.5G", "--util", "20", "--exclusive", "--node", "node2",
                     "--gpu-model", "H100", "--env", "K=V", "--env", "E=a=b", "--priority", "-7",
                     "--time-limit", "1h30m", "--retries", "3", "--after", str(dep["id"]),
                     "--hold", "--notify", "--", "python", "main.py", "--lr", "0.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning", r.stderr)
        task = self.get(int(r.stdout.strip()))
        self.assertEqual(task["name"], "cli job")
        self.assertEqual(task["command"], "python main.py --lr 0.1")
        self.assertEqual(task["workdir"], "/data/y")
        self.assertEqual((task["gpus"], task["mem_mib"], task["util_pct"]), (4, 1536, 20))
        self.assertEqual((task["exclusive"], task["share"]), (True, False))
        self.assertEqual((task["node"], task["gpu_model"]), ("node2", "H100"))
        self.assertEqual(task["env"], {"K": "V", "E": "a=b"})
        self.assertEqual((task["priority"], task["time_limit_s"], task["retries"]), (-7, 5400, 3))
        self.assertEqual(task["after"], [dep["id"]])
        self.assertEqual((task["notify"], task["status"]), ("end", "held"))

        r = self.cli("submit", "--share", "--mem", "4000", "--notify=off", "--", "echo", "x")
        self.assertEqual(r.returncode, 0, r.stderr)
        task = self.get(int(r.stdout.strip()))
        self.assertEqual((task["share"], task["mem_mib"], task["notify"]), (True, 4000, "off"))

    def test_commands_and_workdirs_are_kept_byte_for_byte(self):
        task = self.submit({"command": HAIRY_COMMAND, "workdir": HAIRY_WORKDIR})
        stored = self.get(task["id"])
        self.assertEqual(stored["command"], HAIRY_COMMAND)
        self.assertEqual(stored["workdir"], HAIRY_WORKDIR)
        # One word after --: sent as it is.
        r = self.cli("submit", "--workdir", HAIRY_WORKDIR, "--", HAIRY_COMMAND)
        self.assertEqual(r.returncode, 0, r.stderr)
        stored = self.get(int(r.stdout.strip()))
        self.assertEqual(stored["command"], HAIRY_COMMAND)
        self.assertEqual(stored["workdir"], HAIRY_WORKDIR)
        # Several words: each quoted, so the shell sees exactly these words.
        r = self.cli("submit", "--", "echo", "a b", "it's", "$HOME", "`id`")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.get(int(r.stdout.strip()))["command"],
                         "echo 'a b' 'it'\\''s' '$HOME' '`id`'")
        # --command-file: the file's bytes.
        script = self.master.tmp / "script.sh"
        script.write_text(HAIRY_COMMAND)
        r = self.cli("submit", "--command-file", str(script))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.get(int(r.stdout.strip()))["command"], HAIRY_COMMAND)

    def test_bad_fields_are_named_and_nothing_is_written(self):
        cases = [
            ({}, "command"),
            ({"command": ""}, "command"),
            ({"command": "   \n"}, "command"),
            ({"command": "x" * (64 * 1024 + 1)}, "command"),
            ({"command": "a\u0000b"}, "command"),
            ({"command": "x", "name": "n" * 201}, "name"),
            ({"command": "x", "workdir": "/a\nb"}, "workdir"),
            ({"command": "x", "gpus": 65}, "gpus"),
            ({"command": "x", "gpus": "2"}, "gpus"),
            ({"command": "x", "mem_mib": -1}, "mem_mib"),
            ({"command": "x", "util_pct": 101}, "util_pct"),
            ({"command": "x", "exclusive": "yes"}, "exclusive"),
            ({"command": "x", "share": True}, "share"),
            ({"command": "x", "share": True, "mem_mib": 10, "exclusive": True}, "share"),
            ({"command": "x", "node": "no such; node"}, "node"),
            ({"command": "x", "env": {"CUDA_VISIBLE_DEVICES": "0"}}, "env"),
            ({"command": "x", "env": {"GPUQ_TASK_ID": "1"}}, "env"),
            ({"command": "x", "env": {"1BAD": "x"}}, "env"),
            ({"command": "x", "env": {"A": 1}}, "env"),
            ({"command": "x", "priority": 1001}, "priority"),
            ({"command": "x", "time_limit_s": 0}, "time_limit_s"),
            ({"command": "x", "retries": 101}, "retries"),
            ({"command": "x", "after": [999999]}, "after"),
            ({"command": "x", "after": "3"}, "after"),
            ({"command": "x", "notify": "sometimes"}, "notify"),
            ({"command": "x", "hold": "yes"}, "hold"),
            ({"command": "x", "gpus": 0, "mem_mib": 100}, "mem_mib"),
            ({"command": "x", "comand": "typo"}, "comand"),
        ]
        before = self.count_tasks()
        for body, field in cases:
            status, err = self.api("POST", "/api/v1/tasks", body)
            self.assertEqual(status, 400, (body, err))
            self.assertEqual(err["field"], field, (body, err))
            self.assertTrue(err["error"], body)
        status, err = self.master.api("POST", "/api/v1/tasks", raw_body=b"{not json",
                                      token=self.alice)
        self.assertEqual(status, 400)
        self.assertEqual(self.count_tasks(), before)

    # --- edit, hold, cancel ---

    def test_edit_while_queued_and_refused_once_ended(self):
        task = self.submit({"command": "echo 1", "node": "node1", "time_limit_s": 60})
        status, edited = self.api("PATCH", "/api/v1/tasks/%d" % task["id"],
                                  {"gpus": 3, "command": "echo 'two'", "node": None,
                                   "time_limit_s": None})
        self.assertEqual(status, 200, edited)
        self.assertEqual((edited["gpus"], edited["command"]), (3, "echo 'two'"))
        self.assertIsNone(edited["node"])
        self.assertIsNone(edited["time_limit_s"])
        self.assertEqual(edited["status"], "queued")
        status, err = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"gpus": 99})
        self.assertEqual((status, err["field"]), (400, "gpus"))
        status, err = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"share": True})
        self.assertEqual((status, err["field"]), (400, "share"))
        status, err = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"status": "running"})
        self.assertEqual((status, err["field"]), (400, "status"))
        self.assertEqual(self.get(task["id"])["gpus"], 3)

        self.assertEqual(self.api("POST", "/api/v1/tasks/%d/cancel" % task["id"])[0], 200)
        status, err = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"gpus": 1})
        self.assertEqual(status, 409, err)
        self.assertIn("already ended (cancelled)", err["error"])
        status, err = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"hold": True})
        self.assertEqual(status, 409, err)
        self.assertEqual(self.get(task["id"])["gpus"], 3)

    def test_hold_and_release(self):
        task = self.submit({"command": "echo held", "hold": True})
        self.assertEqual(task["status"], "held")
        status, task = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"hold": False})
        self.assertEqual((status, task["status"]), (200, "queued"))
        status, task = self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"hold": True})
        self.assertEqual((status, task["status"]), (200, "held"))
        status, task = self.api("PATCH", "/api/v1/tasks/%d" % task["id"],
                                {"hold": False, "priority": 9})
        self.assertEqual((status, task["status"], task["priority"]), (200, "queued", 9))

    def test_cancel_of_a_queued_task_ends_it(self):
        task = self.submit({"command": "sleep 100"})
        status, cancelled = self.api("POST", "/api/v1/tasks/%d/cancel" % task["id"])
        self.assertEqual(status, 200, cancelled)
        self.assertEqual(cancelled["status"], "cancelled")
        self.assertTrue(cancelled["ended_at"])
        self.assertIsNone(cancelled["cancel_requested_at"])
        status, err = self.api("POST", "/api/v1/tasks/%d/cancel" % task["id"])
        self.assertEqual(status, 409)
        self.assertEqual(err["error"], "task %d already ended (cancelled)" % task["id"])
        self.assertEqual(self.api("POST", "/api/v1/tasks/999999/cancel")[0], 404)

    # --- who sees what ---

    def test_users_see_and_change_only_their_own_tasks(self):
        mine = self.submit({"command": "echo alice"})
        path = "/api/v1/tasks/%d" % mine["id"]
        for method, suffix, body in (("GET", "", None), ("PATCH", "", {"gpus": 2}),
                                     ("POST", "/cancel", {}), ("GET", "/runs", None)):
            status, err = self.api(method, path + suffix, body, token=self.bob)
            self.assertEqual(status, 404, (method, suffix, err))
        status, listed = self.api("GET", "/api/v1/tasks", token=self.bob)
        self.assertEqual(status, 200)
        self.assertNotIn(mine["id"], [t["id"] for t in listed])
        self.assertTrue(all(t["user"] == "bob" for t in listed))
        status, err = self.api("GET", "/api/v1/tasks?user=alice", token=self.bob)
        self.assertEqual(status, 403, err)
        self.assertEqual(self.get(mine["id"])["status"], "queued")  # bob's cancel did nothing
        r = self.cli("cancel", str(mine["id"]), token=self.bob)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not found", r.stderr)

        # An admin sees everyone's, and may filter by user.
        self.assertEqual(self.get(mine["id"], token=self.admin)["user"], "alice")
        status, listed = self.api("GET", "/api/v1/tasks?user=alice&limit=10000", token=self.admin)
        self.assertEqual(status, 200)
        self.assertIn(mine["id"], [t["id"] for t in listed])
        self.assertTrue(all(t["user"] == "alice" for t in listed))
        status, err = self.api("GET", "/api/v1/tasks?user=nobody", token=self.admin)
        self.assertEqual((status, err["field"]), (400, "user"))

    def test_list_filters(self):
        a = self.submit({"command": "echo a"})
        b = self.submit({"command": "echo b", "hold": True})
        c = self.submit({"command": "echo c"})
        self.api("POST", "/api/v1/tasks/%d/cancel" % c["id"])
        status, listed = self.api("GET", "/api/v1/tasks?status=held,cancelled")
        self.assertEqual(status, 200)
        ids = [t["id"] for t in listed]
        self.assertIn(b["id"], ids)
        self.assertIn(c["id"], ids)
        self.assertNotIn(a["id"], ids)
        self.assertEqual(ids, sorted(ids, reverse=True))  # newest first
        status, page = self.api("GET", "/api/v1/tasks?limit=2&before_id=%d" % c["id"])
        self.assertEqual([t["id"] for t in page], [b["id"], a["id"]])
        for query, field in (("status=runing", "status"), ("limit=0", "limit"),
                             ("limit=x", "limit"), ("before_id=-1", "before_id")):
            status, err = self.api("GET", "/api/v1/tasks?" + query)
            self.assertEqual((status, err["field"]), (400, field), query)

    # --- the CLI views ---

    def test_cli_queue_show_cancel_and_exit_codes(self):
        r = self.cli("submit", "--name", "viewme", "--gpus", "2", "--", "echo", "hi")
        self.assertEqual(r.returncode, 0, r.stderr)
        task_id = int(r.stdout.strip())

        r = self.cli("queue")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "USER", "NAME", "STATE", "TIME", "GPUS", "NODE",
                                            "REASON"])
        row = [l for l in lines if l.split()[0] == str(task_id)]
        self.assertEqual(len(row), 1, r.stdout)
        self.assertEqual(row[0].split()[:6], [str(task_id), "alice", "viewme", "queued", "-", "2"])
        r = self.cli("queue", "--json")
        self.assertIn(task_id, [t["id"] for t in json.loads(r.stdout)])

        r = self.cli("show", str(task_id))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('task %d "viewme" (queued)' % task_id, r.stdout)
        self.assertIn("command:      echo hi", r.stdout)
        self.assertIn("waiting:", r.stdout)
        self.assertIn("runs: none yet", r.stdout)
        r = self.cli("show", str(task_id), "--json")
        self.assertEqual(json.loads(r.stdout)["id"], task_id)

        r = self.cli("logs", str(task_id))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn("has no runs", r.stderr)

        r = self.cli("cancel", str(task_id), "999999")
        self.assertEqual(r.returncode, 1)
        self.assertIn("task %d: cancelled" % task_id, r.stdout)
        self.assertIn("task 999999 not found", r.stderr)
        self.assertEqual(self.get(task_id)["status"], "cancelled")
        r = self.cli("queue")
        self.assertNotIn("viewme", r.stdout)
        r = self.cli("queue", "--all")
        self.assertIn("viewme", r.stdout)

        # Exit codes: 1 refused, 2 usage, 3 unreachable.
        self.assertEqual(self.cli("show", "999999").returncode, 1)
        self.assertEqual(self.cli("submit", "--gpus", "65", "--", "x").returncode, 1)
        for args in (("show",), ("show", "abc"), ("submit",), ("submit", "--mem", "8Q", "--", "x"),
                     ("submit", "--time-limit", "soon", "--", "x"),
                     ("submit", "--env", "NOEQUALS", "--", "x"), ("cancel",), ("queue", "--bogus"),
                     ("submit", "--command-file", "/nonexistent/file"), ("import",)):
            r = self.cli(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
        r = self.master.cli("queue", env={"GPUQ_TOKEN": self.alice},
                            server="http://127.0.0.1:%d" % free_port())
        self.assertEqual(r.returncode, 3)
        self.assertIn("cannot reach the master", r.stderr)

    # --- runs and logs ---

    def test_runs_and_log_of_missing_things(self):
        task = self.submit({"command": "echo"})
        status, runs = self.api("GET", "/api/v1/tasks/%d/runs" % task["id"])
        self.assertEqual((status, runs), (200, []))
        status, err = self.api("GET", "/api/v1/runs/999999/log?offset=0")
        self.assertEqual(status, 404, err)
        self.assertEqual(err["error"], "run 999999 not found")
        self.assertEqual(self.api("GET", "/api/v1/tasks/999999/runs")[0], 404)

    def add_ended_run(self, task_id, attempt, exit_code, log_bytes):
        """Records an ended run of the task as the master's executor would (no node needed:
        the run is over), with its copied log in DATA/logs. Returns the run id."""
        db = sqlite3.connect(str(self.master.data / "gpuq.db"), timeout=10)
        try:
            status = "succeeded" if exit_code == 0 else "failed"
            cur = db.execute(
                "INSERT INTO runs (task_id, attempt, node_name, gpu_indices, pid, status,"
                " exit_code, created_at, started_at, ended_at) VALUES (?, ?, 'node1', '0,1',"
                " 4242, ?, ?, 1767225600000, 1767225600000, 1767225605000)",
                (task_id, attempt, status, exit_code))
            db.execute("UPDATE tasks SET status = ?, ended_at = 1767225605000 WHERE id = ?",
                       (status, task_id))
            db.commit()
            run_id = cur.lastrowid
        finally:
            db.close()
        if log_bytes is not None:
            (self.master.data / "logs" / ("%d.log" % run_id)).write_bytes(log_bytes)
        return run_id

    def get_log(self, run_id, offset=None, token=None):
        path = "/api/v1/runs/%d/log" % run_id + ("" if offset is None else "?offset=%d" % offset)
        req = urllib.request.Request(self.master.url + path)
        req.add_header("Authorization", "Bearer " + (token or self.alice))
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def test_run_log_by_offset_and_cli_logs(self):
        task = self.submit({"command": "python train.py", "name": "logged"})
        first = self.add_ended_run(task["id"], 1, 3, b"attempt one\n")
        big = b"".join(b"line %06d \xe4\xbd\xa0\xe5\xa5\xbd\n" % i for i in range(120000))
        self.assertGreater(len(big), 1 << 20)
        second = self.add_ended_run(task["id"], 2, 0, big)

        status, headers, body = self.get_log(second)
        self.assertEqual(status, 200)
        self.assertEqual(int(headers["X-Log-Size"]), len(big))
        self.assertEqual(headers["X-Run-Status"], "succeeded")
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        self.assertEqual(body, big[:1 << 20])  # at most 1 MiB per answer
        got, answers = body, 1
        while len(got) < len(big):
            status, headers, chunk = self.get_log(second, offset=len(got))
            self.assertEqual(status, 200)
            self.assertTrue(0 < len(chunk) <= 1 << 20)
            got += chunk
            answers += 1
        self.assertEqual(got, big)
        self.assertEqual(answers, (len(big) + (1 << 20) - 1) >> 20)
        status, headers, body = self.get_log(second, offset=len(big) + 10)
        self.assertEqual((status, body, int(headers["X-Log-Size"])), (200, b"", len(big)))
        status, _, body = self.get_log(second, offset=-1)
        self.assertEqual(status, 400)
        self.assertEqual(self.get_log(second, token=self.bob)[0], 404)
        self.assertEqual(self.get_log(second, token=self.admin)[0], 200)

        # A run whose log has not been copied yet: empty, size 0.
        other = self.submit({"command": "echo"})
        no_log = self.add_ended_run(other["id"], 1, 0, None)
        status, headers, body = self.get_log(no_log)
        self.assertEqual((status, body, headers["X-Log-Size"]), (200, b"", "0"))

        # The CLI: the latest run by default, --run N for another, --follow ends with the task.
        r = self.master.cli("logs", str(task["id"]), env={"GPUQ_TOKEN": self.alice})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.encode(), big)
        r = self.cli("logs", str(task["id"]), "--run", "1")
        self.assertEqual((r.returncode, r.stdout), (0, "attempt one\n"))
        r = self.cli("logs", str(task["id"]), "--run", "3")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no run with attempt 3", r.stderr)
        r = self.cli("logs", str(task["id"]), "--follow")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.encode(), big)

        # show and queue --all tell how the runs ended.
        r = self.cli("show", str(task["id"]))
        self.assertIn("(succeeded)", r.stdout)
        self.assertIn("exit 3", r.stdout)
        self.assertIn("node1  0,1   4242", r.stdout)
        r = self.cli("queue", "--all")
        row = [l for l in r.stdout.splitlines() if l.split()[0] == str(task["id"])][0]
        self.assertEqual(row.split(), [str(task["id"]), "alice", "logged", "succeeded", "5s", "1",
                                       "node1", "exit", "0"])
        status, runs = self.api("GET", "/api/v1/tasks/%d/runs" % task["id"])
        self.assertEqual([(r["id"], r["attempt"], r["status"], r["exit_code"], r["gpu_indices"])
                          for r in runs],
                         [(first, 1, "failed", 3, [0, 1]), (second, 2, "succeeded", 0, [0, 1])])
        self.assertEqual(runs[0]["started_at"], "2026-01-01T00:00:00.000Z")

        # An ended task can be neither edited nor cancelled.
        self.assertEqual(self.api("PATCH", "/api/v1/tasks/%d" % task["id"], {"gpus": 2})[0], 409)
        status, err = self.api("POST", "/api/v1/tasks/%d/cancel" % task["id"])
        self.assertEqual((status, err["error"]),
                         (409, "task %d already ended (succeeded)" % task["id"]))

    # --- import ---

    def test_import_of_1000_rows_is_one_quick_transaction(self):
        text, _ = make_csv(1000)
        path = self.master.tmp / "queue.csv"
        path.write_text(text)
        before = self.count_tasks()
        start = time.monotonic()
        r = self.cli("import", str(path))
        elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = [int(line) for line in r.stdout.split()]
        self.assertEqual(len(ids), 1000)
        self.assertEqual(ids, list(range(ids[0], ids[0] + 1000)))
        print("\n  gpuq import of 1000 CSV rows: %.3f s (CLI process, HTTP and one transaction)"
              % elapsed)
        self.assertLess(elapsed, 5.0)
        self.assertEqual(self.count_tasks(), before + 1000)
        self.assertIn("imported 1000 tasks", r.stderr)

        first = self.get(ids[0])
        self.assertEqual(first["command"],
                         "cd /data\npython train.py --seed 0 --name \"run 0\"\necho done")
        self.assertEqual((first["name"], first["workdir"], first["gpus"]),
                         ("job-0", "/data/job 0", 0))
        self.assertEqual((first["status"], first["notify"]), ("held", "end"))  # No / Yes
        other = self.get(ids[1])
        self.assertEqual((other["command"], other["gpus"], other["status"], other["notify"]),
                         ("python eval.py --seed 1", 1, "queued", "off"))

        # The API answers with the created tasks.
        small, _ = make_csv(3)
        status, created = self.post_csv(small)
        self.assertEqual(status, 201, created)
        self.assertEqual([t["name"] for t in created], ["job-0", "job-1", "job-2"])

    def test_import_with_a_bad_row_creates_nothing_and_names_its_line(self):
        text, starts = make_csv(1000, bad_row=499)  # the 500th task
        bad_line = starts[499]
        self.assertGreater(bad_line, 501)  # multi-line commands before it push it down
        path = self.master.tmp / "bad.csv"
        path.write_text(text)
        before = self.count_tasks()
        r = self.cli("import", str(path))
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("line %d: n_gpus: must be a whole number from 0 to 64" % bad_line, r.stderr)
        self.assertEqual(r.stdout, "")
        status, err = self.post_csv(text)
        self.assertEqual(status, 400)
        self.assertEqual((err["field"], err["line"]), ("n_gpus", bad_line))
        self.assertTrue(err["error"].startswith("line %d: n_gpus: " % bad_line), err)
        self.assertEqual(self.count_tasks(), before)

        for bad, field, line in (("command,n_gpus\nx,1\n\"open,1\n", "", 3),
                                 ("nothing,like,a,header\n", "", 1),
                                 (CSV_HEADER + "1,a,,,1,Yes,No,,,,\n", "command", 2)):
            status, err = self.post_csv(bad)
            self.assertEqual(status, 400, err)
            self.assertEqual(err["line"], line, err)
            self.assertEqual(err.get("field", ""), field, err)
        status, err = self.post_csv(CSV_HEADER)
        self.assertEqual(status, 400, err)
        self.assertEqual(self.count_tasks(), before)


if __name__ == "__main__":
    unittest.main()
