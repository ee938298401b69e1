"""Soak: a few hundred real Socket.IO clients join, signal, chat, edit scenes, change media and
leave (or drop) in churn for minutes, against one `python server.py` and against two sharing a
redis-server. Afterwards nothing is left behind (/healthz and /metrics say zero rooms, peers
and connections), each process's memory is within 10 % of what it was after warm-up, no client
saw an event from a room it was not in, and no event failed unexpectedly. (Memory is read
once the processes have handed freed memory back, which they do once a minute.)

Not part of `make test` (the `soak` marker is deselected by default): `make soak`, or

    .venv/bin/python -m pytest -m soak tests/integration/test_soak.py -s

SOAK_CLIENTS (240), SOAK_SECONDS (180) and SOAK_WARMUP (40) change its size; it prints its
figures (docs/benchmarks.md, "Soak").
"""

import asyncio
import json
import os
import random
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import pytest
import socketio

from ensemble_client import EnsembleClient
from harness.servers import RedisProcess, ServerProcess

pytestmark = pytest.mark.soak

CLIENTS = int(os.environ.get("SOAK_CLIENTS", "240"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "180"))
WARMUP = float(os.environ.get("SOAK_WARMUP", "40"))
ROOMS = max(1, CLIENTS // 4)  # about four to a room (at most MESH_MAX, 4 by default)
TIMEOUT = 15.0
SCENE = {"arrange": "row", "background": {"color": "#203040"}}
# Codes a correct client may be answered in churn: a room filled up, an edit crossed another,
# a peer left between being picked and being signalled, a burst went over the chat limit.
EXPECTED_CODES = {"room_full", "version_conflict", "unknown_peer", "rate_limited"}


@dataclass
class Figures:
    events: Counter = field(default_factory=Counter)  # what clients sent, by event
    codes: Counter = field(default_factory=Counter)  # error codes answered
    received: int = 0
    # (event, member id, the rooms the client was in or joining): checked once every join reply
    # is in, since a room hears `peer-joined` before the joiner has its reply.
    seen: list = field(default_factory=list)
    memberships: dict = field(default_factory=dict)  # member id -> its room, from join replies
    sessions: int = 0

    def foreign(self):
        """Events a client received from a room it was not in."""
        return [(event, who, self.memberships.get(who), rooms) for event, who, rooms in self.seen if self.memberships.get(who) not in rooms]


class SoakClient:
    """One person coming and going: join a room, act in it for a while, leave or drop, again."""

    def __init__(self, urls, number, figures, http):
        self._urls = urls
        self._number = number
        self._figures = figures
        self._http = http
        self._random = random.Random(number)
        self._rooms = set()  # the rooms whose events may arrive now (the current one, one being joined)
        self._roster = []
        self._version = 0

    async def run(self, until):
        while time.monotonic() < until:
            await self._session(until)

    async def _session(self, until):
        sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=self._http)
        sio.on("*", self._received)
        url = self._urls[self._random.randrange(len(self._urls))]
        await sio.connect(url, transports=["websocket"], wait_timeout=TIMEOUT)
        self._figures.sessions += 1
        try:
            if await self._join(sio):
                stay = time.monotonic() + self._random.uniform(2, 12)
                while time.monotonic() < min(stay, until):
                    await asyncio.sleep(self._random.uniform(0.4, 1.6))
                    await self._act(sio)
                if self._random.random() < 0.5:
                    await self._call(sio, "leave", {})
        finally:
            await sio.disconnect()  # events sent before the server heard of it may still come in
            self._rooms.clear()

    async def _join(self, sio):
        room = f"soak{self._random.randrange(ROOMS)}"
        self._rooms.add(room)
        reply = await self._call(sio, "join", {"room": room, "name": f"p{self._number}"})
        if not reply["ok"]:
            self._rooms.discard(room)
            return False
        self._figures.memberships[reply["id"]] = room
        self._roster = [peer["id"] for peer in reply["peers"]]
        self._version = reply["scene"]["version"]
        self._rooms = {room}
        return True

    async def _act(self, sio):
        action = self._random.choice(("signal", "signal", "chat", "scene", "media"))
        if action == "signal" and self._roster:
            to = self._random.choice(self._roster)
            await self._call(sio, "signal", {"to": to, "kind": "candidate", "data": {"candidate": "candidate:1 1 udp 1 x"}})
        elif action == "chat":
            await self._call(sio, "chat", {"text": f"hello from {self._number}"})
        elif action == "scene":
            reply = await self._call(sio, "scene", {"scene": SCENE, "version": self._version})
            self._version = reply.get("version", self._version)
        else:
            await self._call(sio, "media", {"audio": self._random.random() < 0.5, "video": True})

    async def _call(self, sio, event, payload):
        self._figures.events[event] += 1
        reply = await sio.call(event, payload, timeout=TIMEOUT)
        if not reply["ok"]:
            self._figures.codes[reply["error"]["code"]] += 1
        return reply

    async def _received(self, event, payload=None):
        self._figures.received += 1
        if event == "peer-joined":
            self._roster.append(payload["id"])
        elif event == "peer-left" and payload["id"] in self._roster:
            self._roster.remove(payload["id"])
        elif event == "scene":
            self._version = payload["version"]
        who = {"peer-joined": "id", "peer-left": "id", "media": "id", "signal": "from", "chat": "from", "scene": "by"}.get(event)
        if who is None:
            return
        self._figures.seen.append((event, payload[who], frozenset(self._rooms)))


