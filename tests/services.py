"""Services started for the cluster tests and benchmarks (tests/test_cluster.py, bench/cluster.py): a throw-away
PostgreSQL and a local Ray head, each stopped by whoever started it."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else (shutil.which(name) or name)


class Postgres:
    """A PostgreSQL cluster in a temp dir on 127.0.0.1 (as user `postgres` when run as root: postgres refuses root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="hoidap-pg-"))
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.dir / "data"), "-A", "trust", "-U", "hoidap", "-E", "UTF8",
                  "--no-sync")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "hoidap", "hoidap")
        self.url = f"postgresql://hoidap@127.0.0.1:{self.port}/hoidap"

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, timeout=120)

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


class RayHead:
    """A local Ray head (`ray start --head --block`, a small object store) in its own process group, stopped by
    ending that group (not `ray stop`, which would stop every Ray cluster of the machine)."""

    def __init__(self, num_cpus: int = 2):
        port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="hdray-")  # short: Ray's socket paths must fit 107 characters
        ray = str(Path(sys.executable).parent / "ray")
        self.proc = subprocess.Popen(
            [ray, "start", "--head", "--block", f"--port={port}", f"--num-cpus={num_cpus}",
             "--object-store-memory=100000000", "--include-dashboard=false", "--disable-usage-stats",
             f"--temp-dir={self.tmp}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.address = f"127.0.0.1:{port}"
        deadline = time.time() + 90
        while subprocess.run([ray, "health-check", "--address", self.address], capture_output=True).returncode:
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("the Ray head did not start")
            time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM to the group (`ray start --block` stops its processes), then SIGKILL to whatever is left."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)
