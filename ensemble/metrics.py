"""What /metrics says, in the Prometheus text format: one registry per app, so
tests and several apps in one process never share counters."""

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .protocol import ERROR_CODES, ProtocolError


class Metrics:
    """Counters that handlers move, and gauges read from the registry at scrape time."""

    def __init__(self, rooms, events):
        self.registry = CollectorRegistry()
        self._known_events = set(events)
        self._events = Counter("ensemble_events", "Socket.IO events received, by name", ["event"], registry=self.registry)
        self._errors = Counter("ensemble_errors", "Events answered with an error, by code", ["code"], registry=self.registry)
        self._rate_limited = Counter("ensemble_rate_limited_events", "Events refused by a rate limit", registry=self.registry)
        self._connections = Gauge("ensemble_connections", "Socket.IO connections open on this process", registry=self.registry)
        self._sessions = Gauge("ensemble_sessions", "Engine.IO sessions open on this process, connected or not", registry=self.registry)
        self._malformed = Counter(
            "ensemble_malformed_packets", "Packets refused at decode, binary or text", ["kind"], registry=self.registry
        )
        self._dropped = Counter(
            "ensemble_dropped_sessions", "Sessions closed for malformed packets or for no Socket.IO connect in time", ["reason"],
            registry=self.registry,
        )
        for kind in ("binary", "text"):
            self._malformed.labels(kind)
        for reason in ("malformed", "no_connect"):
            self._dropped.labels(reason)
        for event in self._known_events | {"unknown"}:
            self._events.labels(event)
        for code in ERROR_CODES:
            self._errors.labels(code)
        self.registry.register(_RoomCollector(rooms))

    def event(self, name):
        # Event names come from clients: unknown ones share one label.
        self._events.labels(name if name in self._known_events else "unknown").inc()

    def error(self, code):
        self._errors.labels(code).inc()
        if code == "rate_limited":
            self._rate_limited.inc()

    def connected(self):
        self._connections.inc()

    def disconnected(self):
        self._connections.dec()

    def session_opened(self):
        self._sessions.inc()

    def session_closed(self):
        self._sessions.dec()

    def malformed(self, binary):
        self._malformed.labels("binary" if binary else "text").inc()

    def dropped(self, reason):
        self._dropped.labels(reason).inc()

    def watch_sfu(self, sfu):
        self.registry.register(_SfuCollector(sfu))

    def render(self):
        return generate_latest(self.registry)


class _SfuCollector:
    """Rooms on each Janus instance, whether it answers, tokens renewed, rooms moved off a failed one."""

    def __init__(self, sfu):
        self._sfu = sfu

    def collect(self):
        up = GaugeMetricFamily("ensemble_janus_up", "Whether a Janus instance answers this process's keep-alives", labels=["instance"])
        rooms = GaugeMetricFamily("ensemble_sfu_rooms", "Rooms placed on each Janus instance (every process's)", labels=["instance"])
        try:
            load = self._sfu.load()
        except ProtocolError:
            load = {}  # Redis is away: its own metric says so
        for url, answers in self._sfu.health().items():
            up.add_metric([url], int(answers))
            rooms.add_metric([url], load.get(url, 0))
        yield up
        yield rooms
        yield CounterMetricFamily("ensemble_sfu_token_renewals", "Janus tokens renewed over sfu-token", value=self._sfu.renewals)
        yield CounterMetricFamily("ensemble_sfu_rooms_moved", "Rooms this process moved off a Janus that stopped answering", value=self._sfu.moves)


class _RoomCollector:
    """Rooms, peers, the room store's errors and the other processes' heartbeats."""

    def __init__(self, rooms):
        self._rooms = rooms

    def collect(self):
        rooms, peers = self._rooms.served()
        yield GaugeMetricFamily("ensemble_rooms", "Rooms with members connected to this process", value=rooms)
        yield GaugeMetricFamily("ensemble_peers", "Room members connected to this process", value=peers)
        yield GaugeMetricFamily("ensemble_process_id", "This process's operating-system id", value=os.getpid())
        yield CounterMetricFamily("ensemble_redis_errors", "Redis operations that failed to reach Redis", value=self._rooms.store_errors())
        ages = GaugeMetricFamily(
            "ensemble_process_heartbeat_age_seconds", "Age of each other server process's last heartbeat in Redis", labels=["process"]
        )
        for process, age in sorted(self._rooms.others_alive().items()):
            ages.add_metric([process], age)
        yield ages
