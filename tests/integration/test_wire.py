"""What a stranger can send below the protocol, against `python server.py`, spoken by hand
(harness/wire.py): binary packets, malformed packets, Engine.IO sessions that never connect,
and log lines forged through logged fields. None of it may grow the process, fill its log, or
disturb another client."""

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ensemble_client import EnsembleClient
from harness.wire import RawSession, polling_handshake
from tests.waiting import eventually

# python-engineio's own logging says nothing at this level; every line is ours.
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


@pytest.fixture
def member(start):
    """A server and a member of a room on it, whose round trips the tests watch."""
    server = start()
    client = EnsembleClient(server.url).connect()
    client.join("bystanders", "Ada")
    yield server, client
    client.close()


def round_trip_works(client):
    return client.request("media", {"audio": True, "video": False}) == {"ok": True}


def metric(server, name, **labels):
    """The value of one /metrics sample (0 when absent)."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        text = response.read().decode()
    wanted = name + ("{" + ",".join(f'{key}="{value}"' for key, value in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def resident_kib(server):
    """The server's resident memory (VmRSS of /proc/<pid>/status), in KiB."""
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        pid = json.loads(response.read())["pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))


def connected_session(server, source="127.0.0.1"):
    """A raw session that has sent the Socket.IO CONNECT and had it accepted."""
    session = RawSession(server.port, source=source, timeout=3)
    session.send_text("40")
    reply = session.receive()
    assert reply and reply.startswith("40{"), reply
    return session


# --- binary packets ---------------------------------------------------------------------------

ATTACHMENT = bytes(200 * 1024)  # under the 256 KiB a message may have


def send_binary(server, connections, attachments):
    """`connections` sessions, each sending `attachments` binary messages (every other one after a
    BINARY_EVENT announcing a million); whether the server closed each, once sent."""
    sessions = [connected_session(server) for _ in range(connections)]
    for number, session in enumerate(sessions):
        try:
            if number % 2:
                session.send_text('451000000-["chat",{"_placeholder":true,"num":0}]')
            for _ in range(attachments):
                session.send_binary(ATTACHMENT)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed already: what is asked
    closed = []
    for session in sessions:
        session.link.settimeout(1)
        closed.append(session.closed())
    return sessions, closed


def test_binary_packets_are_refused_and_their_connection_closed_without_growing_the_server(member):
    server, bystander = member
    # What a session sent before it was closed has been read into the server (the WebSocket
    # library reads ahead, 12-16 MiB for this first burst); freed at its close, the memory
    # serves the next bursts.
    for session in send_binary(server, 20, 5)[0]:
        session.close()
    before = resident_kib(server)
    sessions, closed = send_binary(server, 20, 25)  # 100 MB
    grown_kib = resident_kib(server) - before
    for session in sessions:
        session.close()
    # Kept until now while the session lasted: 20 MiB for 20 MB sent.
    assert grown_kib < 8 * 1024, grown_kib
    assert all(closed), closed
    assert metric(server, "ensemble_malformed_packets_total", kind="binary") == 40
    assert round_trip_works(bystander)


# --- malformed packets ------------------------------------------------------------------------

MALFORMED = {
    "unfinished JSON": "42[",
    "nested 10,000 deep": "42" + "[" * 10_000 + "]" * 10_000,
    "an infinite number": '42["chat",{"text":1e999999}]',
    "a 5000-digit integer": '42["chat",' + "7" * 5000 + "]",
    "an event without a name": "42{}",
    "no packet type": "4x",
    "an empty message": "4",
    "a packet only servers send": '44{"message":"no"}',
}


def test_malformed_packets_write_one_short_line_each_and_close_the_connection_after_three(member):
    server, bystander = member
    before = server.log()
    for shape in MALFORMED.values():
        session = connected_session(server)
        for _ in range(3):
            session.send_text(shape)
        assert session.closed(), shape
        session.close()
    packets = 3 * len(MALFORMED)
    assert metric(server, "ensemble_malformed_packets_total", kind="text") == packets
    assert metric(server, "ensemble_dropped_sessions_total", reason="malformed") == len(MALFORMED)
    lines = server.log()[len(before):].splitlines()
    assert "Traceback" not in "\n".join(lines)
    # One line per packet, each short, until the log's limit for them (10 a minute).
    assert 1 <= len(lines) <= 10 < packets, lines
    assert all(LINE.match(line) and len(line) < 300 and "malformed packet" in line for line in lines), lines
    assert round_trip_works(bystander)


def test_each_malformed_packet_is_answered_with_an_error_naming_it(member):
    server, _ = member
    session = connected_session(server)
    session.send_text("42[")
    error = json.loads(session.receive()[2:])
    assert error == ["error", {"code": "bad_request", "message": "Malformed packet: not JSON.", "event": None}]
    session.close()


@pytest.mark.parametrize("frame", ["", "x", "bnot base64!"], ids=["empty", "no-type", "bad-base64"])
def test_an_undecodable_engine_io_packet_closes_its_websocket_with_one_line(member, frame):
    server, bystander = member
    before = server.log()
    with RawSession(server.port) as session:
        session.send_text(frame)
        assert session.closed()
    eventually(lambda: metric(server, "ensemble_malformed_packets_total", kind="text") == 1)
    lines = server.log()[len(before):].splitlines()
    assert len(lines) == 1 and "malformed packet" in lines[0] and len(lines[0]) < 300, lines
    assert round_trip_works(bystander)


def polled(server, sid, body):
    """The status of a long-polling POST of `body` to session `sid`."""
    request = urllib.request.Request(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize(
    "body", [b"\xff\xfe", b"x", b"4" + b"[" * 5000, b"2\x1ey\x1e4"], ids=["not-utf8", "no-type", "nested", "second-packet-bad"]
)
def test_an_undecodable_polling_payload_is_refused_with_one_line(member, body):
    """A long-polling POST python-engineio cannot decode: 400, one line, counted (python-engineio
    logged each with its traceback); the third closes the session."""
    server, bystander = member
    before = server.log()
    status, opened = polling_handshake(server.url)
    sid = json.loads(opened[1:])["sid"]
    assert [polled(server, sid, body) for _ in range(3)] == [400, 400, 400]
    eventually(lambda: metric(server, "ensemble_malformed_packets_total", kind="text") == 3)
    assert polled(server, sid, b"2") == 400  # closed: python-engineio knows the session no more
    lines = server.log()[len(before):].splitlines()
    assert len(lines) == 3 and all("malformed packet" in line and len(line) < 300 for line in lines), lines
    assert round_trip_works(bystander)


# --- Engine.IO sessions per address -----------------------------------------------------------


@pytest.mark.parametrize("async_mode", ["gevent", "eventlet", "threading"])
def test_engine_io_sessions_are_counted_per_address_at_the_handshake_and_timed_out_without_a_connect(start, async_mode):
    server = start(async_mode=async_mode, connections_per_ip=3, connect_timeout_seconds=2)
    address = "127.0.0.5"
    sessions = [RawSession(server.port, source=address, timeout=6) for _ in range(2)]
    assert polling_handshake(server.url, source=address)[0] == 200  # a third, by long-polling
    assert all(session.opened for session in sessions)
    refused = RawSession(server.port, source=address)
    assert refused.status == 429 and not refused.opened
    status, body = polling_handshake(server.url, source=address)
    assert status == 429, (status, body)
    assert json.loads(body) == {"ok": False, "error": {"code": "rate_limited", "message": "Too many connections from your address."}}
    # Another address is not held up.
    connected_session(server, source="127.0.0.2").close()
    # Sessions that never connect a namespace are closed after CONNECT_TIMEOUT_SECONDS, freeing their places.
    assert all(session.closed() for session in sessions)
    assert connected_session(server, source=address)
    eventually(lambda: metric(server, "ensemble_dropped_sessions_total", reason="no_connect") == 3)


def test_one_session_past_the_limit_hears_why_when_all_are_connected(start):
    """The page's connect_error {code: rate_limited} stays: a handshake past CONNECTIONS_PER_IP
    is let in while every session of the address is connected, and its CONNECT refused."""
    server = start(connections_per_ip=2)
    kept = [connected_session(server, source="127.0.0.6") for _ in range(2)]
    told = RawSession(server.port, source="127.0.0.6")
    told.send_text("40")
    assert json.loads(told.receive()[2:]) == {
        "message": "Too many connections from your address.",
        "data": {"code": "rate_limited", "message": "Too many connections from your address."},
    }
    assert RawSession(server.port, source="127.0.0.6").status == 429  # and no more than that one
    for session in (*kept, told):
        session.close()


# --- forged log lines -------------------------------------------------------------------------

FORGED = "\n2026-01-01 00:00:00,000 WARNING ensemble.views: forged"


def test_a_csp_report_and_an_event_name_cannot_forge_log_lines(start):
    server = start(events_per_second=1, event_burst=1, flood_strikes=1)
    report = {"csp-report": {"document-uri": "https://x/" + FORGED, "blocked-uri": "\r\u2028\x85\x1b[31mred"}}
    request = urllib.request.Request(
        server.url + "/api/csp-reports", data=json.dumps(report).encode(), headers={"Content-Type": "application/csp-report"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204
    flooder = EnsembleClient(server.url).connect()
    for _ in range(5):  # an unknown event, flooded until the server says so in its log
        if flooder.connected:
            flooder.send_without_ack("x" + FORGED, {})
    eventually(lambda: "flooding: disconnected" in server.log())
    flooder.close()
    log = server.log()
    assert "csp violation" in log
    assert not [line for line in log.splitlines() if "forged" in line and not LINE.match(line)]
    assert not [line for line in log.splitlines() if line.startswith("2026-01-01")]
    assert "\x1b" not in log and "\u2028" not in log and "\x85" not in log
    assert "document-uri=\"https://x/\\n2026-01-01 00:00:00,000 WARNING ensemble.views: forged\"" in log
