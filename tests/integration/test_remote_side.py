"""The node end of a link (master/node/remote_side.sh) run as the master runs it, `sh` reading
requests on stdin, but on this machine without SSH: launches that never run twice, a runner
that outlives the shell and waits through a stopped command, kills of the whole group, a
missing workdir, a runner whose pid was reused, and log reads of empty and missing logs.
The field escaping is the one EscapeField (remote_protocol.cc) does; unit.node checks that
one against dash and bash byte for byte."""

import os
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

SOURCE = Path(os.environ.get("GPUQ_SOURCE_DIR", Path(__file__).resolve().parents[2]))
SCRIPT = SOURCE / "master" / "node" / "remote_side.sh"
PLAIN = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./,:=+@")


def escape(text):
    data = text.encode() if isinstance(text, str) else text
    if not data:
        return "-"
    return "".join(chr(c) if c in PLAIN else "\\0%03o" % c for c in data)


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out")


class RemoteSideTest(unittest.TestCase):
    def setUp(self):
        self.home = Path(tempfile.mkdtemp(prefix="gpuq-remote-side-"))
        self.runs = self.home / ".gpuq" / "runs"
        self.seq = 0

    def tearDown(self):
        # Every run this test started has ended or is killed here, group and runner.
        for run in self.runs.glob("*.pid"):
            pid = run.read_text().strip()
            if pid and pid != "0":
                try:
                    os.killpg(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        subprocess.run(["rm", "-rf", str(self.home)])

    def ask(self, *requests):
        """Sends the request lines to a fresh remote side; returns {seq: {section: text}}."""
        lines = []
        for verb, arg in requests:
            self.seq += 1
            lines.append("%d %s %s\n" % (self.seq, verb, arg))
        out = subprocess.run(["sh", str(SCRIPT)], input="".join(lines).encode(),
                             capture_output=True, timeout=30,
                             env={"HOME": str(self.home), "PATH": os.environ["PATH"]}).stdout
        replies, section = {}, None
        for line in out.decode(errors="replace").splitlines(keepends=True):
            words = line.split()
            if line.startswith("@gpuq ") and len(words) >= 3:
                seq = int(words[1])
                if words[2] == "section":
                    section = replies.setdefault(seq, {}).setdefault(words[3], [])
                elif words[2] in ("rc", "end", "begin"):
                    section = None
                continue
            if section is not None:
                section.append(line)
        return [{k: "".join(v) for k, v in replies.get(s, {}).items()}
                for s in range(self.seq - len(requests) + 1, self.seq + 1)]

    def launch(self, run_id, command, workdir=""):
        env = "export GPUQ_RUN_ID='%d'\nexport CUDA_VISIBLE_DEVICES='2'\n" % run_id
        return self.ask(("launch", "%d %s %s %s" % (run_id, escape(command), escape(workdir),
                                                    escape(env))))[0]["launch"]

    def file(self, run_id, name):
        return self.runs / ("%d.%s" % (run_id, name))

    def state(self, run_id):
        return self.ask(("status", str(run_id)))[0]["runs"].strip()

    def events(self):
        path = self.home / ".gpuq" / "events"
        return path.read_text().splitlines() if path.exists() else []

    def test_command_runs_once_with_its_bytes_env_and_exit_code(self):
        # $$ is the command's own process group (the pid), as a script's `kill -- -$$` expects.
        command = ("printf '%s|' \"$CUDA_VISIBLE_DEVICES\" \"$0\" \"$#\" \"$$\" "
                   "'a  b\\ \"q\" $x *' >out; exit 3")
        workdir = self.home / "work dir"
        workdir.mkdir()
        self.assertEqual(self.launch(1, command, str(workdir)), "started\n")
        wait_for(lambda: self.state(1) == "1 exited 3")
        again = self.launch(1, "touch %s/twice" % self.home)
        self.assertRegex(again, r"^exists [0-9]+\n$")
        self.assertFalse((self.home / "twice").exists())
        pid = (self.file(1, "pid")).read_text().strip()
        self.assertEqual((workdir / "out").read_text(),
                         "2|bash|0|%s|a  b\\ \"q\" $x *|" % pid)
        self.assertEqual(self.events(), ["start 1 " + pid, "exit 1 3"])
        self.assertEqual(self.state(2), "2 unknown")

    def test_stopped_command_is_still_running_and_ends_once(self):
        self.launch(1, "sleep 1; echo slept")
        pid = int(wait_for(lambda: (self.file(1, "pid")).exists() and
                           (self.file(1, "pid")).read_text().strip()))
        os.killpg(pid, signal.SIGSTOP)
        time.sleep(1.5)
        self.assertEqual(self.state(1), "1 running %d" % pid)
        os.killpg(pid, signal.SIGCONT)
        wait_for(lambda: self.state(1) == "1 exited 0")
        self.assertEqual((self.file(1, "output.log")).read_text(), "slept\n")
        self.assertEqual([e for e in self.events() if e.startswith("exit")], ["exit 1 0"])

    def test_kill_takes_the_whole_group_and_the_runner_records_it(self):
        self.launch(1, "sleep 60 & echo $! >child; sleep 61")
        wait_for(lambda: self.state(1).startswith("1 running "))
        child = int(wait_for(lambda: (self.home / "child").exists() and
                             (self.home / "child").read_text().strip()))
        self.assertEqual(self.ask(("signal", "TERM 1"))[0]["runs"], "1 alive\n")
        wait_for(lambda: self.state(1) == "1 exited 143")
        # The group is dead once its last member is reaped (here by whoever is pid 1).
        wait_for(lambda: self.ask(("signal", "0 1"))[0]["runs"] == "1 dead\n")
        self.assertFalse(Path("/proc/%d" % child).exists() and
                         Path("/proc/%d/stat" % child).read_text().split()[2] != "Z")

    def test_missing_workdir_is_exit_126_with_the_reason_in_the_log(self):
        self.launch(1, "echo never", str(self.home / "nowhere"))
        wait_for(lambda: self.state(1) == "1 exited 126")
        log = (self.file(1, "output.log")).read_text()
        self.assertIn("gpuq: cannot enter the workdir '%s'" % (self.home / "nowhere"), log)
        self.assertNotIn("never", log)

    def test_a_dead_runner_is_gone_even_when_its_pid_is_reused(self):
        self.launch(1, "sleep 60")
        wait_for(lambda: self.state(1).startswith("1 running "))
        runner_pid, start = (self.file(1, "runner")).read_text().split()
        pid = int((self.file(1, "pid")).read_text())
        os.kill(int(runner_pid), signal.SIGKILL)
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: self.state(1) == "1 gone")
        # A live process under the runner's recorded pid, but started at another time.
        other = subprocess.Popen(["sleep", "30"])
        try:
            (self.file(1, "runner")).write_text("%d %s\n" % (other.pid, start))
            self.assertEqual(self.state(1), "1 gone")
        finally:
            other.kill()
            other.wait()

    def test_runs_of_an_older_remote_side_are_still_answered_for(self):
        # That one kept each run in a folder.
        old = self.runs / "5"
        old.mkdir(parents=True)
        (old / "exit_code").write_text("4\n")
        (old / "output.log").write_text("old\n")
        self.assertEqual(self.state(5), "5 exited 4")
        self.assertEqual(self.ask(("read", "5 0 10"))[0], {"log": "b2xkCg==\n", "size": "4\n"})
        self.assertRegex(self.launch(5, "touch %s/again" % self.home), r"^exists \n$")
        self.assertFalse((self.home / "again").exists())

    def test_log_reads_cost_nothing_when_empty_and_say_missing(self):
        self.launch(1, "true")
        self.launch(2, "printf 'abc\\001'")
        wait_for(lambda: self.state(1) == "1 exited 0" and self.state(2) == "2 exited 0")
        empty, full, missing = self.ask(("read", "1 0 100"), ("read", "2 1 2"), ("read", "9 0 1"))
        self.assertEqual(empty, {"log": "\n", "size": "0\n"})
        self.assertEqual(full, {"log": "YmM=\n", "size": "4\n"})
        self.assertEqual(missing, {"log": "", "size": "-1\n"})


if __name__ == "__main__":
    unittest.main()
