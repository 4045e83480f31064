"""A throwaway single-node Slurm cluster for tests, built from Debian's slurm-wlm + munge.

    with SlurmCluster() as cluster:
        subprocess.run([...snakemake --executor slurm...], env=cluster.env(), check=True)

Everything the cluster writes (config, state, spool, logs, munge socket and key) lives
in one temp dir, and the daemons listen on free ports, so a second run on the same
machine -- or a stale cluster left behind by a killed run -- cannot collide with this
one. Known-good settings are in /work/shared/notes/slurm.md.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PACKAGES = ["slurm-wlm", "munge"]
BINARIES = ["slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "munged"]
CLIENTS = ["sbatch", "srun", "squeue", "sinfo", "scontrol", "scancel", "sacct"]


class SlurmUnavailable(Exception):
    """Slurm cannot be installed on this machine (not root, no apt, apt failed); tests skip."""


def ensure_installed() -> None:
    """Install slurm-wlm and munge with apt-get unless their binaries are already there."""
    if all(shutil.which(b) for b in BINARIES):
        return
    # slurmd must run as root anyway, so a non-root machine cannot host the cluster.
    if os.geteuid() != 0:
        raise SlurmUnavailable("Slurm is not installed and installing it needs root")
    if not shutil.which("apt-get"):
        raise SlurmUnavailable("Slurm is not installed and apt-get is not available")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise SlurmUnavailable(f"`{' '.join(cmd)}` failed:\n{tail}")
    missing = [b for b in BINARIES if not shutil.which(b)]
    if missing:
        raise SlurmUnavailable(f"installed {PACKAGES} but still missing {missing}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_line() -> tuple[str, str]:
    """(node name, NodeName=... line) as slurmd itself sees this host."""
    out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("NodeName="))
    return line.split()[0].split("=", 1)[1], line


class SlurmCluster:
    """Context manager: install if needed, start munged + slurmctld + slurmd, wait for idle."""

    def __init__(self, start_timeout: float = 60.0, keep_dir: bool = False):
        self.start_timeout = start_timeout
        self.keep_dir = keep_dir
        self.procs: list[subprocess.Popen] = []
        self.root: Path | None = None

    # -- public -------------------------------------------------------------------------
    def env(self, base: dict | None = None) -> dict:
        """Environment for Slurm clients (sbatch, squeue, ...) and for Snakemake.

        SLURM_CONF alone is not enough: snakemake-executor-plugin-slurm-jobstep 0.6 drops
        every SLURM_* variable before its nested `srun`, which then finds no config (real
        clusters have /etc/slurm/slurm.conf). So the clients also come from a bin/ of
        wrappers that pin the config; PATH survives --export=ALL and the jobstep.
        """
        env = dict(base if base is not None else os.environ)
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
        env["SLURM_CONF"] = str(self.conf)
        return env

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, env=self.env(), capture_output=True, text=True, check=check)

    def logs(self, chars: int = 3000) -> str:
        """Tail of every daemon log, for failure messages."""
        parts = []
        for log in sorted(self.root.rglob("*.log")) if self.root else []:
            parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    # -- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> "SlurmCluster":
        ensure_installed()
        if os.geteuid() != 0:
            raise SlurmUnavailable("slurmd needs root to launch jobs")
        # /tmp-based and world-traversable: munged (running as munge) must reach its subdir.
        self.root = Path(tempfile.mkdtemp(prefix="slurm-test-"))
        self.root.chmod(0o755)
        try:
            self._start_munge()
            self._write_conf()
            self._write_client_wrappers()
            self._start_slurm()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        # Cancel jobs first: with proctrack/linuxproc, slurmstepd outlives a killed slurmd.
        if self.procs and self.root and (self.root / "slurm.conf").exists():
            jobs = self.run("squeue", "-h", "-o", "%A", check=False).stdout.split()
            if jobs:
                self.run("scancel", *jobs, check=False)
                time.sleep(1)
        for proc in reversed(self.procs):  # slurmd, slurmctld, munged
            _stop(proc)
        self.procs.clear()
        if self.root and not self.keep_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- internals ----------------------------------------------------------------------
    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    def _spawn(self, name: str, cmd: list[str], user: str | None = None) -> subprocess.Popen:
        # setsid: the daemon gets its own session, so a Ctrl-C aimed at pytest does not
        # reach it and teardown can kill its whole process group.
        log = open(self.root / "log" / f"{name}.out", "ab")
        # user=/group= make Popen exec the daemon itself as that user (no runuser wrapper),
        # so the PID we hold is the daemon's.
        ids = {}
        if user:
            pw = pwd.getpwnam(user)
            ids = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=self.env(), **ids,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def _start_munge(self) -> None:
        """A private munged (own key, socket and pid file) instead of the system one.

        This sidesteps an already-running system munged, stale /run/munge pid files, and a
        second test cluster killing the daemon this one relies on.
        """
        (self.root / "log").mkdir()
        mdir = self.root / "munge"
        mdir.mkdir(mode=0o700)
        key = mdir / "munge.key"
        key.write_bytes(os.urandom(128))
        key.chmod(0o400)
        munge = pwd.getpwnam("munge")
        for p in (mdir, key):
            os.chown(p, munge.pw_uid, munge.pw_gid)
        self.munge_socket = mdir / "munge.socket"
        self._spawn("munged", [
            "munged", "--foreground", "--force",
            f"--socket={self.munge_socket}", f"--key-file={key}",
            f"--pid-file={mdir / 'munged.pid'}", f"--seed-file={mdir / 'munged.seed'}",
            f"--log-file={mdir / 'munged.log'}",
        ], user="munge")
        self._wait("munged socket", lambda: self.munge_socket.exists())

    def _write_conf(self) -> None:
        node, node_line = _node_line()
        for d in ("state", "spool"):
            (self.root / d).mkdir()
        r = self.root
        self.node = node
        self.conf.write_text(f"""\
