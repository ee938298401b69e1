"""Limits per client address, so that reconnecting does not reset them (the per-connection
buckets live in signaling.Connection): connections, joins, wrong passwords and uploads.

One Guard per process, so with several processes each counts what reaches it, except
wrong passwords: with rooms in Redis those are counted there (rooms/redis.py
SharedLockouts), so spreading guesses over the processes gains a guesser nothing. Entries
of addresses, rooms and members that have gone quiet are forgotten as the tables grow, so
a stream of new addresses does not grow the process.
"""

import threading
import time

from .protocol import ProtocolError
from .ratelimit import TokenBucket

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


class Lockouts:
    """Failures per key: `limit` of them within `seconds` lock the key for `seconds`."""

    def __init__(self, limit, seconds, clock):
        self._limit = limit
        self._seconds = seconds
        self._clock = clock
        self._failures = {}  # key -> (count, first failure or lock start, locked)
        self._swept_at = 0
        self._lock = threading.Lock()

    def locked(self, key):
        with self._lock:
            entry = self._current(key)
            return entry is not None and entry[2]

    def fail(self, key):
        with self._lock:
            count, since, locked = self._current(key) or (0, self._clock(), False)
            count += 1
            if count >= self._limit:
                since, locked = self._clock(), True
            self._sweep()
            self._failures[key] = (count, since, locked)

    def __len__(self):
        with self._lock:
            return len(self._failures)

    def _current(self, key):
        entry = self._failures.get(key)
        if entry is not None and self._clock() - entry[1] >= self._seconds:
            del self._failures[key]
            return None
        return entry

    def _sweep(self):
        if len(self._failures) < self._swept_at + SWEEP_EVERY:
            return
        now = self._clock()
        self._failures = {key: entry for key, entry in self._failures.items() if now - entry[1] < self._seconds}
        self._swept_at = len(self._failures)


class Guard:
    """Every check raises ProtocolError("rate_limited") when its limit is reached."""

    def __init__(self, settings, clock=time.monotonic, lockouts=None):
        """`lockouts(table, limit, seconds)` makes the wrong-password tables (default: Lockouts in this process)."""
        lockouts = lockouts or (lambda table, limit, seconds: Lockouts(limit, seconds, clock))
        self._settings = settings
        self._lock = threading.Lock()
        self._connections = {}
        self._sessions = {}  # Engine.IO sessions per address, Socket.IO connections or not
        self._joins = _Buckets(settings.joins_per_ip_per_minute, clock)
        self._uploads_by_address = _Buckets(settings.uploads_per_ip_per_minute, clock)
        self._uploads_by_member = _Buckets(settings.uploads_per_minute, clock)
        self._reports = _Buckets(REPORTS_PER_MINUTE, clock)
        lockout = settings.password_lockout_seconds
        self._guesses_by_address = lockouts("address", settings.wrong_passwords_per_ip, lockout)
        self._guesses_by_room = lockouts("room", settings.wrong_passwords_per_room, lockout)

    # --- connections ----------------------------------------------------------------

    def connect(self, address):
        """Count a connection from `address`, or refuse it past CONNECTIONS_PER_IP."""
        with self._lock:
            open_now = self._connections.get(address, 0)
            if open_now >= self._settings.connections_per_ip:
                raise ProtocolError("rate_limited", "Too many connections from your address.")
            self._connections[address] = open_now + 1

    def disconnect(self, address):
        with self._lock:
            self._release(self._connections, address)

    def open_session(self, address):
        """Count an Engine.IO session (a handshake) from `address`, or refuse it past CONNECTIONS_PER_IP
        sessions. One more is let in while every session of the address is a Socket.IO connection:
        its connect is then refused with the reason (`connect_error`, see connect), which a
        refused handshake cannot carry to a page."""
        with self._lock:
            sessions = self._sessions.get(address, 0)
            all_connected = sessions <= self._connections.get(address, 0)
            if sessions >= self._settings.connections_per_ip + (1 if all_connected else 0):
                raise ProtocolError("rate_limited", "Too many connections from your address.")
            self._sessions[address] = sessions + 1

    def close_session(self, address):
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
        """Before a join: refuse one past JOINS_PER_IP_PER_MINUTE, or while guessing is locked.
        A `member` (one that proved its membership of the room: a rejoin with its token) is
        never locked out by guessing: strangers guessing must not keep a room's own people out."""
        # The lockout tables keep their own consistency (a lock in memory, a script in Redis),
        # so a Redis round trip does not hold up every other check of this process.
        if not member and (self._guesses_by_address.locked(address) or self._guesses_by_room.locked(room)):
            raise ProtocolError("rate_limited", "Too many wrong passwords; try again later.")
        with self._lock:
            if not self._joins.take(address):
                raise ProtocolError("rate_limited", "Too many joins from your address; wait a minute.")

    def wrong_password(self, address, room):
        self._guesses_by_address.fail(address)
        self._guesses_by_room.fail(room)

    # --- uploads ------------------------------------------------------------------------

    def upload(self, address, member):
        with self._lock:
            if not self._uploads_by_address.take(address) or not self._uploads_by_member.take(member):
                raise ProtocolError("rate_limited", "Too many uploads; wait a minute.")

    def report(self, address):
        """A CSP report: a few a minute per address reach the log."""
        with self._lock:
            if not self._reports.take(address):
                raise ProtocolError("rate_limited", "Too many reports; wait a minute.")

    def entries(self):
        """How many addresses, rooms and members the guard remembers (for tests and /metrics)."""
        with self._lock:
            tables = (
                self._joins, self._uploads_by_address, self._uploads_by_member, self._guesses_by_address, self._guesses_by_room,
                self._reports,
            )
            return len(self._connections) + len(self._sessions) + sum(len(table) for table in tables)
