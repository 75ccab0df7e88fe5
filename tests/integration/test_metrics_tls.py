"""Issue 4, observability and transport: /metrics in the Prometheus text format (GPUs, nodes,
queue by status, run ends, scheduling and launch latency histograms) behind an API token,
and the master served over HTTPS with --tls-cert/--tls-key (API and CLI), with clear errors
for settings that cannot work."""

import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request
from pathlib import Path

from cluster_case import ClusterTestCase
from harness import find_gpuq_binary, free_port
from master_harness import Master, wait_for

MEM_MIB = 24576


def parse_metrics(text):
    """{'name{labels}': value} for every sample line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        samples[key] = float(value)
    return samples


def make_certificate(folder):
    cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class MetricsTest(ClusterTestCase):
    CLUSTER = {"count": 1, "gpus": 2, "model": "NVIDIA GeForce RTX 3090", "mem_mib": MEM_MIB}

    def metrics(self, token):
        req = urllib.request.Request(self.master.url + "/metrics")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            return r.read().decode()

    def test_metrics_need_a_token(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.metrics(None)
        self.assertEqual(e.exception.code, 401)
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.metrics("not-a-token")
        self.assertEqual(e.exception.code, 401)

    def test_metrics_show_gpus_queue_ends_and_latencies(self):
        status, done = self.master.api("POST", "/api/v1/tasks",
                                       {"command": "true", "gpus": 1}, token=self.token)
        self.assertEqual(status, 201, done)
        status, failing = self.master.api("POST", "/api/v1/tasks",
                                          {"command": "exit 3", "gpus": 0}, token=self.token)
        status, held = self.master.api("POST", "/api/v1/tasks",
                                       {"command": "true", "hold": True}, token=self.token)
        self.assertEqual(status, 201, held)
        for task_id in (done["id"], failing["id"]):
            wait_for(lambda: self.master.api("GET", "/api/v1/tasks/%d" % task_id,
                                             token=self.token)[1]["status"]
                     in ("succeeded", "failed"), timeout=20, message="task ended")

        m = parse_metrics(self.metrics(self.token))
        gpu0 = '{node="node1",gpu="0",model="NVIDIA GeForce RTX 3090"}'
        self.assertEqual(m['gpuq_node_up{node="node1"}'], 1)
        self.assertEqual(m["gpuq_gpu_memory_total_bytes" + gpu0], MEM_MIB * 1024 * 1024)
        self.assertIn("gpuq_gpu_memory_used_bytes" + gpu0, m)
        self.assertIn("gpuq_gpu_utilization_ratio" + gpu0, m)
        self.assertGreater(m['gpuq_node_last_sample_timestamp_seconds{node="node1"}'], 1.7e9)
        self.assertGreaterEqual(m['gpuq_tasks{status="succeeded"}'], 1)
        self.assertGreaterEqual(m['gpuq_tasks{status="failed"}'], 1)
        self.assertGreaterEqual(m['gpuq_tasks{status="held"}'], 1)
        self.assertGreaterEqual(m['gpuq_run_ends_total{result="succeeded"}'], 1)
        self.assertGreaterEqual(m['gpuq_run_ends_total{result="failed"}'], 1)
        self.assertEqual(m['gpuq_run_ends_total{result="lost"}'], 0)
        # Two launches, each timed from placement to the pid on the node.
        self.assertGreaterEqual(m["gpuq_launch_seconds_count"], 2)
        self.assertEqual(m['gpuq_launch_seconds_bucket{le="+Inf"}'],
                         m["gpuq_launch_seconds_count"])
        self.assertGreater(m["gpuq_launch_seconds_sum"], 0)
        self.assertGreaterEqual(m["gpuq_schedule_pass_seconds_count"], 2)


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="gpuq-tls-"))
        cls.cert, cls.key = make_certificate(cls.tmp)
        cls.master = Master(extra_args=["--tls-cert", str(cls.cert), "--tls-key", str(cls.key)],
                            ca_file=cls.cert)
        cls.master.start()

    @classmethod
    def tearDownClass(cls):
        cls.master.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_api_and_cli_work_over_https(self):
        self.assertTrue(self.master.url.startswith("https://"))
        token = self.master.login()
        status, me = self.master.api("GET", "/api/v1/me", token=token)
        self.assertEqual(status, 200, me)
        self.assertEqual(me["username"], "admin")
        r = self.master.cli("nodes", env={"GPUQ_TOKEN": token, "GPUQ_CA_CERT": str(self.cert)})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_panel_cookies_are_secure_over_https(self):
        with urllib.request.urlopen(self.master.url + "/admin/login", timeout=10,
                                    context=self.master.ssl_context) as r:
            cookies = r.headers.get_all("Set-Cookie") or []
        self.assertTrue(cookies)
        for cookie in cookies:
            self.assertIn("; Secure", cookie)
            self.assertIn("HttpOnly", cookie)

    def test_cli_refuses_a_certificate_it_does_not_trust(self):
        r = self.master.cli("nodes", env={"GPUQ_TOKEN": "x"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot reach the master", r.stderr)

    def test_plain_http_gets_no_answer_from_the_https_port(self):
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.master.port, timeout=5)

    def run_master(self, *args):
        data = tempfile.mkdtemp(prefix="gpuq-tls-data-", dir=self.tmp)
        return subprocess.run([str(find_gpuq_binary()), "master", "--listen",
                               "127.0.0.1:%d" % free_port(), "--data", data, *args],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=30)

    def test_settings_that_cannot_work_stop_the_master_with_the_field_named(self):
        r = self.run_master("--tls-cert", str(self.cert))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("tls_key", r.stderr)
        r = self.run_master("--tls-cert", str(self.tmp / "missing.pem"), "--tls-key", str(self.key))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("tls_cert", r.stderr)
        self.assertIn("cannot read", r.stderr)
        garbage = self.tmp / "garbage.pem"
        garbage.write_text("not a certificate\n")
        r = self.run_master("--tls-cert", str(garbage), "--tls-key", str(self.key))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot load the TLS certificate", r.stderr)


if __name__ == "__main__":
    unittest.main()
