"""The issue 6 workloads run against gpuq: simulated nodes (real sshd on loopback, from
tests/integration/harness.py) and a master with a fresh data folder (master_harness.py).
Every latency comes from timestamps the task itself writes (`date +%s.%N` into a marks
folder on this machine, which the loopback nodes share), never from polling the API.
Each function returns a dict of raw figures; bench.py turns them into table rows."""

import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from harness import SimCluster  # noqa: E402
from master_harness import Master, wait_for  # noqa: E402

from figures import cpu_seconds, percentile, read_stamps, rss_mib, summary_ms  # noqa: E402

ENDED = ("succeeded", "failed", "cancelled", "timed_out", "lost")


@contextmanager
def marks_folder():
    # Beside the simulated nodes' folders: the tasks write their stamps on the nodes' disk.
    path = Path(tempfile.mkdtemp(prefix="gpuq-bench-marks-", dir=os.environ.get("GPUQ_SIM_DIR")))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def cluster_and_master(nodes, gpus, **master_args):
    """`nodes` simulated nodes of `gpus` GPUs each, all registered with a fresh master and
    available; yields (cluster, master, token)."""
    with SimCluster(nodes, gpus=gpus) as cluster, Master(**master_args) as master:
        token = master.login()
        master.put_credential(token, cluster.key)
        for node in cluster.nodes:
            master.add_node(token, node)
        wait_for(lambda: all(n["available"] for n in master.nodes_by_name(token).values()),
                 timeout=30 + nodes, message="every node available")
        yield cluster, master, token


def submit(master, token, command, gpus=1):
    status, task = master.api("POST", "/api/v1/tasks", {"command": command, "gpus": gpus},
                              token=token)
    if status != 201:
        raise RuntimeError("submit: %s %s" % (status, task))
    return task["id"]


def task_status(master, token, task_id):
    return master.api("GET", "/api/v1/tasks/%d" % task_id, token=token)[1]["status"]


def wait_ended(master, token, task_id, timeout=30):
    wait_for(lambda: task_status(master, token, task_id) in ENDED, timeout=timeout,
             interval=0.02, message="task %d to end" % task_id)


def wait_stamped(path, timeout=30):
    """Until the task wrote its stamp: a local stat, so the wait does not load the master
    while the interval it measures runs."""
    wait_for(lambda: path.exists() and path.stat().st_size > 0, timeout=timeout,
             interval=0.002, message="%s to be written" % path)


def list_tasks(master, token, query=""):
    status, tasks = master.api("GET", "/api/v1/tasks?limit=10000" + query, token=token)
    if status != 200:
        raise RuntimeError("list tasks: %s %s" % (status, tasks))
    return tasks


def latency(rounds, handovers):
    """submit -> first line on an idle node; a run's exit -> the next queued task's start on
    the GPU it freed (one node, one GPU, a queue of `sleep 0.2` tasks)."""
    with marks_folder() as marks, cluster_and_master(1, 1) as (cluster, master, token):
        wait_ended(master, token, submit(master, token, "true"))  # warm the account's link
        first_line = []
        for i in range(rounds):
            f = marks / ("first-%d" % i)
            t0 = time.time()
            task_id = submit(master, token, "date +%%s.%%N > %s" % f)
            wait_stamped(f)
            wait_ended(master, token, task_id)
            first_line.append((read_stamps(f)[0] - t0) * 1000)
        ids = [submit(master, token,
                      "date +%%s.%%N > %s/start-%d; sleep 0.2; date +%%s.%%N > %s/end-%d"
                      % (marks, i, marks, i)) for i in range(handovers + 1)]
        wait_stamped(marks / ("end-%d" % handovers), timeout=30 + handovers)
        for task_id in ids:
            wait_ended(master, token, task_id, timeout=30 + handovers)
        handover = [(read_stamps(marks / ("start-%d" % (i + 1)))[0] -
                     read_stamps(marks / ("end-%d" % i))[0]) * 1000 for i in range(handovers)]
    return {"submit_to_first_line": summary_ms(first_line),
            "exit_to_next_start": summary_ms(handover)}


