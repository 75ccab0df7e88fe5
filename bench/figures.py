"""Small helpers shared by the benchmark drivers: percentiles, process CPU and memory from
/proc, timestamps the tasks write, and the rows of the results table."""

import os
import time
from pathlib import Path


def percentile(values, p):
    """The p-th percentile (nearest rank, p in 0..100) of a non-empty list."""
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def summary_ms(values_ms):
    return {"n": len(values_ms), "p50_ms": round(percentile(values_ms, 50), 2),
            "p99_ms": round(percentile(values_ms, 99), 2),
            "max_ms": round(max(values_ms), 2)}


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far."""
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def read_stamps(path):
    """Float epoch seconds, one per line, as `date +%s.%N` or bash's $EPOCHREALTIME write them."""
    return [float(line) for line in Path(path).read_text().split()]


def load_average():
    return os.getloadavg()[0]


class Timer:
    def __enter__(self):
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.start
        return False


def row(workload, figure, target, ok, raw=None, note="", key=None):
    """One line of the table. ok: True (pass), False (FAIL) or None (skipped / no target).
    key names the figure Slurm is compared on (bench.py, COMPARE)."""
    return {"workload": workload, "figure": figure, "target": target,
            "result": "pass" if ok is True else "FAIL" if ok is False else "-",
            "note": note, "raw": raw or {}, "key": key}
