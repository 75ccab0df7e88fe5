"""The issue 6 workloads run through Slurm's sbatch on a one-node, 8-GPU cluster
(slurm_cluster.py), in its default settings and tuned (batch_sched_delay=0, job arrays for
the many-job rows). Same measuring rule as gpuq: every time comes from a stamp the job
writes itself. Each function returns a dict of raw figures."""

import shutil
import tempfile
import time
from pathlib import Path

from figures import read_stamps, summary_ms
from slurm_cluster import GPUS, SlurmCluster


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.01)


def _stamp_files(marks, count):
    """At least `count` stamp files with their stamp written (a job may have created its
    file and not yet written to it)."""
    return sum(1 for f in marks.iterdir() if f.stat().st_size > 0) >= count


def run_all(tuned, rounds, handovers, makespan_tasks, sleep_s, jobs):
    """Every Slurm row for one setting; returns {figure: value}."""
    marks = Path(tempfile.mkdtemp(prefix="gpuq-bench-slurm-marks-"))
    out = {"tuned": tuned}
    try:
        with SlurmCluster(tuned=tuned) as slurm:
            out["slurmctld_idle_rss_mib"] = round(slurm.ctld_rss_mib(), 1)

            # submit -> first line, one job at a time on the idle node.
            first = []
            for i in range(rounds):
                f = marks / ("first-%d" % i)
                t0 = time.time()
                slurm.sbatch("--gres=gpu:1", "--wrap", "date +%%s.%%N > %s" % f)
                _wait(lambda: f.exists() and f.stat().st_size > 0, 60, "job %d" % i)
                first.append((read_stamps(f)[0] - t0) * 1000)
                _wait(slurm.queue_empty, 60, "the queue to drain")
            out["submit_to_first_line"] = summary_ms(first)

            # exit -> next start: whole-node jobs run one after another on the same GPUs.
            d = marks / "handover"
            d.mkdir()
            for i in range(handovers + 1):
                slurm.sbatch("--gres=gpu:%d" % GPUS, "--wrap",
                             "date +%%s.%%N > %s/start-%d; sleep 0.2; date +%%s.%%N > %s/end-%d"
                             % (d, i, d, i))
            _wait(lambda: _stamp_files(d, 2 * (handovers + 1)) and slurm.queue_empty(),
                  60 + 10 * handovers, "the handover jobs")
            out["exit_to_next_start"] = summary_ms(
                [(read_stamps(d / ("start-%d" % (i + 1)))[0] - read_stamps(d / ("end-%d" % i))[0])
                 * 1000 for i in range(handovers)])

            # makespan of sleep jobs on the 8 GPUs.
            d = marks / "makespan"
            d.mkdir()
            t0 = time.time()
            if tuned:
                slurm.sbatch("--gres=gpu:1", "--array=0-%d" % (makespan_tasks - 1), "--wrap",
                             "sleep %s; date +%%s.%%N > %s/end-$SLURM_ARRAY_TASK_ID" % (sleep_s, d))
            else:
                for i in range(makespan_tasks):
                    slurm.sbatch("--gres=gpu:1", "--wrap",
                                 "sleep %s; date +%%s.%%N > %s/end-%d" % (sleep_s, d, i))
            _wait(lambda: _stamp_files(d, makespan_tasks) and slurm.queue_empty(),
                  120 + 10 * makespan_tasks, "the sleep jobs")
            ends = [read_stamps(f)[0] for f in d.iterdir()]
            out["makespan"] = {"tasks": makespan_tasks, "sleep_s": sleep_s,
                               "ideal_s": -(-makespan_tasks // GPUS) * sleep_s,
                               "makespan_s": round(max(ends) - t0, 3)}

            # many one-GPU jobs that only stamp the time.
            d = marks / "throughput"
            d.mkdir()
            t0 = time.time()
            if tuned:
                slurm.sbatch("--gres=gpu:1", "--array=0-%d" % (jobs - 1), "--wrap",
                             "date +%%s.%%N >> %s/$SLURM_ARRAY_TASK_ID" % d)
            else:
                for i in range(jobs):
                    slurm.sbatch("--gres=gpu:1", "--wrap", "date +%%s.%%N >> %s/%d" % (d, i))
            submit_s = time.time() - t0
            _wait(lambda: _stamp_files(d, jobs) and slurm.queue_empty(), 120 + jobs,
                  "the throughput jobs")
            stamps = {f.name: read_stamps(f) for f in d.iterdir()}
            last = max(s[0] for s in stamps.values())
            out["throughput"] = {
                "jobs": jobs, "submit_s": round(submit_s, 3), "seconds": round(last - t0, 3),
                "jobs_per_s": round(jobs / (last - t0), 2),
                "not_exactly_once": sum(1 for s in stamps.values() if len(s) != 1) +
                (jobs - len(stamps))}
            if not tuned:
                out["sbatch_s_per_10000"] = round(submit_s * 10000 / jobs, 1)
            out["slurmctld_rss_after_mib"] = round(slurm.ctld_rss_mib(), 1)
    finally:
        shutil.rmtree(marks, ignore_errors=True)
    return out