def makespan(tasks=40, sleep_s=2, gpus=8):
    """`tasks` x `sleep sleep_s` one-GPU tasks on one node of `gpus` GPUs: from just before
    the first submission to the last task's own end stamp. As in the latency rows, one task
    runs first: the account's link to the node is open, as in a lab where links stay open
    between tasks (opening one, once per account and node, is `first_task_cold_s`)."""
    with marks_folder() as marks, cluster_and_master(1, gpus) as (cluster, master, token):
        cold = marks / "cold"
        t_cold = time.time()
        first = submit(master, token, "date +%%s.%%N > %s" % cold)
        wait_stamped(cold)
        first_task_cold_s = read_stamps(cold)[0] - t_cold
        wait_ended(master, token, first)
        t0 = time.time()
        ids = [submit(master, token, "date +%%s.%%N > %s/start-%d; echo $CUDA_VISIBLE_DEVICES > "
                      "%s/gpu-%d; sleep %s; date +%%s.%%N > %s/end-%d"
                      % (marks, i, marks, i, sleep_s, marks, i)) for i in range(tasks)]
        submitted_s = time.time() - t0
        for i in range(tasks):
            wait_stamped(marks / ("end-%d" % i), timeout=60 + tasks * sleep_s)
        for task_id in ids:
            wait_ended(master, token, task_id, timeout=60 + tasks * sleep_s)
        ends = [read_stamps(marks / ("end-%d" % i))[0] for i in range(tasks)]
        starts = [read_stamps(marks / ("start-%d" % i))[0] for i in range(tasks)]
        on_gpu = [(marks / ("gpu-%d" % i)).read_text().strip() for i in range(tasks)]
    # Handovers: on each GPU, from one task's end to the next task's start.
    gaps = []
    for gpu in set(on_gpu):
        runs = sorted((starts[i], ends[i]) for i in range(tasks) if on_gpu[i] == gpu)
        gaps += [(runs[k + 1][0] - runs[k][1]) * 1000 for k in range(len(runs) - 1)]
    ideal = -(-tasks // gpus) * sleep_s
    return {"tasks": tasks, "gpus": gpus, "sleep_s": sleep_s, "ideal_s": ideal,
            "makespan_s": round(max(ends) - t0, 3),
            "first_start_after_s": round(min(starts) - t0, 3),
            "first_task_cold_s": round(first_task_cold_s, 3),
            "submit_all_s": round(submitted_s, 3),
            "handover_on_a_gpu": summary_ms(gaps) if gaps else None}


def throughput(tasks, nodes=8, gpus=8):
    """`tasks` one-GPU tasks that only stamp the time (as cheap as `true`), imported in one
    CSV request onto `nodes` x `gpus` GPUs. Rate = tasks / (last end stamp - just before the
    import). Checks every task ended exactly once: one stamp each, one run each, succeeded."""
    with marks_folder() as marks, cluster_and_master(nodes, gpus) as (cluster, master, token):
        # bash's own clock ($EPOCHREALTIME, microseconds): the task forks nothing, as `true`.
        csv = "task_name,command,n_gpus\n" + "".join(
            't%d,"echo $EPOCHREALTIME >> %s/$GPUQ_TASK_ID",1\n' % (i, marks) for i in range(tasks))
        cpu0 = cpu_seconds(master.proc.pid)
        t0 = time.time()
        status, created = master.api("POST", "/api/v1/tasks/import", raw_body=csv.encode(),
                                     token=token)
        if status != 201:
            raise RuntimeError("import: %s %s" % (status, created))
        import_s = time.time() - t0
        ids = [t["id"] for t in created]
        # The rate comes from the tasks' own stamps, so this wait may poll seldom: each poll
        # lists every ended task, work the master would otherwise not do.
        wait_for(lambda: len(list_tasks(master, token, "&status=" + ",".join(ENDED))) >= tasks,
                 timeout=60 + tasks / 10, interval=1.0, message="every task to end")
        master_cpu_s = cpu_seconds(master.proc.pid) - cpu0
        listed = {t["id"]: t for t in list_tasks(master, token)}
        stamps = {i: read_stamps(marks / str(i)) if (marks / str(i)).exists() else []
                  for i in ids}
    not_once = [i for i in ids if len(stamps[i]) != 1 or listed[i]["status"] != "succeeded" or
                len(listed[i]["runs"]) != 1]
    last_end = max(s[0] for s in stamps.values() if s)
    return {"tasks": tasks, "nodes": nodes, "gpus_per_node": gpus,
            "import_s": round(import_s, 3), "seconds": round(last_end - t0, 3),
            "tasks_per_s": round(tasks / (last_end - t0), 1),
            # Includes the waiting loop's list requests (one a second).
            "master_cpu_ms_per_task": round(1000 * master_cpu_s / tasks, 2),
            "not_exactly_once": len(not_once), "examples_not_once": not_once[:5]}


def _sample_ages(master, token, skip):
    now = time.time()
    ages = []
    unavailable = []
    for name, n in master.nodes_by_name(token).items():
        if name == skip:
            if not n["available"]:
                unavailable.append(name)
            continue
        sampled = datetime.strptime(n["last_sample_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        ages.append(now - (sampled - datetime(1970, 1, 1)).total_seconds())
    return ages, unavailable


def polling(nodes, seconds, gpus=8):
    """Every node sampled once a second: the master's own CPU (user + system from /proc) and
    the age of each node's latest sample at each look (every 0.5 s). One node is hung
    (sshd stopped with SIGSTOP) for the second half; the other nodes' ages are judged."""
    with cluster_and_master(nodes, gpus, probe_interval_ms=1000) as (cluster, master, token):
        time.sleep(2)  # past the first connects
        pid = master.proc.pid
        hung = cluster.nodes[-1]["name"]
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        ages, ages_hung, hung_seen = [], [], False
        hang_at = shown_after_s = None
        while time.monotonic() - t0 < seconds:
            if not hung_seen and time.monotonic() - t0 >= seconds / 2:
                cluster.hang(hung)
                hung_seen = True
                hang_at = time.monotonic()
            a, unavailable = _sample_ages(master, token, hung if hung_seen else None)
            (ages_hung if hung_seen else ages).extend(a)
            if hung_seen and unavailable and shown_after_s is None:
                shown_after_s = round(time.monotonic() - hang_at, 2)
            time.sleep(0.5)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        rss = rss_mib(pid)
        cluster.resume(hung)
    pct = 100 * (cpu1 - cpu0) / (t1 - t0)
    return {"nodes": nodes, "gpus_per_node": gpus, "seconds": round(t1 - t0, 1),
            "master_cpu_pct_of_one_core": round(pct, 2),
            "master_cpu_pct_at_100_nodes": round(pct * 100 / nodes, 2),
            "sample_age_p50_s": round(percentile(ages, 50), 3),
            "sample_age_p99_s": round(percentile(ages, 99), 3),
            "sample_age_p99_with_hung_node_s": round(percentile(ages_hung or ages, 99), 3),
            "hung_node_shown_unavailable_after_s": shown_after_s,
            "master_rss_mib": round(rss, 1)}


def panel_login(master):
    """Logs in through the panel's form (INTERFACE.md: /admin/login posts username,
    password and the hidden csrf_token); returns the Cookie header to send, or None."""
    from master_harness import ADMIN_PASSWORD
    jar = {}

    def remember(reply):
        for name, value in reply.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                if "=" in pair:
                    k, v = pair.split("=", 1)
                    jar[k.strip()] = v.strip()

    try:
        conn = http.client.HTTPConnection("127.0.0.1", master.port, timeout=10)
        conn.request("GET", "/admin/login")
        reply = conn.getresponse()
        page = reply.read().decode(errors="replace")
        remember(reply)
        tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page)
        csrf = re.search(r'value="([^"]*)"', tag.group(0)).group(1) if tag else ""
        form = urllib.parse.urlencode({"username": "admin", "password": ADMIN_PASSWORD,
                                       "csrf_token": csrf})
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if jar:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in jar.items())
        conn.request("POST", "/admin/login", form, headers)
        reply = conn.getresponse()
        reply.read()
        remember(reply)
        conn.close()
    except (OSError, http.client.HTTPException, AttributeError):
        return None
    return "; ".join("%s=%s" % kv for kv in jar.items()) or None


class _Client(threading.Thread):
    """Submits its share of tasks over one kept-alive HTTP connection."""

    def __init__(self, port, token, count, errors):
        super().__init__(daemon=True)
        self.port, self.token, self.count, self.errors = port, token, count, errors

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        body = json.dumps({"command": "python train.py --seed 1", "gpus": 1})
        headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        for _ in range(self.count):
            try:
                conn.request("POST", "/api/v1/tasks", body, headers)
                r = conn.getresponse()
                r.read()
                if r.status != 201:
                    self.errors.append(r.status)
            except (OSError, http.client.HTTPException) as e:
                self.errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.close()


def api_load(tasks, list_rounds, clients=4):
    """A fresh master with no nodes: its idle memory; `tasks` submissions through the API
    from `clients` kept-alive connections; then GET /api/v1/tasks with that many tasks (the
    default page and all of them), and the memory after. The dashboard is `dashboard`."""
    with Master() as master:
        token = master.login()
        time.sleep(1)
        pid = master.proc.pid
        idle_rss = rss_mib(pid)
        errors = []
        per = [tasks // clients + (1 if i < tasks % clients else 0) for i in range(clients)]
        threads = [_Client(master.port, token, n, errors) for n in per]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        submit_s = time.monotonic() - t0

        def timed_get(path, count):
            """Request to last byte on one kept-alive connection, as the panel's browser
            would fetch it; the body is read, not parsed (that would time Python)."""
            conn = http.client.HTTPConnection("127.0.0.1", master.port, timeout=30)
            headers = {"Authorization": "Bearer " + token}
            times = []
            status = None
            for _ in range(count):
                s0 = time.monotonic()
                conn.request("GET", path, headers=headers)
                reply = conn.getresponse()
                reply.read()
                times.append((time.monotonic() - s0) * 1000)
                status = reply.status
                if status != 200:
                    break
            conn.close()
            return status, times

        _, page = timed_get("/api/v1/tasks", list_rounds)
        _, whole = timed_get("/api/v1/tasks?limit=10000", list_rounds)
        time.sleep(1)
        rss_after = rss_mib(pid)
        count = len(list_tasks(master, token))
    return {"tasks": tasks, "clients": clients, "errors": len(errors), "error_examples": errors[:3],
            "tasks_in_store": count, "submit_s": round(submit_s, 3),
            "submit_s_per_10000": round(submit_s * 10000 / tasks, 3),
            "list_default_page": summary_ms(page), "list_all": summary_ms(whole),
            "idle_rss_mib": round(idle_rss, 1), "rss_after_tasks_mib": round(rss_after, 1)}


def dashboard(tasks=10000, ended=9000, nodes=16, gpus=8, rounds=30):
    """The panel's dashboard (/admin, as an admin with a panel session) with `tasks` tasks in
    the store, `ended` of them ended (held, then cancelled) and the rest held, while `nodes`
    simulated nodes of `gpus` GPUs are sampled every second. Timed to the last byte on one
    kept-alive connection, as a browser fetches it."""
    with cluster_and_master(nodes, gpus) as (cluster, master, token):
        csv = "task_name,command,n_gpus,execution\n" + "".join(
            "t%d,true,1,No\n" % i for i in range(tasks))
        status, created = master.api("POST", "/api/v1/tasks/import", raw_body=csv.encode(),
                                     token=token)
        if status != 201:
            raise RuntimeError("import: %s %s" % (status, created))
        conn = http.client.HTTPConnection("127.0.0.1", master.port, timeout=30)
        auth = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
        for task in created[:ended]:
            conn.request("POST", "/api/v1/tasks/%d/cancel" % task["id"], "{}", auth)
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200:
                raise RuntimeError("cancel %d: HTTP %d" % (task["id"], reply.status))
        conn.close()
        cookie = panel_login(master)
        if cookie is None:
            raise RuntimeError("cannot log in to the panel")
        conn = http.client.HTTPConnection("127.0.0.1", master.port, timeout=30)
        times, size = [], 0
        for _ in range(rounds):
            s0 = time.monotonic()
            conn.request("GET", "/admin", headers={"Cookie": cookie})
            reply = conn.getresponse()
            body = reply.read()
            times.append((time.monotonic() - s0) * 1000)
            if reply.status != 200:
                raise RuntimeError("/admin: HTTP %d" % reply.status)
            size = len(body)
        conn.close()
        gpu_rows = body.decode(errors="replace").count("<tr")
    return {"tasks": tasks, "ended": ended, "nodes": nodes, "gpus_per_node": gpus,
            "page_bytes": size, "table_rows": gpu_rows, "dashboard": summary_ms(times)}

