"""Issue 7, the live CSV queue file on a simulated node: rows added, edited and removed while
the master runs take effect within two seconds; status, GPUs and times are written back; a
person's edits made while gpuq writes back all survive; a truncated or empty file changes
nothing."""

import csv
import io
import os
import tempfile
import time
import unittest
from pathlib import Path

from cluster_case import ClusterTestCase
from master_harness import wait_for

HEADER = ["task_id", "task_name", "command", "work_dir", "n_gpus", "execution", "notify",
          "status", "allocated_gpus", "start_time", "end_time"]
EFFECT_S = 2.0  # the bound for a row's change to take effect


class QueueFileTest(ClusterTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="gpuq-queue-file-"))
        cls.path = cls.tmp / "tasks.csv"
        cls.path.write_text(",".join(HEADER) + "\n")  # no rows yet: ignored, never "empty"
        cls.MASTER = {"extra_args": ["--queue-file", str(cls.path), "--kill-grace-ms", "1000"]}
        super().setUpClass()

    # --- helpers ---

    def read(self):
        text = self.path.read_text()
        rows = list(csv.DictReader(io.StringIO(text)))
        return rows

    def write(self, rows, replace=True):
        """Saves rows as a person would: a whole new file renamed over it (most editors), or
        written in place."""
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=HEADER, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({k: row.get(k, "") for k in HEADER})
        if replace:
            tmp = self.path.with_name(".edit.tmp")
            tmp.write_text(out.getvalue())
            os.replace(tmp, self.path)
        else:
            with open(self.path, "w") as f:
                f.write(out.getvalue())

    def edit(self, change, replace=True):
        rows = self.read()
        rows = change(rows)
        self.write(rows, replace=replace)

    def row(self, name):
        for r in self.read():
            if r["task_name"] == name:
                return r
        return None

    def task(self, task_id):
        return super().task(int(task_id))  # ids read back from the file are text

    def tasks_named(self, name):
        status, tasks = self.master.api("GET", "/api/v1/tasks?limit=10000", token=self.token)
        self.assertEqual(status, 200, tasks)
        return [t for t in tasks if t["name"] == name]

    def row_task_id(self, name, timeout=EFFECT_S):
        return int(wait_for(lambda: (self.row(name) or {}).get("task_id") or None,
                            timeout=timeout, interval=0.05,
                            message="task_id written back for row %s" % name))

    @staticmethod
    def new_row(name, command="sleep 30", execution="No", n_gpus="1"):
        return {"task_name": name, "command": command, "n_gpus": n_gpus,
                "execution": execution, "notify": "No"}

    # --- tests ---

    def test_added_edited_removed_rows_take_effect_within_two_seconds(self):
        started = time.monotonic()
        self.edit(lambda rows: rows + [self.new_row("a-held"), self.new_row("a-gone")])
        # Within two seconds the tasks exist (held) and their ids are in the file.
        held = wait_for(lambda: self.tasks_named("a-held") or None, timeout=EFFECT_S,
                        interval=0.05, message="row a-held submitted")
        self.assertLess(time.monotonic() - started, EFFECT_S)
        self.assertEqual(len(held), 1)
        self.assertEqual(held[0]["status"], "held")
        held_id = self.row_task_id("a-held")
        self.assertEqual(held_id, held[0]["id"])
        gone_id = self.row_task_id("a-gone")
        self.assertEqual(self.row("a-held")["status"], "held")

        # An edit of a held task's row updates the task.
        started = time.monotonic()
        self.edit(lambda rows: [dict(r, command="echo edited $GPUQ_GPU") if r["task_name"] == "a-held"
                                else r for r in rows])
        wait_for(lambda: self.task(held_id)["command"] == "echo edited $GPUQ_GPU", timeout=EFFECT_S,
                 interval=0.05, message="edit applied")
        self.assertLess(time.monotonic() - started, EFFECT_S)

        # A removed row cancels its task, which had not started.
        started = time.monotonic()
        self.edit(lambda rows: [r for r in rows if r["task_name"] != "a-gone"], replace=False)
        wait_for(lambda: self.task(gone_id)["status"] == "cancelled", timeout=EFFECT_S,
                 interval=0.05, message="removed row cancels")
        self.assertLess(time.monotonic() - started, EFFECT_S)

        # execution=Yes releases it: it runs, and its row shows how it went.
        self.edit(lambda rows: [dict(r, execution="Yes") if r["task_name"] == "a-held" else r
                                for r in rows])
        wait_for(lambda: (self.row("a-held") or {}).get("status") == "succeeded", timeout=20,
                 message="status succeeded written back")
        row = self.row("a-held")
        task = self.task(held_id)
        run = task["runs"][-1]
        self.assertEqual(row["allocated_gpus"],
                         "%s:%s" % (run["node"], ",".join(map(str, run["gpu_indices"]))))
        self.assertEqual(row["start_time"], run["started_at"])
        self.assertEqual(row["end_time"], task["ended_at"])
        self.assertEqual(row["command"], "echo edited $GPUQ_GPU")
        self.assertIsNone(self.row("a-gone"))

    def test_truncated_or_empty_file_changes_nothing(self):
        self.edit(lambda rows: rows + [self.new_row("t-%d" % i) for i in range(4)])
        ids = [self.row_task_id("t-%d" % i) for i in range(4)]
        full = self.path.read_text()
        before = {i: self.task(i)["status"] for i in ids}
        self.assertEqual(set(before.values()), {"held"})
        for broken in (full[: full.index("t-2") + 5],  # cut inside a row
                       full[: full.index("t-1")],      # cut in the middle of a line
                       "",                              # emptied
                       ",".join(HEADER) + "\n"):        # only the header left
            with open(self.path, "w") as f:
                f.write(broken)
            time.sleep(1.5)
            self.assertEqual({i: self.task(i)["status"] for i in ids}, before, repr(broken[-40:]))
            self.assertEqual(self.path.read_text(), broken, "gpuq must not write over it")
        with open(self.path, "w") as f:
            f.write(full)
        time.sleep(1.0)
        self.assertEqual({i: self.task(i)["status"] for i in ids}, before)
        for i in range(4):
            self.assertEqual(len(self.tasks_named("t-%d" % i)), 1, "no row submitted twice")

    def test_edits_made_while_gpuq_writes_back_survive(self):
        # Rows are added one by one, each save based on the file as just read, while gpuq
        # keeps writing ids and states back into the same file.
        names = ["w-%02d" % i for i in range(40)]
        for i, name in enumerate(names):
            runs = "Yes" if i % 4 == 0 else "No"  # some run, so states change meanwhile
            self.edit(lambda rows, n=name, e=runs: rows + [self.new_row(n, command="true",
                                                                         execution=e, n_gpus="0")],
                      replace=i % 2 == 0)
            time.sleep(0.07)
        def settled():
            rows = {r["task_name"]: r for r in self.read()}
            return all(rows.get(n, {}).get("task_id") for n in names)
        wait_for(settled, timeout=10, message="every added row has its task id")
        rows = {r["task_name"]: r for r in self.read()}
        for name in names:
            self.assertIn(name, rows, "a row added during a write-back was lost")
            tasks = self.tasks_named(name)
            self.assertEqual(len(tasks), 1, "row %s submitted %d times" % (name, len(tasks)))
            self.assertEqual(int(rows[name]["task_id"]), tasks[0]["id"])
        wait_for(lambda: all((lambda r: r["status"] == "succeeded")(
                     {x["task_name"]: x for x in self.read()}[n]) for n in names[::4]),
                 timeout=20, message="released rows ran and their status came back")


if __name__ == "__main__":
    unittest.main()
