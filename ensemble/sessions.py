"""Engine.IO sessions, below the Socket.IO connections signaling.py handles.

A session is counted against its address from its handshake to its end (Guard.open_session),
so raw sessions that never connect a namespace cannot pile up: they are also closed after
CONNECT_TIMEOUT_SECONDS. What arrives on a session and is not a packet of this protocol
(binary packets and attachments, undecodable JSON, nesting past the decoder's depth, numbers
JSON cannot carry, packets only servers send) is refused at decode (MalformedPacket, raised by
the packet class): one short log line, a count in /metrics, an `error` event naming it, and the
session closed at once for binary data, after MALFORMED_PACKETS for the rest.
"""

import io
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from engineio import payload
from socketio import packet

from .protocol import ProtocolError
from .ratelimit import TokenBucket

log = logging.getLogger(__name__)
# Lines about malformed packets and closed sessions, per process and minute (each is counted in /metrics anyway).
LOG_LINES_PER_MINUTE = 10
# What a client may send: CONNECT, DISCONNECT, EVENT and the ACK of an event.
CLIENT_PACKETS = (packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK)
REFUSED_KEY = "ensemble.refused-session"
MAX_INTEGER_DIGITS = 100
# Where Flask-SocketIO serves Engine.IO (its default `path`).
ENGINE_IO_PATH = "/socket.io/"


class MalformedPacket(ValueError):
    """A message that is no packet of this protocol; `reason` says what it is, in a few words."""

    def __init__(self, reason, binary=False):
        super().__init__(reason)
        self.reason = reason
        self.binary = binary


def _no_constant(name):
    raise MalformedPacket(f"{name}, which is not JSON")


def _finite(text):
    number = float(text)
    if not math.isfinite(number):
        raise MalformedPacket("a number too large")
    return number


def _short_integer(text):
    if len(text) > MAX_INTEGER_DIGITS:
        raise MalformedPacket("a number too large")
    return int(text)


class StrictJson:
    """JSON with integers of at most 100 digits (as python-engineio's), and no NaN or infinite
    numbers: passed on to other clients, those would be written as `Infinity`, which browsers cannot parse."""

    dumps = staticmethod(json.dumps)

    @staticmethod
    def loads(text):
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_short_integer)


def refuse_binary(encoded):
    """Before decoding: binary Engine.IO messages and Socket.IO binary packets (which announce
    attachments to come) have no place in this protocol."""
    if not isinstance(encoded, str):
        raise MalformedPacket("binary data", binary=True)
    if encoded[:1] in (str(packet.BINARY_EVENT), str(packet.BINARY_ACK)):
        raise MalformedPacket("a binary packet", binary=True)


def decode_strictly(decode, encoded):
    """`decode(encoded)` (python-socketio's), any failure of it a MalformedPacket."""
    refuse_binary(encoded)
    if not encoded[:1].isdigit():
        raise MalformedPacket("no packet type")
    try:
        return decode(encoded)
    except MalformedPacket:
        raise
    except RecursionError:
        raise MalformedPacket("JSON nested too deep") from None
    except json.JSONDecodeError:
        raise MalformedPacket("not JSON") from None
    except (ValueError, TypeError, IndexError):
        raise MalformedPacket("undecodable") from None


def check_shape(decoded):
    """After decoding: a packet type clients send, and an event with its name first."""
    if decoded.packet_type not in CLIENT_PACKETS:
        raise MalformedPacket("a packet only servers send")
    if decoded.packet_type == packet.EVENT and not (
        isinstance(decoded.data, list) and decoded.data and isinstance(decoded.data[0], str)
    ):
        raise MalformedPacket("an event without a name")


@dataclass
class _Session:
    address: str
    malformed: int = 0