async def churn(urls, seconds, figures):
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        until = time.monotonic() + seconds
        clients = [SoakClient(urls, number, figures, http) for number in range(CLIENTS)]

        async def start(client, delay):
            await asyncio.sleep(delay)  # spread the first connections over two seconds
            await client.run(until)

        await asyncio.gather(*(start(client, number * 2 / CLIENTS) for number, client in enumerate(clients)))


def health(server):
    with urllib.request.urlopen(server.url + "/healthz", timeout=10) as response:
        return json.load(response)


def connections(server):
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return float(next(line.split()[1] for line in lines if line.startswith("ensemble_connections ")))


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmRSS:")))


def settled(servers, timeout=30.0):
    """Wait until every process serves no room, peer or connection, and the empty rooms' grace
    is over; their memory (KiB) then."""
    deadline = time.monotonic() + timeout
    while True:
        states = [(health(server), connections(server)) for server in servers]
        if all(state["rooms"] == 0 and state["peers"] == 0 and open_now == 0 for state, open_now in states):
            break
        assert time.monotonic() < deadline, f"left behind after {timeout} s: {states}"
        time.sleep(0.5)
    # Empty rooms keep their chat and scene for ROOM_GRACE_SECONDS, by design; a join lets a
    # process forget the ones whose grace is over.
    time.sleep(GRACE + 0.5)
    for server in servers:
        with EnsembleClient(server.url) as probe:
            probe.join("soak-probe", "Probe")
    return [resident_kib(state["pid"]) for state, _ in states]


def back_within(servers, limits, timeout=150.0):
    """Memory (KiB) of each process once it is within its limit (they hand freed memory back
    once a minute: ensemble/process.py), or when `timeout` is over."""
    deadline = time.monotonic() + timeout
    while True:
        now = [resident_kib(health(server)["pid"]) for server in servers]
        if all(kib <= limit for kib, limit in zip(now, limits)) or time.monotonic() > deadline:
            return now
        time.sleep(1.0)


def soak(servers, label):
    urls = [server.url for server in servers]
    warm, figures = Figures(), Figures()
    asyncio.run(churn(urls, WARMUP, warm))
    after_warmup = settled(servers)
    started = time.monotonic()
    asyncio.run(churn(urls, SECONDS, figures))
    took = time.monotonic() - started
    at_end = settled(servers)
    released = back_within(servers, [1.10 * kib for kib in after_warmup])
    sent = sum(figures.events.values())
    print(
        f"\nsoak {label}: {CLIENTS} clients, {SECONDS:.0f} s (after {WARMUP:.0f} s of warm-up): {figures.sessions} sessions, "
        f"{sent} events sent ({sent / took:.0f}/s: {dict(figures.events)}), {figures.received} received "
        f"({len(figures.seen)} checked for their room); "
        f"answered {dict(figures.codes)}; memory (KiB) after warm-up {after_warmup}, at the end {at_end}, "
        f"then {released}"
    )
    for server in servers:
        assert "Traceback" not in server.log(), server.log()[-3000:]
    assert figures.foreign() == [], figures.foreign()[:10]
    assert warm.foreign() == [], warm.foreign()[:10]
    assert set(figures.codes) <= EXPECTED_CODES, figures.codes
    assert figures.events["join"] > CLIENTS and figures.events["signal"] > 0 and figures.events["scene"] > 0
    for before, after in zip(after_warmup, released):
        assert after <= 1.10 * before, (after_warmup, at_end, released)


GRACE = 2.0
QUIET = {"log_level": "WARNING", "room_grace_seconds": GRACE}


def test_soak_one_process(tmp_path):
    with ServerProcess(tmp_path, **QUIET) as server:
        soak([server], "one process, rooms in memory")


def test_soak_two_processes_with_redis(tmp_path):
    with RedisProcess(tmp_path) as redis:
        servers = [ServerProcess(tmp_path, redis_url=redis.url, **QUIET) for _ in range(2)]
        try:
            for server in servers:
                server.start()
            soak(servers, "two processes with Redis")
        finally:
            for server in servers:
                server.stop()
