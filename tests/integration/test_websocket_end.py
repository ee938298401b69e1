"""When a WebSocket ends, its TCP connection ends too, under every documented way to serve:
nothing written after the closing frame is read as an HTTP request (behind nginx, that would
be a request nginx never saw), and clients' closing bytes are not logged as bad requests."""

import base64
import os
import socket

import pytest

from ensemble_client import EnsembleClient
from harness.servers import GunicornProcess, ServerProcess


@pytest.fixture(scope="module", params=["gevent", "eventlet", "threading", "gunicorn"])
def server(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("logs")
    process = GunicornProcess(folder) if request.param == "gunicorn" else ServerProcess(folder, async_mode=request.param)
    with process:
        yield process
    assert "Traceback" not in process.log(), process.log()


def test_python_socketio_clients_close_cleanly(server):
    # The first test on each server: the raw connections of the tests below end abruptly on
    # purpose, and eventlet logs its own double close of one of those a moment later
    # ("socket shutdown error"), which a test after them would find in its part of the log.
    before = server.log()
    for _ in range(5):
        client = EnsembleClient(server.url).connect()
        client.join("closing", "Ada")
        client.close()
    logged = server.log()[len(before):]
    assert "Invalid HTTP method" not in logged and "socket shutdown error" not in logged, logged


def masked_frame(opcode, payload):
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


def open_websocket(port):
    """A raw TCP connection that has done the Engine.IO WebSocket handshake."""
    link = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    link.sendall(
        (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += link.recv(4096)
    assert answer.startswith(b"HTTP/1.1 101 "), answer
    return link


def read_to_the_end(link):
    """Everything the server writes until it closes the connection (a reset counts as closed)."""
    received = b""
    while True:
        try:
            chunk = link.recv(4096)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


@pytest.mark.parametrize("together", [False, True], ids=["after-the-close-reply", "with-the-close-frame"])
def test_a_request_written_after_the_closing_frame_is_never_answered(server, together):
    link = open_websocket(server.port)
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    close = masked_frame(0x8, (1000).to_bytes(2, "big"))
    with link:
        if together:
            link.sendall(close + request)
        else:
            link.sendall(close)
            assert b"\x88\x02\x03\xe8" in read_until_close_frame(link)
            try:
                link.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                return  # already closed: nothing to answer it on
        assert b"HTTP/1.1" not in read_to_the_end(link)  # ended, not left waiting (the timeout is 5 s)


def read_until_close_frame(link):
    received = b""
    while b"\x88\x02" not in received:
        chunk = link.recv(4096)
        if not chunk:
            break
        received += chunk
    return received