ClusterName=saetest
SlurmctldHost={node}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
# Containers have no usable cgroups: track processes by pid and do no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# No slurmdbd: sacct fails, so Snakemake must query status with squeue, and squeue must
# remember finished jobs long enough (MinJobAge > 3 x slurm-init-seconds-before-status-checks).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=3600
ReturnToService=2
MpiDefault=none
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/slurmctld.pid
SlurmdPidFile={r}/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
{node_line}
PartitionName=test Nodes={node} Default=YES MaxTime=INFINITE State=UP
""")

    def _write_client_wrappers(self) -> None:
        (self.root / "bin").mkdir()
        for tool in CLIENTS:
            wrapper = self.root / "bin" / tool
            real = shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin")
            wrapper.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {real} "$@"\n')
            wrapper.chmod(0o755)

    def _start_slurm(self) -> None:
        # -D: stay in the foreground so the PID we hold is the daemon; -i: ignore old state.
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf)])

        def idle() -> bool:
            out = self.run("sinfo", "-h", "-N", "-o", "%T", check=False).stdout.split()
            return out == ["idle"]

        self._wait("node idle in sinfo", idle)

    def _wait(self, what: str, ready) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [p.args for p in self.procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"daemon exited while waiting for {what}: {dead}\n{self.logs()}")
            time.sleep(0.5)
        raise RuntimeError(f"timed out after {self.start_timeout}s waiting for {what}\n{self.logs()}")


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the daemon's process group, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":  # manual smoke test: python tests/slurm_cluster.py
    t0 = time.monotonic()
    with SlurmCluster() as c:
        print(f"up in {time.monotonic() - t0:.1f}s at {c.root}")
        print(c.run("sinfo").stdout)
        print(c.run("srun", "hostname").stdout)
    print(f"torn down after {time.monotonic() - t0:.1f}s")
