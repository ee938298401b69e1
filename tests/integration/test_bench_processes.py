"""bench/ starts its servers with the harness's child process (harness/servers.py), not a copy of it."""

import json
import sys
import urllib.request

from bench.processes import RelayProcess, Usage, python_server, redis_server
from harness.servers import ROOT, RedisProcess, ServerProcess


def test_a_benchmarks_server_and_relay_are_the_harness_child_process_and_are_measured():
    settings = {"ASYNC_MODE": "gevent", "LOG_LEVEL": "WARNING", "CONNECTIONS_PER_IP": "7"}
    with redis_server() as redis, python_server("server.py", sys.executable, root=ROOT, settings=settings) as server:
        assert isinstance(redis, RedisProcess) and isinstance(server, ServerProcess)
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            assert json.load(response)["asyncMode"] == "gevent"
        usage = Usage.of(server.pid)
        assert usage.rss_bytes > 0 and usage.cpu_seconds > 0
    with python_server("bench/minimal_relay.py", sys.executable, root=ROOT, settings=settings) as relay:
        assert isinstance(relay, RelayProcess) and Usage.of(relay.pid).rss_bytes > 0
    assert "Traceback" not in server.log() + relay.log()
