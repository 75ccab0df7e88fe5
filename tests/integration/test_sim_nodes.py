"""The simulated GPU nodes themselves, through real ssh: nvidia-smi, gpustat, gpuq-sim-work,
simctl and nodes.sh (hang, resume, stop, start, rekey, reap)."""

import json
import os
import re
import subprocess
import time
import unittest

from harness import GPUQ_SIM_WORK, SIM_DIR, SimCluster

MODELS = ["NVIDIA A100-SXM4-80GB", "NVIDIA H100 80GB HBM3", "NVIDIA GeForce RTX 3090"]
GPUS = [8, 4, 2]
MEM = [81920, 81559, 24576]
DRIVER_TEXT = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
               "Make sure that the latest NVIDIA driver is installed and running.")


class SimNodesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = SimCluster(3, gpus=GPUS, model=MODELS, mem_mib=MEM).start_cluster()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    def ssh(self, node, command, **kw):
        return self.c.ssh(node, command, **kw)

    # --- nvidia-smi ---

    def test_query_gpu_on_each_node(self):
        uuids = set()
        for i, node in enumerate(self.c.nodes):
            rows = self.c.query_gpus(node, "index,uuid,name,memory.total,memory.used,count")
            self.assertEqual(len(rows), GPUS[i], node["name"])
            for j, row in enumerate(rows):
                self.assertEqual(row["index"], str(j))
                self.assertEqual(row["name"], MODELS[i])
                self.assertEqual(row["memory.total"], str(MEM[i]))
                self.assertEqual(row["count"], str(GPUS[i]))
                self.assertRegex(row["uuid"], r"^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
                uuids.add(row["uuid"])
        self.assertEqual(len(uuids), sum(GPUS), "GPU UUIDs must be unique across nodes")

    def test_query_gpu_csv_shape(self):
        fields = ("index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,"
                  "temperature.gpu,pci.bus_id,count,driver_version,timestamp")
        out = self.c.nvidia_smi("node3", "--query-gpu=" + fields, "--format=csv")
        lines = out.splitlines()
        self.assertEqual(lines[0], "index, uuid, name, memory.total [MiB], memory.used [MiB], memory.free [MiB], "
                                   "utilization.gpu [%], temperature.gpu, pci.bus_id, count, driver_version, timestamp")
        self.assertEqual(len(lines), 1 + GPUS[2])
        v = lines[1].split(", ")
        self.assertEqual(v[0], "0")
        self.assertEqual(v[2], MODELS[2])
        self.assertEqual(v[3], "%d MiB" % MEM[2])
        self.assertRegex(v[4], r"^\d+ MiB$")
        self.assertRegex(v[6], r"^\d+ %$")
        self.assertRegex(v[7], r"^\d+$")
        self.assertRegex(v[8], r"^[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.[0-9A-F]$")
        self.assertEqual(v[9], str(GPUS[2]))
        self.assertRegex(v[10], r"^\d+\.\d+")
        self.assertRegex(v[11], r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{3}$")
        # -i filters and keeps the order given; nounits drops units from values only
        out = self.c.nvidia_smi("node1", "--query-gpu=index,memory.used", "--format=csv,nounits", "-i", "3,1")
        self.assertEqual(out, "index, memory.used [MiB]\n3, 0\n1, 0\n")

    def test_fast_path_matches_python(self):
        """The sh fast path of nvidia-smi answers gpuq's probes; simsmi.py is the reference."""
        queries = [
            "--query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu,temperature.gpu,pci.bus_id "
            "--format=csv,noheader,nounits",
            "--query-gpu=index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu,"
            "pci.bus_id,count,driver_version --format=csv",
            "--query-gpu gpu_name,gpu_uuid,gpu_bus_id --format csv,nounits",
            "--query-compute-apps=gpu_uuid,pid,used_memory,process_name --format=csv,noheader,nounits",
            "--query-compute-apps=gpu_uuid,pid,used_gpu_memory,name,gpu_bus_id,gpu_name --format=csv",
        ]
        script = ["CUDA_VISIBLE_DEVICES=0,3 gpuq-sim-work --mem 300 --util 70 --seconds 5 >/dev/null &",
                  "CUDA_VISIBLE_DEVICES=3 gpuq-sim-work --mem 20 --util 50 --seconds 5 --name 'my job' >/dev/null &",
                  "sleep 0.6"]
        for q in queries:
            script.append("echo @@; nvidia-smi %s; echo rc=$?; GPUQ_SIM_NO_FAST=1 nvidia-smi %s; echo rc=$?; "
                          "sh -x \"$(command -v nvidia-smi)\" %s 2>&1 >/dev/null | grep -c '^+ exec python'" % (q, q, q))
        script.append("kill $(jobs -p)")
        r = self.ssh("node1", "\n".join(script))
        parts = r.stdout.split("@@\n")[1:]
        self.assertEqual(len(parts), len(queries), r.stdout + r.stderr)
        for q, part in zip(queries, parts):
            lines = part.splitlines()
            python_execs = lines.pop()
            half = len(lines) // 2
            self.assertEqual(lines[:half], lines[half:], q)
            self.assertEqual(lines[half - 1], "rc=0", q)
            self.assertEqual(python_execs, "0", "fast path not taken for " + q)
        self.assertIn("my job", r.stdout)

    def test_list_gpus(self):
        out = self.c.nvidia_smi("node2", "-L")
        lines = out.splitlines()
        self.assertEqual(len(lines), GPUS[1])
        self.assertRegex(lines[0], r"^GPU 0: %s \(UUID: GPU-[0-9a-f-]{36}\)$" % re.escape(MODELS[1]))

    def test_bad_field_and_bad_id(self):
        r = self.ssh("node1", "nvidia-smi --query-gpu=index,bogus.field --format=csv")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, 'Field "bogus.field" is not a valid field to query.\n\n')
        r = self.ssh("node1", "nvidia-smi --query-gpu=index --format=csv -i 42")
        self.assertEqual(r.returncode, 6)
        self.assertEqual(r.stdout, "No devices were found\n")

    def test_loop_ms_prints_several_rounds(self):
        r = self.ssh("node3", "timeout 1.3 nvidia-smi --query-gpu=index,memory.used --format=csv -lms 200; true")
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "index, memory.used [MiB]", "header once, at the start")
        self.assertEqual(lines.count("index, memory.used [MiB]"), 1)
        rounds = (len(lines) - 1) // GPUS[2]
        self.assertGreaterEqual(rounds, 3, r.stdout)

    # --- workloads, foreign processes, phantom memory ---

    def test_workload_shows_on_its_gpu_only(self):
        p = self.c.ssh_popen("node2", "CUDA_VISIBLE_DEVICES=1 gpuq-sim-work --mem 1234 --util 30 --seconds 2")
        try:
            first = p.stdout.readline()
            m = re.search(r"pid=(\d+) gpus=1 CUDA_VISIBLE_DEVICES=1\b", first)
            self.assertTrue(m, first)
            pid = m.group(1)
            gpus = self.c.query_gpus("node2", "index,uuid,memory.used,utilization.gpu")
            apps = self.c.query_apps("node2", "gpu_uuid,pid,used_memory,process_name,gpu_bus_id,gpu_name")
            self.assertEqual([a["pid"] for a in apps], [pid])
            self.assertEqual(apps[0]["gpu_uuid"], gpus[1]["uuid"])
            self.assertEqual(apps[0]["used_memory"], "1234")
            self.assertEqual(apps[0]["gpu_name"], MODELS[1])
            self.assertEqual([g["memory.used"] for g in gpus], ["0", "1234", "0", "0"])
            self.assertEqual([g["utilization.gpu"] for g in gpus], ["0", "30", "0", "0"])
            out, err = p.communicate(timeout=15)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("progress 1/2s", out)
        self.assertEqual(self.c.query_apps("node2"), [])
        self.assertEqual([g["memory.used"] for g in self.c.query_gpus("node2", "memory.used")], ["0"] * 4)

    def test_workload_exit_code_and_sigterm(self):
        r = self.ssh("node3", "CUDA_VISIBLE_DEVICES= gpuq-sim-work --seconds 0 --exit 7")
        self.assertEqual(r.returncode, 7)
        self.assertIn("gpus=none CUDA_VISIBLE_DEVICES= ", r.stdout)
        # TERM removes the registration at once and ends the process by that signal
        r = self.ssh("node3", "CUDA_VISIBLE_DEVICES=0 gpuq-sim-work --mem 10 --seconds 30 >/dev/null & p=$!; "
                              "sleep 0.5; nvidia-smi --query-compute-apps=pid --format=csv,noheader; "
                              "kill -TERM $p; wait $p; echo rc=$?; ls $GPUQ_SIM_DIR/procs | wc -l")
        lines = r.stdout.split()
        self.assertEqual(lines[1:], ["rc=143", "0"], r.stdout + r.stderr)

    def test_ignore_term_children_need_a_group_kill(self):
        script = ("CUDA_VISIBLE_DEVICES=0 setsid gpuq-sim-work --mem 5 --seconds 30 --ignore-term --children 2 "
                  "--children-mem 1 >/tmp/gpuq-sim-igt.$$ 2>&1 & sleep 0.8; "
                  "p=$(sed -n 's/.* pid=\\([0-9]*\\) .*/\\1/p' /tmp/gpuq-sim-igt.$$); rm -f /tmp/gpuq-sim-igt.$$; "
                  "kill -TERM $p; sleep 0.3; kill -0 $p && echo alive-after-term; "
                  "nvidia-smi --query-compute-apps=pid --format=csv,noheader | wc -l; "
                  "kill -KILL -- -$p; sleep 0.3; nvidia-smi --query-compute-apps=pid --format=csv,noheader | wc -l")
        r = self.ssh("node3", script)
        self.assertEqual(r.stdout.split(), ["alive-after-term", "3", "0"], r.stdout + r.stderr)

    def test_foreign_process_and_phantom_memory(self):
        pid = self.c.foreign("node1", 2, 30000, util=50, user="bob")
        try:
            apps = self.c.query_apps("node1", "pid,used_memory,gpu_uuid")
            self.assertEqual([(a["pid"], a["used_memory"]) for a in apps], [(str(pid), "30000")])
            gpus = self.c.query_gpus("node1", "index,memory.used,utilization.gpu")
            self.assertEqual(gpus[2]["memory.used"], "30000")
            self.assertEqual(gpus[2]["utilization.gpu"], "50")
            stat = json.loads(self.ssh("node1", "gpustat --json", check=True).stdout)
            procs = stat["gpus"][2]["processes"]
            self.assertEqual([(p["pid"], p["username"], p["gpu_memory_usage"]) for p in procs], [(pid, "bob", 30000)])
        finally:
            self.c.simctl("node1", "stop-foreign", str(pid))
        self.assertEqual(self.c.query_apps("node1"), [])
        # phantom memory: used, with no process listed; simctl works over ssh too
        self.ssh("node1", "simctl phantom $GPUQ_SIM_DIR --gpu 5 --mem-mib 4321", check=True)
        try:
            self.assertEqual(self.c.query_gpus("node1", "memory.used")[5]["memory.used"], "4321")
            self.assertEqual(self.c.query_apps("node1"), [])
        finally:
            self.c.simctl("node1", "phantom", "--gpu", "5", "--mem-mib", "0")
        self.assertEqual(self.c.query_gpus("node1", "memory.used")[5]["memory.used"], "0")

    # --- failures ---

    def test_driver_failure(self):
        self.c.simctl("node2", "driver-fail", "on")
        try:
            for cmd in ("nvidia-smi --query-gpu=index --format=csv", "nvidia-smi -L"):
                r = self.ssh("node2", cmd)
                self.assertEqual(r.returncode, 9)
                self.assertEqual(r.stdout, DRIVER_TEXT + "\n")
            self.assertEqual(self.ssh("node2", "gpustat --json").returncode, 1)
        finally:
            self.c.simctl("node2", "driver-fail", "off")
        self.assertEqual(self.ssh("node2", "nvidia-smi -L").returncode, 0)

    def test_lost_gpu(self):
        self.c.simctl("node3", "gpu-fail", "--gpu", "1", "on")
        try:
            r = self.ssh("node3", "nvidia-smi --query-gpu=index,name,memory.used,utilization.gpu --format=csv,noheader")
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout.splitlines()[1], "1, %s, [GPU is lost], [GPU is lost]" % MODELS[2])
            # the other style: the driver cannot open the GPU at all (line on stderr, exit 15)
            self.c.simctl("node3", "gpu-fail", "--gpu", "1", "on", "--style", "handle")
            r = self.ssh("node3", "nvidia-smi --query-gpu=index,memory.used --format=csv,noheader")
            self.assertEqual(r.returncode, 15)
            self.assertEqual(r.stdout, "0, 0 MiB\n")
            self.assertRegex(r.stderr, r"^Unable to determine the device handle for GPU[0-9A-F]{4}:[0-9A-F]{2}:00\.0: "
                                       r"GPU is lost\. Reboot the system to recover this GPU\n$")
        finally:
            self.c.simctl("node3", "gpu-fail", "--gpu", "1", "off")

    # --- gpustat ---

    def test_gpustat_json(self):
        r = self.ssh("node2", "CUDA_VISIBLE_DEVICES=3 gpuq-sim-work --mem 777 --seconds 3 >/dev/null & sleep 0.5; "
                              "gpustat --json; kill $!")
        stat = json.loads(r.stdout)
        self.assertEqual(stat["hostname"], "node2")
        self.assertIn("driver_version", stat)
        self.assertRegex(stat["query_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        self.assertEqual([g["index"] for g in stat["gpus"]], list(range(GPUS[1])))
        g = stat["gpus"][3]
        for key in ("uuid", "name", "temperature.gpu", "utilization.gpu", "memory.used", "memory.total",
                    "processes"):
            self.assertIn(key, g)
        self.assertEqual(g["memory.used"], 777)
        self.assertEqual(g["processes"][0]["gpu_memory_usage"], 777)
        self.assertEqual(g["processes"][0]["username"], self.c.node("node2")["user"])

    # --- sessions, PATH, nodes.sh ---

    def test_path_and_home(self):
        r = self.ssh("node1", 'echo "$PATH"; command -v nvidia-smi; echo "$HOME"; echo "$GPUQ_SIM_DIR"', check=True)
        path, smi, home, simdir = r.stdout.splitlines()
        self.assertTrue(path.startswith(str(SIM_DIR) + ":"), path)
        self.assertEqual(smi, str(SIM_DIR / "nvidia-smi"))
        self.assertEqual(home, self.c.node("node1")["home"])
        self.assertEqual(simdir, self.c.node("node1")["sim_dir"])
        # login shells reset PATH in /etc/profile; the node's own ~/.profile puts the sim first again
        r = self.ssh("node1", "bash -lc 'command -v nvidia-smi gpustat gpuq-sim-work'", check=True)
        self.assertEqual(r.stdout.split(), [str(SIM_DIR / n) for n in ("nvidia-smi", "gpustat", "gpuq-sim-work")])

    def test_hang_and_resume(self):
        stream = self.c.ssh_popen("node3", "nvidia-smi --query-gpu=index --format=csv,noheader -lms 100 -i 0")
        try:
            self.assertEqual(stream.stdout.readline(), "0\n")
            self.c.hang("node3")
            try:
                self.assertEqual(self.c.node("node3")["state"], "hung")
                t = time.monotonic()
                r = self.ssh("node3", "true", connect_timeout=2, timeout=30)
                self.assertEqual(r.returncode, 255)
                self.assertLess(time.monotonic() - t, 15)
                self.assertIn("timed out", r.stderr)
            finally:
                self.c.resume("node3")
            self.assertEqual(self.ssh("node3", "echo back", connect_timeout=5).stdout, "back\n")
            self.assertEqual(stream.stdout.readline(), "0\n", "the old session works again")
        finally:
            stream.kill()
            stream.communicate()

    def test_stop_and_start_node(self):
        before = self.c.node("node2")
        self.c.stop("node2")
        self.assertEqual(self.c.node("node2")["state"], "stopped")
        self.assertIsNone(self.c.node("node2")["pid"])
        r = self.ssh("node2", "true", connect_timeout=2)
        self.assertEqual(r.returncode, 255)
        self.c.start("node2")
        after = self.c.node("node2")
        self.assertEqual((after["host"], after["port"], after["host_key_sha256"]),
                         (before["host"], before["port"], before["host_key_sha256"]))
        self.assertEqual(self.ssh("node2", "echo up").stdout, "up\n")

    def test_rekey_changes_fingerprint(self):
        before = self.c.node("node1")["host_key_sha256"]
        self.assertTrue(before.startswith("SHA256:"))
        self.c.rekey("node1")
        node = self.c.node("node1")
        self.assertNotEqual(node["host_key_sha256"], before)
        scanned = subprocess.run("ssh-keyscan -T 5 -t ed25519 -p %d %s 2>/dev/null | ssh-keygen -lf -"
                                 % (node["port"], node["host"]), shell=True, stdout=subprocess.PIPE,
                                 text=True).stdout
        self.assertIn(node["host_key_sha256"], scanned)
        self.assertEqual(self.ssh("node1", "echo ok").stdout, "ok\n")

    def test_reap_ends_detached_processes(self):
        r = self.ssh("node2", "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!", check=True)
        pid = int(r.stdout)
        self.assertTrue(os.path.exists("/proc/%d" % pid))
        self.c.reap("node2")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.05)
        else:
            self.fail("sleep %d survived reap" % pid)

    def test_sim_work_without_sim_dir(self):
        env = {k: v for k, v in os.environ.items() if k != "GPUQ_SIM_DIR"}
        env["CUDA_VISIBLE_DEVICES"] = "0,1"
        r = subprocess.run([str(GPUQ_SIM_WORK), "--seconds", "0", "--mem", "5"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("gpus=0,1 CUDA_VISIBLE_DEVICES=0,1 ", r.stdout)


if __name__ == "__main__":
    unittest.main()
