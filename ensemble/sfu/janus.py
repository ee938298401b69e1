"""The server's own connection to one Janus: a WebSocket (Janus's `janus-protocol`), one
session with the VideoRoom plugin attached, requests answered one at a time.

Blocking, with a deadline on every read and write, so an instance that stops answering costs
a request `timeout` seconds and no more; the socket is the one gevent or eventlet patch. The
API secret goes with every request: browsers use signed tokens instead (tokens.py).
"""

import json
import secrets
import socket
import threading
import time
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage

VIDEOROOM = "janus.plugin.videoroom"
SUBPROTOCOL = "janus-protocol"


class JanusUnreachable(RuntimeError):
    """The instance did not answer (refused, closed, or silent past the timeout)."""


class JanusError(RuntimeError):
    """Janus or its VideoRoom answered with an error `code` (Janus's numbers)."""

    def __init__(self, code, reason):
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class WebSocketLink:
    """A text-only WebSocket client over one socket, every step within `timeout` seconds."""

    def __init__(self, url, subprotocol, timeout):
        parts = urlsplit(url)
        self._timeout = timeout
        self._socket = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._pending = []
        self._text = []
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        self._socket.sendall(self._ws.send(Request(host=host, target=parts.path or "/", subprotocols=[subprotocol])))
        self._wait(lambda event: isinstance(event, AcceptConnection), time.monotonic() + timeout)

    def send(self, text):
        self._socket.sendall(self._ws.send(TextMessage(data=text)))

    def receive(self, deadline):
        """The next whole text message, or JanusUnreachable past `deadline` (monotonic seconds)."""
        return self._wait(lambda event: False, deadline)

    def close(self):
        try:
            self._socket.close()
        except OSError:
            pass  # closing is all that is left to do with it

    def _wait(self, wanted, deadline):
        while True:
            while self._pending:
                event = self._pending.pop(0)
                if wanted(event):
                    return event
                message = self._handle(event)
                if message is not None:
                    return message
            self._read(deadline)

    def _handle(self, event):
        if isinstance(event, TextMessage):
            self._text.append(event.data)
            if event.message_finished:
                message, self._text = "".join(self._text), []
                return message
        elif isinstance(event, Ping):
            self._socket.sendall(self._ws.send(event.response()))
        elif isinstance(event, (CloseConnection, RejectConnection)):
            raise JanusUnreachable("the WebSocket was closed")
        return None

    def _read(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise JanusUnreachable(f"no answer within {self._timeout} s")
        self._socket.settimeout(left)
        try:
            data = self._socket.recv(65536)
        except OSError as error:  # socket.timeout is an OSError
            raise JanusUnreachable(str(error) or type(error).__name__) from None
        if not data:
            raise JanusUnreachable("the connection was closed")
        self._ws.receive_data(data)
        self._pending.extend(self._ws.events())


class JanusConnection:
    """One Janus instance as the server sees it: `videoroom(request)` sends a VideoRoom
    request and returns its answer's data; `keepalive()` proves the instance answers.
    Any failure closes the link; the next call opens a new one (and a new session).
    `sessions` counts the sessions opened: one more than before means the link was lost and
    made again, perhaps to a Janus that restarted and forgot its rooms."""

    def __init__(self, url, api_secret, timeout=3.0):
        self.url = url
        self._api_secret = api_secret
        self._timeout = timeout
        self._lock = threading.Lock()
        self._link = None
        self._session = None
        self._handle = None
        self.sessions = 0

    def videoroom(self, body):
        """The VideoRoom's answer to a synchronous request (create, destroy, kick, listparticipants…)."""
        with self._lock:
            self._open()
            reply = self._call({"janus": "message", "session_id": self._session, "handle_id": self._handle, "body": body})
        data = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(data["error_code"], data.get("error", ""))
        return data

    def keepalive(self):
        with self._lock:
            self._open()
            self._call({"janus": "keepalive", "session_id": self._session})

    def close(self):
        with self._lock:
            self._drop()

    def _open(self):
        if self._link is not None:
            return
        try:
            self._link = WebSocketLink(self.url, SUBPROTOCOL, self._timeout)
        except (OSError, JanusUnreachable) as error:
            raise JanusUnreachable(f"{self.url}: {error}") from None
        try:
            self._session = self._call({"janus": "create"})["data"]["id"]
            self._handle = self._call({"janus": "attach", "session_id": self._session, "plugin": VIDEOROOM})["data"]["id"]
        except JanusError:
            self._drop()
            raise
        self.sessions += 1

    def _call(self, message):
        """Send one request; its answer (events for other transactions are not ours: dropped)."""
        transaction = secrets.token_hex(8)
        try:
            self._link.send(json.dumps({**message, "transaction": transaction, "apisecret": self._api_secret}))
            deadline = time.monotonic() + self._timeout
            while True:
                reply = json.loads(self._link.receive(deadline))
                if reply.get("transaction") == transaction and not (reply.get("janus") == "ack" and message["janus"] == "message"):
                    break
        except (JanusUnreachable, OSError, ValueError) as error:
            self._drop()
            raise JanusUnreachable(f"{self.url}: {error}") from None
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(error.get("code", 0), error.get("reason", ""))
        return reply

    def _drop(self):
        if self._link is not None:
            self._link.close()
        self._link = self._session = self._handle = None
