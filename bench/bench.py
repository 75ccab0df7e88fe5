#!/usr/bin/env python3
"""gpuq's benchmark harness (issue 6): runs each workload, prints one table (workload,
figure, target, pass/FAIL, and with --vs-slurm Slurm's figure and the ratio in its default
and tuned settings) and writes every raw figure to bench/out/bench-<time>.json (and
bench/out/latest.json). Run it through bench/run.sh, which builds what it needs first.

    bench/run.sh [--quick] [--vs-slurm] [--only NAME,...]
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from figures import load_average, row  # noqa: E402

# Sizes: (quick, full). Quick runs in under 2 minutes and scales some workloads down; the
# table says so, and the full run is the one the targets are about.
SIZES = {
    "latency_rounds": (20, 100), "handovers": (10, 50),
    "makespan_tasks": (40, 40), "sleep_s": (2, 2),
    "throughput_tasks": (300, 1000),
    "poll_nodes": (10, 100), "poll_seconds": (10, 60),
    "api_tasks": (2000, 10000), "list_rounds": (10, 30),
    "slurm_rounds": (5, 20), "slurm_handovers": (3, 10), "slurm_jobs": (40, 200),
}
# The simulated nodes' folders (homes, run files) go to memory when the machine has /dev/shm:
# this development VM's root file system is ext4 without a journal, where creating a file
# soon after many deletions costs about 1 ms in the kernel (its recently_deleted scan; 15 % of
# all samples in the throughput run), a cost of the VM that a node's own disk does not have.
# The master's data folder stays on disk.
if Path("/dev/shm").is_dir():
    os.environ.setdefault("GPUQ_SIM_DIR", "/dev/shm")

WORKLOADS = ["micro", "latency", "makespan", "throughput", "polling", "api", "dashboard"]


def build_dir():
    return Path(os.environ.get("GPUQ_BUILD_DIR") or HERE.parent / "build")


def run_google_benchmark(name, quick):
    exe = build_dir() / "bench" / name
    args = [str(exe), "--benchmark_format=json", "--benchmark_repetitions=%d" % (3 if quick else 5),
            "--benchmark_report_aggregates_only=true",
            "--benchmark_min_time=%s" % ("0.05" if quick else "0.2")]
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         check=True, timeout=300).stdout
    # CPU time is the figure: on a machine busy with other work, wall time also counts the
    # time the benchmark waited for a core.
    medians = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
            medians[b["run_name"]] = {"median_cpu_ms": round(b["cpu_time"] * scale, 4),
                                      "median_real_ms": round(b["real_time"] * scale, 4),
                                      **{k: b[k] for k in ("placed",) if k in b}}
    return medians


def micro_rows(quick, raw):
    policy = run_google_benchmark("policy_bench", quick)
    parse = run_google_benchmark("parse_bench", quick)
    raw["micro"] = {"policy": policy, "parse": parse}
    rows = []
    for case, what in (("Busy", "all 800 GPUs held"), ("Mixed", "half held, mixed queue"),
                       ("Idle", "idle cluster, 800 placements")):
        ms = policy["BM_SchedulePass_" + case]["median_cpu_ms"]
        rows.append(row("policy pass, 10 000 tasks x 100 nodes x 8 GPUs (%s)" % what,
                        "%.2f ms CPU" % ms, "< 5 ms", ms < 5, policy["BM_SchedulePass_" + case]))
    digest = parse["BM_DigestProbe_8xH100"]["median_cpu_ms"] * 1000
    rows.append(row("parse one probe of 8 GPUs (nvidia-smi x2 + ps)", "%.1f us" % digest, "-",
                    None, parse["BM_DigestProbe_8xH100"]))
    return rows


def latency_rows(size, raw):
    import gpuq_workloads as w
    r = w.latency(size["latency_rounds"], size["handovers"])
    raw["latency"] = r
    s, h = r["submit_to_first_line"], r["exit_to_next_start"]
    return [
        row("submit -> first line runs, idle node",
            "p50 %.1f ms, p99 %.1f ms" % (s["p50_ms"], s["p99_ms"]),
            "p50 <= 30 ms, p99 <= 100 ms", s["p50_ms"] <= 30 and s["p99_ms"] <= 100, s,
            key="submit_to_first_line"),
        row("run exits -> next queued task starts on its GPU", "p50 %.1f ms" % h["p50_ms"],
            "p50 <= 50 ms", h["p50_ms"] <= 50, h, key="exit_to_next_start"),
    ]


def makespan_rows(size, raw):
    import gpuq_workloads as w
    r = w.makespan(size["makespan_tasks"], size["sleep_s"])
    raw["makespan"] = r
    limit = r["ideal_s"] * 1.03
    h = r["handover_on_a_gpu"] or {}
    note = ("first start %.0f ms (a first task, opening the account's link: %.0f ms), "
            "handover on a GPU p50 %.0f ms, max %.0f ms") % (
        1000 * r["first_start_after_s"], 1000 * r["first_task_cold_s"], h.get("p50_ms", 0),
        h.get("max_ms", 0))
    return [row("%d x sleep %s on 8 GPUs (ideal %d s)" % (r["tasks"], r["sleep_s"], r["ideal_s"]),
                "%.2f s" % r["makespan_s"], "<= %.1f s" % limit, r["makespan_s"] <= limit, r,
                note=note, key="makespan")]


def throughput_rows(size, raw):
    import gpuq_workloads as w
    r = w.throughput(size["throughput_tasks"])
    raw["throughput"] = r
    ok = r["tasks_per_s"] >= 200 and r["not_exactly_once"] == 0
    # The simulated nodes share this machine's cores with the master: their shell work per
    # task (sshd, the remote side's sh, the task's bash -l) is what runs out first here.
    note = "master %.1f ms CPU per task" % r["master_cpu_ms_per_task"]
    return [row("%d one-GPU true tasks on 8 nodes x 8 GPUs" % r["tasks"],
                "%.0f tasks/s, %d not exactly once" % (r["tasks_per_s"], r["not_exactly_once"]),
                ">= 200 tasks/s, each once", ok, r, note=note, key="throughput")]


def polling_rows(size, raw):
    import gpuq_workloads as w
    r = w.polling(size["poll_nodes"], size["poll_seconds"])
    raw["polling"] = r
    scaled = r["nodes"] < 100
    cpu = r["master_cpu_pct_at_100_nodes"]
    figure = "%.1f%% of a core" % r["master_cpu_pct_of_one_core"]
    if scaled:
        figure += " (%.1f%% scaled to 100 nodes)" % cpu
    ages = "age p99 %.2f s, %.2f s with a hung node" % (r["sample_age_p99_s"],
                                                         r["sample_age_p99_with_hung_node_s"])
    return [
        row("%d nodes x 8 GPUs sampled every second, %d s: master CPU" % (r["nodes"], r["seconds"]),
            figure, "<= 10% of one core", cpu <= 10, r),
        row("same: sample age, one node hung half-way", ages, "p99 <= 2 s, hung node no change",
            r["sample_age_p99_s"] <= 2 and r["sample_age_p99_with_hung_node_s"] <= 2, r),
    ]


def api_rows(size, raw):
    import gpuq_workloads as w
    r = w.api_load(size["api_tasks"], size["list_rounds"])
    raw["api"] = r
    n = r["tasks"]
    page, whole = r["list_default_page"], r["list_all"]
    rows = [
        row("master memory, idle", "%.1f MB" % r["idle_rss_mib"], "<= 20 MB",
            r["idle_rss_mib"] <= 20, r, key="idle_rss"),
        row("master memory after %d tasks" % n, "%.1f MB" % r["rss_after_tasks_mib"], "<= 60 MB",
            r["rss_after_tasks_mib"] <= 60, r, key="rss_after"),
        row("%d submissions through the API (%d clients)" % (n, r["clients"]),
            "%.2f s (%.1f s per 10 000), %d errors" % (r["submit_s"], r["submit_s_per_10000"],
                                                       r["errors"]),
            "<= 10 s per 10 000", r["submit_s_per_10000"] <= 10 and r["errors"] == 0, r,
            key="submissions"),
        row("GET /api/v1/tasks with %d tasks (default page)" % n,
            "p50 %.1f ms, p99 %.1f ms" % (page["p50_ms"], page["p99_ms"]),
            "p50 <= 20 ms, p99 <= 50 ms", page["p50_ms"] <= 20 and page["p99_ms"] <= 50, page),
        # Not a target (the list answers 1000 tasks unless asked for more): what the
        # largest page costs.
        row("GET /api/v1/tasks?limit=10000 (all %d)" % n,
            "p50 %.1f ms, p99 %.1f ms" % (whole["p50_ms"], whole["p99_ms"]), "-", None, whole),
    ]
    return rows


def dashboard_rows(size, raw):
    import gpuq_workloads as w
    r = w.dashboard(rounds=size["list_rounds"])
    raw["dashboard"] = r
    d = r["dashboard"]
    return [row("dashboard /admin, %d tasks (%d ended), %d nodes x %d GPUs live"
                % (r["tasks"], r["ended"], r["nodes"], r["gpus_per_node"]),
                "p50 %.1f ms, p99 %.1f ms" % (d["p50_ms"], d["p99_ms"]),
                "p50 <= 20 ms, p99 <= 50 ms", d["p50_ms"] <= 20 and d["p99_ms"] <= 50, d)]


RUNNERS = {"latency": latency_rows, "makespan": makespan_rows, "throughput": throughput_rows,
           "polling": polling_rows, "api": api_rows,
           "dashboard": dashboard_rows}

# How a gpuq row compares with Slurm's figures: (Slurm's value, gpuq's value, unit, higher
# is better) from the raw figures of each.
COMPARE = {
    "submit_to_first_line": lambda s, g: (s["submit_to_first_line"]["p50_ms"],
                                          g["latency"]["submit_to_first_line"]["p50_ms"],
                                          "ms p50", False),
    "exit_to_next_start": lambda s, g: (s["exit_to_next_start"]["p50_ms"],
                                        g["latency"]["exit_to_next_start"]["p50_ms"],
                                        "ms p50", False),
    "makespan": lambda s, g: (s["makespan"]["makespan_s"], g["makespan"]["makespan_s"], "s", False),
    "throughput": lambda s, g: (s["throughput"]["jobs_per_s"], g["throughput"]["tasks_per_s"],
                                "/s", True),
    "idle_rss": lambda s, g: (s["slurmctld_idle_rss_mib"], g["api"]["idle_rss_mib"], "MB", False),
    # sbatch one job at a time (default setting only), extrapolated to 10 000.
    "submissions": lambda s, g: (s.get("sbatch_s_per_10000"), g["api"]["submit_s_per_10000"],
                                 "s/10k", False),
}


def compare_cell(key, slurm, raw):
    if key not in COMPARE or slurm is None or "error" in slurm:
        return ""
    try:
        theirs, ours, unit, higher_better = COMPARE[key](slurm, raw)
    except (KeyError, TypeError):
        return ""
    if theirs is None or ours in (None, 0) or theirs == 0:
        return ""
    ratio = ours / theirs if higher_better else theirs / ours
    return "%g %s (x%.1f)" % (theirs, unit, ratio)


def print_table(rows, slurm):
    cols = ["workload", "figure", "target", "result"]
    headers = ["workload", "gpuq", "target", "result"]
    extra = []
    if slurm:
        for name in ("default", "tuned"):
            if name in slurm:
                extra.append(name)
                headers.append("Slurm %s (gpuq x better)" % name)
    table = []
    for r in rows:
        line = [r[c] + (" [%s]" % r["note"] if c == "figure" and r["note"] else "") for c in cols]
        for name in extra:
            line.append(compare_cell(r.get("key"), slurm[name], RAW))
        table.append(line)
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for t in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(t, widths)) + " |")


RAW = {}


def main():
    # A TERM (a timeout, a closed terminal) unwinds like Ctrl-C, so every cluster, master and
    # Slurm daemon started so far is stopped by the `with` blocks that own it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, under 2 minutes")
    ap.add_argument("--vs-slurm", action="store_true", help="also run the workloads through Slurm")
    ap.add_argument("--only", default="", help="comma-separated subset of " + ",".join(WORKLOADS))
    args = ap.parse_args()
    size = {k: v[0 if args.quick else 1] for k, v in SIZES.items()}
    only = [w for w in args.only.split(",") if w] or WORKLOADS
    unknown = set(only) - set(WORKLOADS)
    if unknown:
        ap.error("--only: unknown workload %s (known: %s)" % (", ".join(sorted(unknown)),
                                                             ",".join(WORKLOADS)))
    started = time.time()
    RAW.update({"mode": "quick" if args.quick else "full", "sizes": size,
                "load_average_at_start": round(load_average(), 2), "cpus": os.cpu_count(),
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))})
    rows = []
    failed = False
    for name in only:
        t0 = time.monotonic()
        print("bench: %s ..." % name, file=sys.stderr, flush=True)
        try:
            new = micro_rows(args.quick, RAW) if name == "micro" else RUNNERS[name](size, RAW)
        except Exception as e:  # noqa: BLE001: a broken workload is a row, the rest still run
            traceback.print_exc()
            RAW[name] = {"error": str(e)}
            new = [row(name, "error: %s" % str(e).splitlines()[0][:80], "-", False)]
        rows.extend(new)
        print("bench: %s done in %.1f s" % (name, time.monotonic() - t0), file=sys.stderr,
              flush=True)

    slurm = None
    if args.vs_slurm:
        import slurm_workloads as sw
        slurm = {}
        for name, tuned in (("default", False), ("tuned", True)):
            print("bench: slurm %s ..." % name, file=sys.stderr, flush=True)
            try:
                slurm[name] = sw.run_all(tuned, size["slurm_rounds"], size["slurm_handovers"],
                                         size["makespan_tasks"], size["sleep_s"],
                                         size["slurm_jobs"])
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                slurm[name] = {"error": str(e)}
        RAW["slurm"] = slurm

    RAW["rows"] = rows
    RAW["seconds"] = round(time.time() - started, 1)
    RAW["load_average_at_end"] = round(load_average(), 2)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / ("bench-%s.json" % time.strftime("%Y%m%d-%H%M%S", time.gmtime(started)))
    path.write_text(json.dumps(RAW, indent=2) + "\n")
    (out / "latest.json").write_text(json.dumps(RAW, indent=2) + "\n")

    print_table(rows, slurm)
    print("\n%s run, %.0f s, load average %.2f -> %.2f on %d CPUs; raw figures: %s"
          % (RAW["mode"], RAW["seconds"], RAW["load_average_at_start"], RAW["load_average_at_end"],
             RAW["cpus"], path.relative_to(HERE.parent)))
    if slurm:
        for name, figs in slurm.items():
            if "error" in figs:
                print("Slurm %s: error: %s" % (name, figs["error"].splitlines()[0]))
    failed = any(r["result"] == "FAIL" for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
