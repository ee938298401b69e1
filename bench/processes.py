"""Child processes for benchmarks: servers and redis on free loopback ports (started and
stopped by harness.servers, their logs in a temporary folder), and their CPU and memory.
"""

import os
import socket
import tempfile
from dataclasses import dataclass

from harness.servers import RedisProcess, ServerProcess

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


class RelayProcess(ServerProcess):
    """bench/minimal_relay.py answers no /healthz: ready once its port accepts connections."""

    def answers(self):
        return accepts_connections(self.port)


def _log_folder():
    return tempfile.mkdtemp(prefix="ensemble-bench-")


def python_server(script, python, *, root, settings):
    """`python <script>` of the checkout at `root` (server.py, or bench/minimal_relay.py) with
    `settings` (upper-case names) in its environment, on a free port; harness.servers runs it.
    The per-address limits are the settings' own: a benchmark of the limits keeps their defaults."""
    settings = dict(settings)
    async_mode = settings.pop("ASYNC_MODE", "gevent")
    kind = RelayProcess if script.endswith("minimal_relay.py") else ServerProcess
    return kind(_log_folder(), async_mode, root=root, python=python, script=script, limits={}, **settings)


def redis_server():
    """Debian's redis-server without persistence, on a free loopback port (harness.servers)."""
    return RedisProcess(_log_folder())
