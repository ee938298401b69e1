"""Limits per client address, so that reconnecting does not reset them (the per-connection
buckets live in signaling.Connection): connections, joins, wrong passwords and uploads.
An IPv6 address counts as its /64 (limiting_key).

A wrong password costs the address that sent it, never the room: its next join waits
twice as long as after the one before, up to a lockout. One Guard per process, so with
several processes each counts what reaches it, except wrong passwords: with rooms in
Redis those are counted there (rooms/redis.py SharedLockouts), so spreading guesses over
the processes gains a guesser nothing. Entries of addresses and members that have gone
quiet are forgotten as the tables grow, so a stream of new addresses does not grow the
process.
"""

import ipaddress
import logging
import math
import threading
import time
from typing import NamedTuple

from .protocol import ProtocolError
from .ratelimit import TokenBucket

log = logging.getLogger(__name__)

# A table is swept of idle entries whenever it has grown by this many since its last sweep.
SWEEP_EVERY = 1000
# CSP reports logged per address and minute (a page that breaks the policy sends one per blocked thing).
REPORTS_PER_MINUTE = 30


class _Buckets:
    """One token bucket per key, made on first use; full buckets (idle keys) are dropped in sweeps."""

    def __init__(self, per_minute, clock):
        self._rate = per_minute / 60
        self._burst = per_minute
        self._clock = clock
        self._buckets = {}
        self._swept_at = 0

    def take(self, key):
        bucket = self._buckets.get(key)
        if bucket is None:
            self._sweep()
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
        return bucket.take()

    def __len__(self):
        return len(self._buckets)

    def _sweep(self):
        if len(self._buckets) < self._swept_at + SWEEP_EVERY:
            return
        self._buckets = {key: bucket for key, bucket in self._buckets.items() if not bucket.full()}
        self._swept_at = len(self._buckets)


class Penalty(NamedTuple):
    """What one more wrong password cost its key: the failures counted, the seconds its next
    attempt must wait, and whether that wait is the lockout (the limit was reached)."""

    count: int
    seconds: float
    locked: bool


def penalty(count, limit, base_seconds, lock_seconds):
    """The `count`-th failure waits base × 2^(count−1) seconds, never more than the lockout,
    which the limit-th starts."""
    if count >= limit:
        return Penalty(count, lock_seconds, True)
    return Penalty(count, min(base_seconds * 2 ** min(count - 1, 64), lock_seconds), False)


class Lockouts:
    """Failures per key: each makes the key's next attempt wait twice as long as the one before,
    and `limit` of them lock it for `lock_seconds`. A key's failures are forgotten
    `lock_seconds` after its last one."""

    def __init__(self, limit, base_seconds, lock_seconds, clock):
        self._limit = limit
        self._base = base_seconds
        self._lock_seconds = lock_seconds
        self._clock = clock
        self._failures = {}  # key -> (count, last failure, may try again at)
        self._swept_at = 0
        self._lock = threading.Lock()

    def wait(self, key):
        """Seconds until `key` may try again (0: now)."""
        with self._lock:
            entry = self._current(key)
            return 0 if entry is None else max(0, entry[2] - self._clock())

    def fail(self, key):
        with self._lock:
            count = (self._current(key) or (0,))[0] + 1
            now = self._clock()
            cost = penalty(count, self._limit, self._base, self._lock_seconds)
            self._sweep()
            self._failures[key] = (count, now, now + cost.seconds)
            return cost

    def __len__(self):
        with self._lock:
            return len(self._failures)

    def _current(self, key):
        entry = self._failures.get(key)
        if entry is not None and self._clock() - entry[1] >= self._lock_seconds:
            del self._failures[key]
            return None
        return entry

    def _sweep(self):
        if len(self._failures) < self._swept_at + SWEEP_EVERY:
            return
        now = self._clock()
        self._failures = {key: entry for key, entry in self._failures.items() if now - entry[1] < self._lock_seconds}
        self._swept_at = len(self._failures)


