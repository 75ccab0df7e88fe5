#!/usr/bin/env python3
"""The live CSV queue file, measured:
  - a row appended to the file -> its task exists (API) and its task_id is in the file;
  - master CPU per second while it watches a file of --rows rows and nothing changes.
Prints medians and p99 in ms.    bench/queue_file.py [--rounds 20] [--rows 1000]
(needs build/master/gpuq; no node is needed: the rows are held)
"""

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from master_harness import Master, wait_for  # noqa: E402

HEADER = "task_id,task_name,command,work_dir,n_gpus,execution,notify,status,allocated_gpus,start_time,end_time\n"


def stats(values):
    values = sorted(values)
    return {"median_ms": round(values[len(values) // 2], 1),
            "p99_ms": round(values[min(len(values) - 1, len(values) * 99 // 100)], 1),
            "n": len(values)}


def cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--rows", type=int, default=1000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gpuq-bench-queue-"))
    path = tmp / "tasks.csv"
    path.write_text(HEADER + "".join(",bulk-%d,true,,1,No,No,,,,\n" % i for i in range(args.rows)))
    with Master(extra_args=["--queue-file", str(path)]) as master:
        token = master.login()
        wait_for(lambda: all(r["task_id"] for r in csv.DictReader(io.StringIO(path.read_text()))),
                 timeout=60, message="bulk rows submitted")
        time.sleep(2)
        c0, t0 = cpu_seconds(master.proc.pid), time.monotonic()
        time.sleep(10)
        idle_ms_per_s = (cpu_seconds(master.proc.pid) - c0) * 1000 / (time.monotonic() - t0)

        to_task, to_file = [], []
        for i in range(args.rounds):
            name = "timed-%d" % i
            with open(path, "a") as f:
                start = time.monotonic()
                f.write(",%s,true,,1,No,No,,,,\n" % name)

            def in_api():
                status, tasks = master.api("GET", "/api/v1/tasks?status=held&limit=5", token=token)
                return any(t["name"] == name for t in tasks)
            wait_for(in_api, timeout=10, interval=0.01)
            to_task.append((time.monotonic() - start) * 1000)
            wait_for(lambda: ("," + name + ",") in path.read_text() and any(
                r["task_name"] == name and r["task_id"]
                for r in csv.DictReader(io.StringIO(path.read_text()))), timeout=10, interval=0.01)
            to_file.append((time.monotonic() - start) * 1000)
            time.sleep(0.3)
    print(json.dumps({"row_added_to_task_exists": stats(to_task),
                      "row_added_to_id_in_file": stats(to_file),
                      "idle_master_cpu_ms_per_s_with_rows": round(idle_ms_per_s, 2),
                      "rows": args.rows}, indent=2))


if __name__ == "__main__":
    main()
