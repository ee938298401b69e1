"""Stand-in room members for bench/signaling.py: many Socket.IO clients in one asyncio process.

Each `BenchPeer` is a real python-socketio `AsyncClient` over a WebSocket. It joins
its room (timed), learns the others from the join reply and `peer-joined`, and then
sends `signal` events to them in turn at a fixed rate, each acknowledged as the
browser asks for it. Every payload carries the sender's sequence number for that
receiver and the send time (`time.monotonic()`, one clock for every process on
the machine), so the receiver computes the relay latency and the counts show what
was lost.

`run_worker` drives the peers of some rooms through the phases the parent sets:
connect, join, wait for "go", send (warm-up, then the measured window), drain.
"""

import asyncio
import contextlib
import gc
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import socketio

# What a browser's signaling looks like: per pair an offer and an answer of a few
# KB, around it a handful of ICE candidates of a few hundred bytes. Two in ten
# messages here are SDP, the rest candidates.
SDP_BYTES = 4000
CANDIDATE_BYTES = 300
KINDS = ("offer", "candidate", "candidate", "candidate", "candidate",
         "answer", "candidate", "candidate", "candidate", "candidate")
CONNECTS_AT_ONCE = 20
ROSTER_TIMEOUT = 10.0
CALL_TIMEOUT = 10.0


def description_like(kind, size=SDP_BYTES):
    """An RTCSessionDescription-shaped object whose JSON is about `size` bytes."""
    lines = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
             "a=group:BUNDLE 0 1", "a=msid-semantic: WMS bench",
             "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101", "c=IN IP4 0.0.0.0",
             "a=ice-ufrag:Bx3q", "a=ice-pwd:0r9TfQ2bI5m0Qw7XkC2v1uJd",
             "a=fingerprint:sha-256 " + ":".join(f"{n:02X}" for n in range(32))]
    payload_type = 96
    while len(json.dumps({"type": kind, "sdp": "\r\n".join(lines)})) < size - 40:
        lines.append(f"a=rtpmap:{payload_type} VP8/90000")
        lines.append(f"a=rtcp-fb:{payload_type} nack pli")
        payload_type += 1
    return {"type": kind, "sdp": "\r\n".join(lines) + "\r\n"}


def candidate_like(size=CANDIDATE_BYTES):
    """An RTCIceCandidate-shaped object whose JSON is about `size` bytes."""
    text = ("candidate:3528925834 1 udp 1686052607 198.51.100.23 61524 typ srflx "
            "raddr 192.0.2.10 rport 61524 generation 0 ufrag Bx3q network-id 1 network-cost 10")
    data = {"candidate": text, "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "Bx3q"}
    data["candidate"] += " " * max(0, size - 40 - len(json.dumps(data)))
    return data


PAYLOADS = {"offer": description_like("offer"), "answer": description_like("answer"), "candidate": candidate_like()}


@dataclass(frozen=True)
class LoadPlan:
    """What one worker process drives; peer j of a room talks to urls[j % len(urls)]."""

    urls: tuple
    rooms: tuple
    peers_per_room: int
    rate: float  # signals a second per peer
    warmup: float
    seconds: float
    drain: float
    join_rate: float  # joins a second started by this worker
    seed: int = 1
    samples: bool = False  # keep every measured signal as (send time, latency, kind)
    forwarded: bool = False  # each peer says it comes from an address of its own (X-Forwarded-For)


@dataclass
class Tally:
    """Everything one worker measured; plain lists and numbers so it pickles."""

    join_ms: list = field(default_factory=list)
    relay_ms: list = field(default_factory=list)  # messages sent inside the window
    samples: list = field(default_factory=list)  # (send time, latency ms, kind) with LoadPlan.samples
    send_lag_ms: list = field(default_factory=list)  # how late the generator sent, against its schedule
    loop_lag_ms: list = field(default_factory=list)  # how late a 10 ms timer fired in the window: a busy generator
    sent: int = 0
    received: int = 0
    received_in_window: int = 0
    acked: int = 0
    errors: Counter = field(default_factory=Counter)  # error codes from replies and failures
    out_of_order: int = 0
    incomplete_rosters: int = 0
    peers: int = 0


class BenchPeer:
    def __init__(self, url, room, name, tally, http, keep_samples=False, address=None):
        self.url, self.room, self.name = url, room, name
        self._headers = {"X-Forwarded-For": address} if address else {}
        self.id = None
        self.others = []
        self._tally = tally
        self._keep_samples = keep_samples
        self._window = (0.0, 0.0)
        self._next_seq = Counter()
        self._last_seq = {}
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=http)
        self.sio.on("signal", self._on_signal)
        self.sio.on("peer-joined", self._on_peer_joined)
        self.sio.on("peer-left", self._on_peer_left)

    async def connect(self):
        await self.sio.connect(self.url, headers=self._headers, transports=["websocket"], wait_timeout=CALL_TIMEOUT)

    async def join(self):
        started = time.monotonic()
        reply = await self.sio.call("join", {"room": self.room, "name": self.name}, timeout=CALL_TIMEOUT)
        if not reply.get("ok"):
            raise RuntimeError(f"join {self.room}/{self.name}: {reply}")
        self._tally.join_ms.append((time.monotonic() - started) * 1000)
        self.id = reply["id"]
        self.others.extend(peer["id"] for peer in reply["peers"] if peer["id"] not in self.others)

    async def send(self, start, period, window):
        """Send one signal every `period` s from `start` until the window's end, to each other peer in turn."""
        self._window = window
        for count in range(int((window[1] - start) / period) + 1):
            due = start + count * period
            if due >= window[1]:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self.others:
                continue
            await self._send_one(count, due)

    async def _send_one(self, count, due):
        to = self.others[count % len(self.others)]
        kind = KINDS[count % len(KINDS)]
        now = time.monotonic()
        data = {**PAYLOADS[kind], "bench": {"seq": self._next_seq[to], "t": now}}
        self._next_seq[to] += 1
        self._tally.send_lag_ms.append((now - due) * 1000)
        self._tally.sent += 1
        await self.sio.emit("signal", {"to": to, "kind": kind, "data": data}, callback=self._on_ack)

    def _on_ack(self, reply=None):
        self._tally.acked += 1
        if not (isinstance(reply, dict) and reply.get("ok")):
            error = reply.get("error", {}) if isinstance(reply, dict) else {}
            self._tally.errors[error.get("code", "bad_reply")] += 1

    def _on_signal(self, message):
        now = time.monotonic()
        stamp = message["data"]["bench"]
        tally = self._tally
        tally.received += 1
        sender = message["from"]
        if stamp["seq"] != self._last_seq.get(sender, -1) + 1:
            tally.out_of_order += 1
        self._last_seq[sender] = stamp["seq"]
        if self._window[0] <= stamp["t"] < self._window[1]:
            tally.relay_ms.append((now - stamp["t"]) * 1000)
            if self._keep_samples:
                tally.samples.append((stamp["t"], (now - stamp["t"]) * 1000, message["kind"]))
        if self._window[0] <= now < self._window[1]:
            tally.received_in_window += 1

    def _on_peer_joined(self, peer):
        if peer["id"] not in self.others:
            self.others.append(peer["id"])

    def _on_peer_left(self, peer):
        if peer["id"] in self.others:
            self.others.remove(peer["id"])

    async def close(self):
        try:
            await asyncio.wait_for(self.sio.disconnect(), 2.0)
        except (TimeoutError, OSError):
            pass  # The run is over; a client slow to close changes no figure.