class Guard:
    """Every check raises ProtocolError("rate_limited") when its limit is reached. Addresses
    are counted by limiting_key: an IPv6 /64 is one."""

    def __init__(self, settings, clock=time.monotonic, lockouts=None):
        """`lockouts(table, limit, base, lock)` makes the wrong-password table (default: Lockouts in this process)."""
        lockouts = lockouts or (lambda table, limit, base, lock: Lockouts(limit, base, lock, clock))
        self._settings = settings
        self._lock = threading.Lock()
        self._connections = {}
        self._sessions = {}  # Engine.IO sessions per address, Socket.IO connections or not
        self._joins = _Buckets(settings.joins_per_ip_per_minute, clock)
        self._uploads_by_address = _Buckets(settings.uploads_per_ip_per_minute, clock)
        self._uploads_by_member = _Buckets(settings.uploads_per_minute, clock)
        self._reports = _Buckets(REPORTS_PER_MINUTE, clock)
        self._turn = _Buckets(settings.turn_credentials_per_ip_per_minute, clock)
        self._guesses_by_address = lockouts(
            "address", settings.wrong_passwords_per_ip, settings.wrong_password_delay_seconds, settings.password_lockout_seconds
        )

    # --- connections ----------------------------------------------------------------

    def connect(self, address):
        """Count a connection from `address`, or refuse it past CONNECTIONS_PER_IP."""
        address = limiting_key(address)
        with self._lock:
            open_now = self._connections.get(address, 0)
            if open_now >= self._settings.connections_per_ip:
                raise ProtocolError("rate_limited", "Too many connections from your address.")
            self._connections[address] = open_now + 1

    def disconnect(self, address):
        address = limiting_key(address)
        with self._lock:
            self._release(self._connections, address)

    def open_session(self, address):
        """Count an Engine.IO session (a handshake) from `address`, or refuse it past CONNECTIONS_PER_IP
        sessions. One more is let in while every session of the address is a Socket.IO connection:
        its connect is then refused with the reason (`connect_error`, see connect), which a
        refused handshake cannot carry to a page."""
        address = limiting_key(address)
        with self._lock:
            sessions = self._sessions.get(address, 0)
            all_connected = sessions <= self._connections.get(address, 0)
            if sessions >= self._settings.connections_per_ip + (1 if all_connected else 0):
                raise ProtocolError("rate_limited", "Too many connections from your address.")
            self._sessions[address] = sessions + 1

    def close_session(self, address):
        address = limiting_key(address)
        with self._lock:
            self._release(self._sessions, address)

    @staticmethod
    def _release(counts, address):
        left = counts.get(address, 0) - 1
        if left > 0:
            counts[address] = left
        else:
            counts.pop(address, None)

    # --- joins and passwords ----------------------------------------------------------

    def join(self, address, room, member=False):
        """Before a join: refuse one past JOINS_PER_IP_PER_MINUTE, or while the address still
        pays for its wrong passwords (`retryAfter`: the seconds left). Guessing costs the
        guesser only: a room is never locked, and a `member` (one that proved its membership
        of the room: a rejoin with its token) is never held up."""
        key = limiting_key(address)
        # The lockout table keeps its own consistency (a lock in memory, a script in Redis),
        # so a Redis round trip does not hold up every other check of this process.
        wait = 0 if member else self._guesses_by_address.wait(key)
        if wait > 0:
            seconds = max(0.001, round(wait, 3))
            raise ProtocolError("rate_limited", f"Too many wrong passwords; try again in {math.ceil(seconds)} s.", retryAfter=seconds)
        with self._lock:
            if not self._joins.take(key):
                raise ProtocolError("rate_limited", "Too many joins from your address; wait a minute.")

    def wrong_password(self, address, room):
        """Make the address pay for a wrong password into `room`: its next join waits."""
        key = limiting_key(address)
        cost = self._guesses_by_address.fail(key)
        if cost.locked:
            log.warning("password lockout", extra={"fields": {"key": key, "room": room, "failures": cost.count, "seconds": cost.seconds}})

    # --- uploads ------------------------------------------------------------------------

    def upload(self, address, member):
        key = limiting_key(address)
        with self._lock:
            if not self._uploads_by_address.take(key) or not self._uploads_by_member.take(member):
                raise ProtocolError("rate_limited", "Too many uploads; wait a minute.")

    def turn(self, address):
        """Whether `address` may be handed TURN credentials now (TURN_CREDENTIALS_PER_IP_PER_MINUTE:
        joins, renewals and /api/ice-servers together). Not an error: a member past it is
        answered without TURN, and asks again later."""
        key = limiting_key(address)
        with self._lock:
            return self._turn.take(key)

    def report(self, address):
        """A CSP report: a few a minute per address reach the log."""
        key = limiting_key(address)
        with self._lock:
            if not self._reports.take(key):
                raise ProtocolError("rate_limited", "Too many reports; wait a minute.")

    def entries(self):
        """How many addresses and members the guard remembers (for tests and /metrics)."""
        with self._lock:
            tables = (
                self._joins, self._uploads_by_address, self._uploads_by_member, self._guesses_by_address, self._reports, self._turn,
            )
            return len(self._connections) + len(self._sessions) + sum(len(table) for table in tables)


def limiting_key(address):
    """What a per-address limit counts `address` as: an IPv4 address itself (also when a
    dual-stack socket writes it as ::ffff:a.b.c.d), an IPv6 address its /64 (one subscriber
    line or host usually holds a whole /64, so per address it would have 2^64 tries);
    anything else as it is."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, 64), strict=False))