class Sessions:
    """Wraps python-socketio's Engine.IO handlers (connect, message, disconnect) of `socketio`'s server."""

    def __init__(self, socketio, guard, metrics, settings, clock=time.monotonic):
        self._socketio = socketio
        self._server = socketio.server
        self._eio = socketio.server.eio
        self._guard = guard
        self._metrics = metrics
        self._settings = settings
        self._clock = clock
        self._sessions = {}
        self._waiting = {}  # eio_sid -> when it must have connected a namespace, oldest first
        self._lock = threading.Lock()
        self._sweeping = False
        self._lines = TokenBucket(LOG_LINES_PER_MINUTE / 60, LOG_LINES_PER_MINUTE, clock)
        self._unlogged = 0
        handlers = self._eio.handlers
        self._open, self._receive, self._close = handlers["connect"], handlers["message"], handlers["disconnect"]
        self._eio.on("connect", self.on_open)
        self._eio.on("message", self.on_message)
        self._eio.on("disconnect", self.on_close)

    def wsgi(self, app):
        """`app` (python-engineio's, under Flask-SocketIO's), with two answers of its own:
        - a handshake refused by on_open is a 429 (python-engineio says 401), with the same body;
        - an Engine.IO packet a WebSocket cannot decode (empty, no type, bad base64) ends python-engineio's
          WebSocket loop with an exception, which the WSGI server would print with its traceback: it is
          a malformed packet like the others, its WebSocket over;
        - a long-polling POST it cannot decode (python-engineio would log its traceback) is a
          malformed packet of its session, answered 400 (see _refused_post).
        Flask-SocketIO hands python-engineio a copy of the environ: the list in it is the same."""

        def serve(environ, start_response):
            refusals = environ[REFUSED_KEY] = []

            def start(status, headers, *exc_info):
                if refusals and status.startswith("401"):
                    status = "429 TOO MANY REQUESTS"
                return start_response(status, headers, *exc_info)

            if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
                polling = environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").startswith(ENGINE_IO_PATH)
                refused = self._refused_post(environ) if polling else None
                if refused is not None:
                    start_response("400 BAD REQUEST", [("Content-Type", "text/plain")])
                    return [refused]
                return app(environ, start)
            try:
                return app(environ, start)
            except ValueError as undecodable:  # binascii.Error is one
                self._metrics.malformed(binary=False)
                self._log("malformed packet", address=environ.get("REMOTE_ADDR"), reason="undecodable Engine.IO packet",
                          error=type(undecodable).__name__, closed=True)
                return []

        return serve

    def _refused_post(self, environ):
        """The 400 answer's body for a long-polling POST python-engineio must not see, else None:
        - one to no open session: a session closed by _drop stays in python-engineio's table until
          its next request, and a POST then raises inside python-engineio (a 500 with a traceback);
        - one whose payload python-engineio cannot decode (not UTF-8, a packet without a type,
          nesting past the decoder's depth), a malformed packet of its session.
        The body, at most max_http_buffer_size (python-engineio refuses longer ones itself), is read
        here and put back for python-engineio."""
        eio_sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
        with self._lock:
            if eio_sid not in self._sessions:
                return b"No such session"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if length > self._eio.max_http_buffer_size:
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            payload.Payload(encoded_payload=body.decode())
        except (ValueError, RecursionError, IndexError):  # UnicodeDecodeError and binascii.Error are ValueErrors
            self._refuse(eio_sid, MalformedPacket("undecodable Engine.IO payload"), length)
            return b"Malformed packet"
        return None

    # --- the Engine.IO events -----------------------------------------------------------------

    def on_open(self, eio_sid, environ):
        """Count the session, or refuse the handshake (429, made so by `wsgi`)."""
        address = environ.get("REMOTE_ADDR") or ""
        try:
            self._guard.open_session(address)
        except ProtocolError as refused:
            self._metrics.error(refused.code)
            environ.get(REFUSED_KEY, []).append(refused)
            return refused.reply()
        with self._lock:
            self._sessions[eio_sid] = _Session(address)
            self._waiting[eio_sid] = self._clock() + self._settings.connect_timeout_seconds
            start_sweeping, self._sweeping = not self._sweeping, True
        self._metrics.session_opened()
        if start_sweeping:
            self._socketio.start_background_task(self._sweep)
        return self._open(eio_sid, environ)

    def on_message(self, eio_sid, data):
        try:
            return self._receive(eio_sid, data)
        except MalformedPacket as malformed:
            self._refuse(eio_sid, malformed, len(data))

    def on_close(self, eio_sid, reason):
        try:
            return self._close(eio_sid, reason)
        finally:
            with self._lock:
                session = self._sessions.pop(eio_sid, None)
                self._waiting.pop(eio_sid, None)
            if session is not None:
                self._guard.close_session(session.address)
                self._metrics.session_closed()

    # --- refusals -----------------------------------------------------------------------------

    def _refuse(self, eio_sid, malformed, size):
        """Count, log (within the limit), tell the client, and close the session once it has sent enough."""
        with self._lock:
            session = self._sessions.get(eio_sid)
            if session is None:
                return
            session.malformed += 1
            closing = malformed.binary or session.malformed >= self._settings.malformed_packets
        self._metrics.malformed(binary=malformed.binary)
        self._log("malformed packet", address=session.address, reason=malformed.reason, bytes=size, closed=closing or None)
        sid = self._server.manager.sid_from_eio_sid(eio_sid, "/")
        if sid is not None:
            error = ProtocolError("bad_request", f"Malformed packet: {malformed.reason}.").reply()["error"]
            self._server.emit("error", {**error, "event": None}, to=sid)
        if closing:
            self._drop(eio_sid, "malformed")

    def _drop(self, eio_sid, reason):
        """Close a session without waiting for its client to collect the CLOSE packet (a
        long-polling client that went away never would)."""
        self._metrics.dropped(reason)
        socket = self._eio.sockets.get(eio_sid)
        if socket is not None:
            socket.close(wait=False, reason=self._eio.reason.SERVER_DISCONNECT)

    def _sweep(self):
        """For as long as the server runs: close the sessions that did not connect a namespace in time."""
        every = min(1.0, self._settings.connect_timeout_seconds / 4)
        while True:
            self._socketio.sleep(every)
            for eio_sid, address in self._overdue():
                if self._server.manager.sid_from_eio_sid(eio_sid, "/") is None:
                    self._log("session closed: no Socket.IO connect in time", address=address)
                    self._drop(eio_sid, "no_connect")

    def _overdue(self):
        """(eio_sid, address) of the sessions past their connect deadline, each returned once.
        All have the same timeout, so the oldest deadlines come first."""
        now = self._clock()
        overdue = []
        with self._lock:
            for eio_sid, deadline in self._waiting.items():
                if deadline > now:
                    break
                overdue.append((eio_sid, self._sessions[eio_sid].address))
            for eio_sid, _ in overdue:
                del self._waiting[eio_sid]
        return overdue

    def _log(self, message, **fields):
        """One line, while the process's allowance for such lines lasts; the next line allowed says how many were not written."""
        with self._lock:
            if not self._lines.take():
                self._unlogged += 1
                return
            unlogged, self._unlogged = self._unlogged, 0
        log.warning(message, extra={"fields": {**fields, "unlogged": unlogged or None}})