async def _connect_all(peers):
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def connect(peer):
        async with gate:
            await peer.connect()

    await asyncio.gather(*(connect(peer) for peer in peers))


async def _join_all(rooms, join_rate):
    """Rooms join side by side; inside a room one after the other, as people arrive."""
    started = time.monotonic()

    async def join_room(members, first_index):
        for offset, peer in enumerate(members):
            delay = started + (first_index + offset) / join_rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await peer.join()

    await asyncio.gather(*(join_room(members, i * len(members)) for i, members in enumerate(rooms)))


async def _until(condition, timeout, step=0.05):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(step)
    return condition()


async def _probe_loop(tally, window, step=0.01):
    """While the window lasts, how late a short sleep wakes up: whether this process kept up."""
    await asyncio.sleep(max(0.0, window[0] - time.monotonic()))
    while time.monotonic() < window[1]:
        asked = time.monotonic()
        await asyncio.sleep(step)
        tally.loop_lag_ms.append((time.monotonic() - asked - step) * 1000)


@contextlib.contextmanager
def _collector_paused():
    """No garbage-collector pauses in the generator while it measures: a full pass over
    400 clients stopped it for 50-80 ms, which added to the latency of whatever
    arrived meanwhile. The garbage of one run (tens of MB) waits until it is over."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def drive(plan, go):
    """All phases for the rooms of `plan`; `go()` waits for the parent and returns the start time."""
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        def address(r, j):
            number = r * plan.peers_per_room + j
            return f"10.{plan.seed}.{number // 256}.{number % 256}" if plan.forwarded else None

        rooms = [[BenchPeer(plan.urls[j % len(plan.urls)], room, f"p{j}", tally, http, plan.samples, address(r, j))
                  for j in range(plan.peers_per_room)] for r, room in enumerate(plan.rooms)]
        peers = [peer for members in rooms for peer in members]
        tally.peers = len(peers)
        try:
            await _connect_all(peers)
            await _join_all(rooms, plan.join_rate)
            def incomplete():
                return sum(len(peer.others) != plan.peers_per_room - 1 for peer in peers)

            await _until(lambda: not incomplete(), ROSTER_TIMEOUT)
            tally.incomplete_rosters = incomplete()
            start = await go(tally)
            window = (start + plan.warmup, start + plan.warmup + plan.seconds)
            period = 1.0 / plan.rate
            spread = random.Random(plan.seed)
            with _collector_paused():
                await asyncio.gather(_probe_loop(tally, window),
                                     *(peer.send(start + spread.uniform(0, period), period, window) for peer in peers))
                await _until(lambda: tally.received >= tally.sent and tally.acked >= tally.sent, plan.drain)
        finally:
            await asyncio.gather(*(peer.close() for peer in peers))
    return tally


def run_worker(plan, ready, go_event, start_time, results):
    """Process entry: report join figures on `ready`, wait for `go_event`, put the Tally on `results`."""

    async def go(tally):
        ready.put(("ready", len(tally.join_ms), tally.incomplete_rosters))
        if not await asyncio.to_thread(go_event.wait, 120):
            raise RuntimeError("no go from the parent within 120 s")
        return start_time.value

    try:
        tally = asyncio.run(drive(plan, go))
        results.put(("done", tally))
    except BaseException as error:  # The parent must hear of any failure, or it waits in vain.
        ready.put(("failed", repr(error)))
        results.put(("failed", repr(error)))
        raise
