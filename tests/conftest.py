from collections import defaultdict

import pytest

from ensemble import create_app
from ensemble.settings import load_settings
from ensemble_client import EnsembleClient
from harness.servers import RedisProcess, ServerProcess

# Seconds each test file took (setup, call and teardown of its tests), for the run's last lines.
SECONDS_PER_FILE = defaultdict(float)


def pytest_runtest_logreport(report):
    SECONDS_PER_FILE[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    """How long each test file took, the slowest first: where the suite's time goes."""
    if not SECONDS_PER_FILE:
        return
    terminalreporter.write_sep("=", "seconds per test file")
    for path, seconds in sorted(SECONDS_PER_FILE.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")


def make_settings(**changes):
    """Settings from config/defaults.env alone (no developer .env), threaded, with changes."""
    return load_settings(environ={}, dotenv_path=None, async_mode="threading", **changes)


class Clock:
    """A clock the test moves by setting `now`."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def settings(tmp_path):
    return make_settings(upload_folder=str(tmp_path / "uploads"))


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def connect(app):
    """Open Flask-SocketIO test clients on the app; all are closed after the test."""
    socketio = app.extensions["socketio"]
    clients = []

    def open_client():
        client = socketio.test_client(app)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        if client.is_connected():
            client.disconnect()


@pytest.fixture
def joined(connect):
    """Connect a test client and join it to a room; returns (client, join reply)."""

    def join(room="standup", name="Ada", **extra):
        client = connect()
        reply = client.emit("join", {"room": room, "name": name, **extra}, callback=True)
        assert reply["ok"], reply
        client.get_received()  # start each test from a quiet inbox
        return client, reply

    return join


@pytest.fixture
def connect_client():
    """`connect_client(url)`: a real Socket.IO client connected to `url`; all are closed after the test."""
    opened = []

    def connect(url):
        client = EnsembleClient(url).connect()
        opened.append(client)
        return client

    yield connect
    for client in opened:
        if client.connected:
            client.close()


@pytest.fixture(scope="module")
def redis_servers(tmp_path_factory, own_redis):
    """`redis_servers(n, **settings)`: n `python server.py` processes sharing `own_redis`, for the
    module; stopped after it, and none may have logged a traceback."""
    started = []

    def start(count, **settings):
        folder = tmp_path_factory.mktemp("servers")
        processes = [ServerProcess(folder, redis_url=own_redis.url, **settings) for _ in range(count)]
        for process in processes:
            started.append(process.start())
        return processes

    yield start
    for process in started:
        process.stop()
    for process in started:
        assert "Traceback" not in process.log(), process.log()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    """A redis-server for one test module, which it may stop, restart or empty."""
    with RedisProcess(tmp_path_factory.mktemp("redis")) as process:
        yield process


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session; tests keep apart by key prefix or by database."""
    with RedisProcess(tmp_path_factory.mktemp("redis")) as process:
        yield process
