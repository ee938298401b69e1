"""A small synchronous client for the Ensemble protocol (tests, bots, benchmarks).

It lives beside the server package, not in it: the server never imports it,
and tests and benchmarks import it alike (`from ensemble_client import EnsembleClient`).

    client = EnsembleClient("http://127.0.0.1:5000")
    client.join("standup", "Ada")
    client.chat("hello")
    message = client.wait_for("chat")
"""

import functools
import os
import select
import ssl
import threading
import time

import socketio


class ProtocolReplyError(Exception):
    """The server answered an event with `{ok: false}`."""

    def __init__(self, event, reply):
        self.event = event
        self.reply = reply
        self.code = reply["error"]["code"]
        super().__init__(f"{event}: {self.code}: {reply['error']['message']}")


class _OneCallAtATimeSSLSocket(ssl.SSLSocket):
    """An SSL socket that two threads may use at once: python-engineio's client reads in one
    thread and writes in another, and OpenSSL forbids concurrent calls on one SSL object
    (Python does not lock it). A read that finds no data while the other thread writes can
    end as `SSL_ERROR_SYSCALL`, which the ssl module reports as an EOF (`suppress_ragged_eofs`:
    b""): the client drops a sound connection, mostly its Socket.IO CONNECT just sent.
    Here each OpenSSL call holds a lock, the OS socket stays non-blocking, and the waits
    for the socket happen outside the lock."""

    _lock = None
    _timeout = None

    def _after_handshake(self):
        self._timeout = self.gettimeout()
        self._lock = threading.Lock()
        super().settimeout(0)

    def settimeout(self, value):
        if self._lock is None:
            super().settimeout(value)
        else:
            self._timeout = value

    def gettimeout(self):
        return super().gettimeout() if self._lock is None else self._timeout

    def _one_at_a_time(self, attempt):
        if self._lock is None:
            return attempt()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            with self._lock:
                try:
                    return attempt()
                except ssl.SSLWantReadError:
                    wanted = select.POLLIN
                except ssl.SSLWantWriteError:
                    wanted = select.POLLOUT
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError("timed out")
            poller = select.poll()  # not select(): it fails on descriptors past 1023
            poller.register(self, wanted)
            poller.poll(None if remaining is None else remaining * 1000)

    def read(self, len=1024, buffer=None):
        return self._one_at_a_time(lambda: super(_OneCallAtATimeSSLSocket, self).read(len, buffer))

    def send(self, data, flags=0):
        return self._one_at_a_time(lambda: super(_OneCallAtATimeSSLSocket, self).send(data, flags))


class _OneCallAtATimeContext(ssl.SSLContext):
    def wrap_socket(self, *args, **kwargs):
        wrapped = super().wrap_socket(*args, **kwargs)
        wrapped._after_handshake()
        return wrapped


_OneCallAtATimeContext.sslsocket_class = _OneCallAtATimeSSLSocket


def _websocket_tls_context():
    """The TLS settings websocket-client would use (its WEBSOCKET_CLIENT_CA_BUNDLE included),
    with sockets that serialize their OpenSSL calls."""
    context = _OneCallAtATimeContext(ssl.PROTOCOL_TLS_CLIENT)
    bundle = os.environ.get("WEBSOCKET_CLIENT_CA_BUNDLE")
    if bundle and os.path.isfile(bundle):
        context.load_verify_locations(cafile=bundle)
    elif bundle and os.path.isdir(bundle):
        context.load_verify_locations(capath=bundle)
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return context


