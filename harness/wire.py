"""Engine.IO and Socket.IO spoken by hand over a raw TCP socket, as an attacker would: frames
of any shape, binary or malformed, that no Socket.IO library would send."""

import base64
import json
import os
import socket
import urllib.error
import urllib.request

# WebSocket opcodes (RFC 6455).
TEXT, BINARY, CLOSE = 0x1, 0x2, 0x8


def masked_frame(opcode, payload):
    """One final client frame (clients must mask), of any length."""
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 1 << 16:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    mask = os.urandom(4)
    # XOR through integers: quick enough for frames of megabytes.
    repeated = (mask * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big") if length else b""
    return header + mask + masked


class RawSession:
    """One Engine.IO session over a WebSocket (`transport=websocket`), spoken frame by frame."""

    def __init__(self, port, host="127.0.0.1", source="127.0.0.1", timeout=5.0):
        self.link = socket.create_connection((host, port), timeout=timeout, source_address=(source, 0))
        key = base64.b64encode(os.urandom(16)).decode()
        self.link.sendall(
            (
                f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            chunk = self.link.recv(4096)
            if not chunk:
                break
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        self.opened = self.status == 101
        self.open_packet = json.loads(self.receive()[1:]) if self.opened else None

    def send_text(self, text):
        self.link.sendall(masked_frame(TEXT, text.encode()))

    def send_binary(self, data):
        self.link.sendall(masked_frame(BINARY, data))

    def receive(self):
        """The next text or binary message (str or bytes), None once the server closed."""
        while True:
            frame = self._frame()
            if frame is None or frame[0] == CLOSE:
                return None
            opcode, payload = frame
            if opcode == TEXT:
                text = payload.decode()
                if text == "2":  # Engine.IO ping: answer, as clients must
                    self.send_text("3")
                    continue
                return text
            if opcode == BINARY:
                return payload

    def closed(self):
        """Whether the server ends the connection, reading (and dropping) what comes before its end."""
        try:
            while self.receive() is not None:
                pass
        except (ConnectionResetError, BrokenPipeError):
            pass
        except TimeoutError:
            return False
        return True

    def close(self):
        self.link.close()

    def _frame(self):
        header = self._read(2)
        if header is None:
            return None
        length = header[1] & 0x7F
        if length == 126:
            length = int.from_bytes(self._read(2) or b"\0\0", "big")
        elif length == 127:
            length = int.from_bytes(self._read(8) or bytes(8), "big")
        payload = self._read(length) if length else b""
        return (header[0] & 0x0F, payload or b"")

    def _read(self, count):
        while len(self._buffer) < count:
            chunk = self.link.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def polling_handshake(url, source="127.0.0.1"):
    """(status, body) of an Engine.IO polling handshake, from `source` (a 127.0.0.x address)."""
    handler = _SourceAddressHandler(source)
    opener = urllib.request.build_opener(handler)
    try:
        with opener.open(url + "/socket.io/?EIO=4&transport=polling", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class _SourceAddressHandler(urllib.request.HTTPHandler):
    def __init__(self, source):
        super().__init__()
        self._source = source

    def http_open(self, request):
        import http.client

        source = self._source

        class Connection(http.client.HTTPConnection):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, source_address=(source, 0), **kwargs)

        return self.do_open(Connection, request)
