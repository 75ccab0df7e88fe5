#!/usr/bin/env python3
"""Scheduling latencies measured from timestamps the tasks write themselves:
  - submit -> the command's first line runs, on an idle node (warm SSH link);
  - a run exits -> the next queued task starts on the freed GPU (one node, one GPU, a queue).
Prints medians and p99 in ms.     bench/latency.py [--rounds 30]   (needs build/master/gpuq)
--silent-notify: every task end also e-mails its owner and posts to a webhook, both to a server
that accepts connections and never answers (each delivery hangs for its 20 s timeout), to show
that notifications never delay scheduling.
"""

import argparse
import json
import socket
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from harness import SimCluster  # noqa: E402
from master_harness import Master, wait_for  # noqa: E402


def stats(values):
    values = sorted(values)
    return {"median_ms": round(values[len(values) // 2], 1),
            "p99_ms": round(values[min(len(values) - 1, len(values) * 99 // 100)], 1),
            "n": len(values)}


def epoch(rfc3339):
    return datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--silent-notify", action="store_true")
    args = ap.parse_args()
    marks = Path(tempfile.mkdtemp(prefix="gpuq-latency-"))
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(128)
    silent_port = silent.getsockname()[1]
    extra = ["--smtp-host", "127.0.0.1", "--smtp-port", str(silent_port),
             "--smtp-from", "gpuq@bench.test"] if args.silent_notify else []
    with SimCluster(1, gpus=1, first_ip="127.0.4.11") as cluster, \
            Master(extra_args=extra) as master:
        token = master.login()
        master.put_credential(token, cluster.key)
        master.add_node(token, cluster.nodes[0])
        wait_for(lambda: master.nodes_by_name(token)["node1"]["available"], timeout=15)
        if args.silent_notify:
            master.api("PUT", "/api/v1/me/notifications",
                       {"email": "admin@bench.test", "notify_default": "end"}, token=token)
            master.api("POST", "/api/v1/notify/targets", {
                "address": "http://127.0.0.1:%d/hook" % silent_port,
                "events": ["run_started", "run_ended"]}, token=token)

        def submit(command):
            t0 = time.time()
            status, task = master.api("POST", "/api/v1/tasks", {"command": command, "gpus": 1},
                                      token=token)
            assert status == 201, task
            return task, t0

        def wait_ended(task_id):
            wait_for(lambda: master.api("GET", "/api/v1/tasks/%d" % task_id, token=token)[1]
                     ["status"] in ("succeeded", "failed"), timeout=30)

        # Warm the account's link, then time submissions one at a time on the idle node.
        task, _ = submit("true")
        wait_ended(task["id"])
        first_line = []
        for i in range(args.rounds):
            f = marks / ("first-%d" % i)
            task, t0 = submit("date +%%s.%%N > %s" % f)
            wait_ended(task["id"])
            first_line.append((float(f.read_text()) - t0) * 1000)

        # A queue on one GPU: each task stamps its start and, last thing, its end.
        ids = []
        for i in range(args.rounds + 1):
            task, _ = submit("date +%%s.%%N > %s/start-%d; sleep 0.2; date +%%s.%%N > %s/end-%d"
                             % (marks, i, marks, i))
            ids.append(task["id"])
        for task_id in ids:
            wait_ended(task_id)
        handover = [(float((marks / ("start-%d" % (i + 1))).read_text()) -
                     float((marks / ("end-%d" % i)).read_text())) * 1000
                    for i in range(args.rounds)]
        pending = len(master.api("GET", "/api/v1/notifications?status=pending&limit=1000",
                                 token=token)[1])
    silent.close()
    print(json.dumps({"submit_to_first_line": stats(first_line),
                      "exit_to_next_start_on_freed_gpu": stats(handover),
                      "notifications_pending_at_end": pending}, indent=2))


if __name__ == "__main__":
    main()
