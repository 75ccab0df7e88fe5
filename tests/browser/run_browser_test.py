"""Runs the panel's browser test (panel.test.mjs, real headless Chromium driven by
playwright-core) against a real master and one simulated GPU node (real sshd on loopback).
Registered with CTest as browser.panel; screenshots go to BUILD/screenshots/."""

import os
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

from harness import BUILD_DIR, SimCluster  # noqa: E402
from master_harness import ADMIN_PASSWORD, Master  # noqa: E402

CHROMIUM = os.environ.get("GPUQ_CHROMIUM", "/usr/bin/chromium")


class BrowserPanelTest(unittest.TestCase):
    def test_panel_in_headless_chromium(self):
        self.assertTrue(os.access(CHROMIUM, os.X_OK), CHROMIUM + " is missing: run scripts/install-deps.sh")
        self.assertTrue((HERE / "node_modules" / "playwright-core").is_dir(),
                        "playwright-core is missing: run scripts/install-deps.sh (npm ci in tests/browser)")
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is missing")
        with SimCluster(1, gpus=2) as cluster, Master() as master:
            n = cluster.nodes[0]
            env = dict(os.environ, GPUQ_URL=master.url, GPUQ_ADMIN_PASSWORD=ADMIN_PASSWORD,
                       GPUQ_NODE_HOST=n["host"], GPUQ_NODE_PORT=str(n["port"]),
                       GPUQ_NODE_USER=n["user"], GPUQ_KEY_PATH=str(cluster.key),
                       GPUQ_SCREENSHOT_DIR=str(BUILD_DIR / "screenshots"), GPUQ_CHROMIUM=CHROMIUM)
            r = subprocess.run([node, str(HERE / "panel.test.mjs")], env=env, cwd=HERE, timeout=240,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            print(r.stdout)
            if r.returncode != 0:
                print(master.log()[-4000:])
            self.assertEqual(r.returncode, 0, "browser test failed (see the output above)")


if __name__ == "__main__":
    unittest.main()