class EnsembleClient:
    def __init__(self, url, timeout=5.0, transports=("websocket",), headers=None):
        """`headers`: extra HTTP headers of the handshake (Origin, X-Forwarded-For… in tests)."""
        self.url = url
        self.timeout = timeout
        self.token = None
        self._headers = dict(headers or {})
        # websocket-client sends an Origin of its own unless given one this way.
        origin = self._headers.pop("Origin", None)
        websocket_options = {"origin": origin} if origin else {}
        if url.startswith("https://"):
            websocket_options["sslopt"] = {"context": _websocket_tls_context()}
        self.id = None
        self.name = None
        self.room = None
        self._transports = list(transports)
        self._received = []
        self._listeners = {}
        self._arrived = threading.Condition()
        self._sio = socketio.Client(reconnection=False, websocket_extra_options=websocket_options)
        self._sio.on("*", self._record)
        self._sio.on("connect_error", self._refused)
        # Why the server refused the connection (its `{code, message}`), if it did.
        self.refusal = None

    # --- connection ---------------------------------------------------------

    def connect(self):
        self._sio.connect(self.url, headers=self._headers, transports=self._transports, wait_timeout=self.timeout)
        return self

    def close(self):
        ws = getattr(self._sio.eio, "ws", None)
        if ws is not None:
            # websocket-client waits 3 s for a second close frame that the read loop
            # has already consumed; the Socket.IO goodbye is sent before this wait.
            ws.close = functools.partial(ws.close, timeout=0.1)
        self._sio.disconnect()

    @property
    def connected(self):
        return self._sio.connected

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc):
        self.close()

    # --- events -------------------------------------------------------------

    def call(self, event, payload=None):
        """Send an event and return the server's reply, whatever it says."""
        return self._sio.call(event, payload, timeout=self.timeout)

    def request(self, event, payload=None):
        """Send an event; return the reply when ok, raise ProtocolReplyError otherwise."""
        reply = self.call(event, payload)
        if not reply.get("ok"):
            raise ProtocolReplyError(event, reply)
        return reply

    def send_without_ack(self, event, payload=None):
        self._sio.emit(event, payload)

    def join(self, room, name, password=None, media=None):
        payload = {"room": room, "name": name}
        if password is not None:
            payload["password"] = password
        if media is not None:
            payload["media"] = media
        reply = self.request("join", payload)
        self.id, self.name, self.room, self.token = reply["id"], reply["name"], reply["room"], reply["token"]
        return reply

    @property
    def member_header(self):
        """The HTTP header that proves this client's membership (uploads, TURN credentials)."""
        return {"X-Ensemble-Member": f"{self.id}:{self.token}"}

    def leave(self):
        reply = self.request("leave", {})
        self.id = self.room = None
        return reply

    def signal(self, to, kind, data):
        return self.request("signal", {"to": to, "kind": kind, "data": data})

    def chat(self, text):
        return self.request("chat", {"text": text})["message"]

    def media(self, audio, video):
        return self.request("media", {"audio": audio, "video": video})

    def scene(self, scene, version):
        return self.request("scene", {"scene": scene, "version": version})["version"]

    # --- what arrived -------------------------------------------------------

    def received(self, event=None):
        """Payloads received so far, oldest first, of one event or of all as (event, payload)."""
        with self._arrived:
            if event is None:
                return list(self._received)
            return [payload for name, payload in self._received if name == event]

    def wait_for(self, event, match=None, timeout=None):
        """The first payload of `event` (satisfying `match`), waiting up to `timeout` seconds."""
        return self.wait_for_count(event, 1, match, timeout)[0]

    def wait_for_count(self, event, count, match=None, timeout=None):
        """The first `count` payloads of `event` (satisfying `match`), waiting for them to arrive."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self._arrived:
            while True:
                found = [p for name, p in self._received if name == event and (match is None or match(p))]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(found)} of {count} {event!r} events within the timeout")
                self._arrived.wait(remaining)

    def on(self, event, listener):
        """Call `listener(payload)` for each `event` from now on (on the client's own thread),
        besides recording it."""
        self._listeners.setdefault(event, []).append(listener)

    def forget_received(self):
        with self._arrived:
            self._received.clear()

    def _refused(self, data=None):
        self.refusal = data

    def _record(self, event, payload=None):
        with self._arrived:
            self._received.append((event, payload))
            self._arrived.notify_all()
        for listener in self._listeners.get(event, []):
            listener(payload)
