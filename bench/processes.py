"""Child processes for benchmarks: servers and redis on free loopback ports, and their CPU and memory.

Every child runs in its own process group, writes its output to a log file in a
temporary folder, and is stopped (SIGTERM, then SIGKILL) by `stop()` or on leaving
a `with` block.
"""

import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.servers import free_port

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def accepts_connections(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Usage:
    """CPU seconds used so far and resident memory now, from /proc."""

    cpu_seconds: float
    rss_bytes: int

    @classmethod
    def of(cls, pid):
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            # The command name may hold spaces; fields after it are fixed.
            fields = stat.read().rsplit(")", 1)[1].split()
        user, system = int(fields[11]), int(fields[12])
        with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
        return cls((user + system) / CLOCK_TICKS, resident_pages * PAGE_BYTES)


def machine_busy_seconds():
    """CPU seconds all cores together have spent on anything but idling, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


class ChildProcess:
    """One command listening on `port`; started by `start()`, ready once the port accepts."""

    def __init__(self, name, command, port, *, cwd=None, env=None, start_timeout=15.0):
        self.name = name
        self.port = port
        self._command = command
        self._cwd = cwd
        self._env = env
        self._start_timeout = start_timeout
        self._process = None
        self.log_path = Path(tempfile.mkdtemp(prefix="ensemble-bench-")) / f"{name}.log"

    @property
    def pid(self):
        return self._process.pid

    def start(self):
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                self._command, cwd=self._cwd, env=self._env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + self._start_timeout
        while not accepts_connections(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not listen on {self.port} within {self._start_timeout} s")
            time.sleep(0.05)
        return self

    def usage(self):
        return Usage.of(self.pid)

    def log_tail(self, lines=20):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout=5.0):
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def python_server(name, script, python, *, cwd, settings):
    """`python <script>` with settings (HOST, PORT, ...) in its environment, on a free port."""
    port = free_port()
    env = {**os.environ, **{key: str(value) for key, value in settings.items()}, "HOST": HOST, "PORT": str(port)}
    env.pop("PYTHONPATH", None)
    return ChildProcess(name, [python, script], port, cwd=cwd, env=env)


def redis_server(name="redis"):
    """Debian's redis-server without persistence, on a free loopback port."""
    port = free_port()
    command = ["redis-server", "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no",
               "--protected-mode", "yes", "--loglevel", "warning"]
    return ChildProcess(name, command, port)
