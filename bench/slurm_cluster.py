"""A throw-away one-node Slurm cluster on this machine, for `bench/run.sh --vs-slurm`.

Debian's slurm-wlm 22.05 and munge (bench/slurm/install.sh installs them). Everything lives
in a temporary folder: a MUNGE key and daemon on their own socket, slurm.conf, gres.conf
with 8 GPUs whose File= entries are fake character devices (`mknod c 195 N`: Slurm 22.05
drops GPUs without a file), and `SlurmdParameters=config_overrides` so the node may declare
more CPUs than this machine has (each one-GPU job takes one CPU; 2 real cores would
otherwise cap Slurm at 2 jobs). Daemons run in the foreground as our children; `close()`
stops each by pid, plus any slurmstepd that outlived its job.

    with SlurmCluster(tuned=True) as slurm:
        slurm.sbatch("--gres=gpu:1", "--wrap", "date +%s.%N > /tmp/x")
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from figures import rss_mib

GPUS = 8
PR_SET_CHILD_SUBREAPER = 36
CPUS = 64  # declared, beyond the real cores (config_overrides)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlurmCluster:
    def __init__(self, tuned=False):
        self.tuned = tuned
        self.dir = None
        self.procs = {}
        self.env = None
        self.started_at = None

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _write_config(self):
        d = self.dir
        host = socket.gethostname().split(".")[0]
        (d / "dev").mkdir()
        for i in range(GPUS):
            os.mknod(d / "dev" / ("nvidia%d" % i), 0o600 | 0o020000, os.makedev(195, i))
        for sub in ("state", "spool", "munge"):
            (d / sub).mkdir(mode=0o700)
        key = d / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        tuned = "SchedulerParameters=batch_sched_delay=0\n" if self.tuned else ""
        (d / "slurm.conf").write_text(
            "ClusterName=gpuqbench\n"
            "SlurmctldHost=%(host)s(127.0.0.1)\n"
            "SlurmctldPort=%(ctld_port)d\nSlurmdPort=%(slurmd_port)d\n"
            "AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket=%(d)s/munge/munge.sock\n"
            "SlurmUser=root\nSlurmdUser=root\n"
            "StateSaveLocation=%(d)s/state\nSlurmdSpoolDir=%(d)s/spool\n"
            "SlurmctldPidFile=%(d)s/slurmctld.pid\nSlurmdPidFile=%(d)s/slurmd.pid\n"
            "SlurmctldLogFile=%(d)s/slurmctld.log\nSlurmdLogFile=%(d)s/slurmd.log\n"
            "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nMpiDefault=none\n"
            "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
            "JobCompType=jobcomp/none\nReturnToService=2\n"
            "SchedulerType=sched/backfill\nSelectType=select/cons_tres\n"
            "SelectTypeParameters=CR_Core\nGresTypes=gpu\nSlurmdParameters=config_overrides\n"
            "MaxJobCount=20000\nMaxArraySize=20000\n"
            "%(tuned)s"
            "NodeName=%(host)s NodeAddr=127.0.0.1 CPUs=%(cpus)d RealMemory=4000 Gres=gpu:%(gpus)d "
            "State=UNKNOWN\n"
            "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n"
            % {"host": host, "d": d, "ctld_port": free_port(), "slurmd_port": free_port(),
               "tuned": tuned, "cpus": CPUS, "gpus": GPUS})
        (d / "gres.conf").write_text("NodeName=%s Name=gpu File=%s/dev/nvidia[0-%d]\n"
                                     % (host, d, GPUS - 1))
        self.env = dict(os.environ, SLURM_CONF=str(d / "slurm.conf"))

    def _spawn(self, name, args):
        log = open(self.dir / (name + ".out"), "ab")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env, start_new_session=True)
        log.close()

    def start(self):
        # slurmstepd daemonises; as a subreaper we become its parent when it does, so its
        # end is reaped here rather than left a zombie under an init that does not reap.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        self.started_at = time.time()
        self.dir = Path(tempfile.mkdtemp(prefix="gpuq-bench-slurm-"))
        self.dir.chmod(0o755)
        self._write_config()
        m = self.dir / "munge"
        self._spawn("munged", ["munged", "-F", "--force", "--socket=%s/munge.sock" % m,
                               "--key-file=%s/munge.key" % m, "--pid-file=%s/munged.pid" % m,
                               "--log-file=%s/munged.log" % m, "--seed-file=%s/munged.seed" % m])
        self._wait(lambda: (m / "munge.sock").exists(), 10, "munged socket")
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.dir / "slurm.conf")])
        self._wait(lambda: self.run("scontrol", "ping", check=False).returncode == 0, 30,
                   "slurmctld")
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.dir / "slurm.conf")])
        self._wait(lambda: self.node_state() == "idle", 30, "the node to be idle")

    def _wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError("%s exited with %d:\n%s" % (name, p.returncode, self.logs()))
            if time.monotonic() > deadline:
                raise RuntimeError("timed out waiting for %s:\n%s" % (what, self.logs()))
            time.sleep(0.1)

    def logs(self):
        out = []
        for f in sorted(self.dir.glob("*.out")) + sorted(self.dir.glob("*.log")) + \
                [self.dir / "munge" / "munged.log"]:
            if f.exists():
                out.append("== %s\n%s" % (f.name, f.read_text(errors="replace")[-2000:]))
        return "\n".join(out)

    def run(self, *args, check=True):
        r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=self.env, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout,
                                                         r.stderr))
        return r

    def node_state(self):
        return self.run("sinfo", "-h", "-o", "%t", check=False).stdout.strip().rstrip("*")

    def sbatch(self, *args):
        """Submits; returns the job id."""
        out = self.run("sbatch", "--parsable", "-o", "/dev/null", "-e", "/dev/null", *args).stdout
        return int(out.strip().split(";")[0])

    def queue_empty(self):
        return self.run("squeue", "-h", check=False).stdout.strip() == ""

    def ctld_rss_mib(self):
        return rss_mib(self.procs["slurmctld"].pid)

    def close(self):
        # slurmd first (it would re-register), then the controller, then MUNGE.
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self._stop_stray_stepds()
        self._reap()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _reap():
        """Collects the exit of every orphan that ended under us (see start())."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                time.sleep(0.05)

    def _stop_stray_stepds(self):
        """slurmstepd processes daemonise away from slurmd; any still here that read our
        config folder are ours: end them by pid."""
        if self.dir is None:
            return
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if (proc / "comm").read_text().strip() != "slurmstepd":
                    continue
                env = (proc / "environ").read_bytes()
            except OSError:
                continue
            if str(self.dir).encode() in env or b"SLURM_CONF=" + str(self.dir).encode() in env:
                try:
                    os.kill(int(proc.name), signal.SIGKILL)
                except OSError:
                    pass
