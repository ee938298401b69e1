"""Fixtures of the tests that run real server processes."""

import pytest

from harness.servers import ServerProcess


@pytest.fixture
def start(tmp_path):
    """`start(async_mode="gevent", **settings)`: a `python server.py` with these settings, stopped after
    the test; it must not have logged a traceback."""
    started = []

    def start_server(async_mode="gevent", **settings):
        process = ServerProcess(tmp_path, async_mode, **settings)
        started.append(process.start())
        return process

    yield start_server
    for process in started:
        process.stop()
        assert "Traceback" not in process.log(), process.log()[-3000:]
