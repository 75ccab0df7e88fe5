#!/usr/bin/env python3
"""Master CPU per polled node: starts N simulated nodes (real sshd) and a master, registers
them, lets it sample every node once a second for S seconds, and reports the master's own CPU
time (user + system, from /proc/PID/stat) per node, plus how old each node's latest sample was
at each look (p50/p99). Node-side CPU (the simulated nvidia-smi) is not the master's and is
not counted.

    bench/poll_cost.py [--nodes 10] [--seconds 30]     (needs build/master/gpuq)
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from harness import SimCluster  # noqa: E402
from master_harness import Master, wait_for  # noqa: E402


def cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def rss_mib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--gpus", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    with SimCluster(args.nodes, gpus=args.gpus, first_ip="127.0.3.11") as cluster, \
            Master(probe_interval_ms=1000) as master:
        token = master.login()
        master.put_credential(token, cluster.key)
        for node in cluster.nodes:
            master.add_node(token, node)
        wait_for(lambda: all(n["available"] for n in master.nodes_by_name(token).values()),
                 timeout=60, message="all nodes available")
        time.sleep(2)  # past the first connects
        pid = master.proc.pid
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        ages = []
        while time.monotonic() - t0 < args.seconds:
            now = time.time()
            for n in master.nodes_by_name(token).values():
                sampled = datetime.strptime(n["last_sample_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
                ages.append(now - (sampled - datetime(1970, 1, 1)).total_seconds())
            time.sleep(0.5)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        # The polling loop above also costs the master a little (one API call per 0.5 s).
        elapsed = t1 - t0
        figures = {
            "nodes": args.nodes,
            "gpus_per_node": args.gpus,
            "seconds": round(elapsed, 1),
            "master_cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / elapsed, 2),
            "master_cpu_ms_per_node_per_second": round(1000 * (cpu1 - cpu0) / elapsed / args.nodes, 3),
            "sample_age_p50_s": round(percentile(ages, 50), 3),
            "sample_age_p99_s": round(percentile(ages, 99), 3),
            "master_rss_mib": round(rss_mib(pid), 1),
        }
        print(json.dumps(figures, indent=2))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
