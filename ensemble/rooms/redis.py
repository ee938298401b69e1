"""Room registry in Redis, shared by several server processes.

Every change runs as one Lua script (redis_scripts.lua), so two processes racing
for the last place or the same name cannot both win. Each process also keeps
its own members in memory: they are its connections, so it answers "is this
sender a member" without a round trip, and it can put them back when Redis
lost them. `upkeep()`, every two seconds, proves this process alive, removes
the members of processes that stopped proving it, and heals the store.
"""

import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from ..guard import Penalty
from ..protocol import name_skeleton
from . import (
    Joined,
    NotJoined,
    Peer,
    RoomFull,
    RoomLimits,
    RoomRegistry,
    SceneState,
    Unavailable,
    Upkeep,
    VersionConflict,
    WrongPassword,
    hash_password,
    name_candidates,
)

log = logging.getLogger(__name__)
SCRIPTS = Path(__file__).with_name("redis_scripts.lua")
# Errors that mean "Redis is not answering", as opposed to a bug in a script.
STORE_ERRORS = (RedisConnectionError, RedisTimeoutError, ReadOnlyError)
HEARTBEAT_SECONDS = 2.0
# A process whose heartbeat is this old is taken for dead and its peers removed.
HEARTBEAT_EXPIRY_SECONDS = 10


class StoreUnreachable(RuntimeError):
    """Redis did not answer when the server started."""


def redacted(url):
    """The URL without its password (in its userinfo, or redis-py's `?password=`), for logs and errors."""
    url = re.sub(r"//([^:@/]*):[^@/]*@", r"//\1:***@", url)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.IGNORECASE)


# Connections one client keeps open at most; more operations at once wait for one.
MAX_CONNECTIONS = 200


def connect(url, **options):
    """A client that gives up within about two seconds instead of hanging. Under a burst,
    operations wait (up to the same two seconds) for a free connection: redis-py's plain
    pool refuses the 101st at once ("Too many connections"), which read as Redis lost."""
    options = {"socket_connect_timeout": 2, "socket_timeout": 2, "retry": Retry(NoBackoff(), 1), "decode_responses": True, **options}
    pool = redis.BlockingConnectionPool.from_url(url, max_connections=MAX_CONNECTIONS, timeout=2, **options)
    return redis.Redis(connection_pool=pool)


class StoreHealth:
    """Whether Redis answers, said in the log once when it stops and once when it is back."""

    def __init__(self, url):
        self.url = redacted(url)
        self.ok = True
        self.error = ""
        self.failures = 0
        self._lock = threading.Lock()

    def failed(self, error):
        with self._lock:
            self.failures += 1
            was_ok, self.ok, self.error = self.ok, False, str(error) or type(error).__name__
        if was_ok:
            log.error("Redis at %s is unreachable (%s); events are answered 'unavailable' until it is back", self.url, self.error)

    def succeeded(self):
        with self._lock:
            was_ok, self.ok, self.error = self.ok, True, ""
        if not was_ok:
            log.warning("Redis at %s answers again", self.url)


def _load_scripts(client):
    """The sections of redis_scripts.lua, each prefixed with the common part."""
    sections = re.split(r"^--\[\[ (\w+) \]\]\n", SCRIPTS.read_text(), flags=re.MULTILINE)
    named = dict(zip(sections[1::2], sections[2::2]))
    common = named.pop("common")
    return {name: client.register_script(common + body) for name, body in named.items()}


@dataclass(frozen=True)
class _Member:
    """One of this process's own peers, with what it takes to put it back."""

    peer: Peer
    fold: str
    salt: str
    digest: str


def _json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _encode(peer, fold, process):
    return _json(
        {
            "id": peer.id, "room": peer.room, "name": peer.name, "fold": fold, "audio": peer.audio, "video": peer.video,
            "screen": peer.screen, "process": process, "token": peer.token,
        }
    )


def _decode(raw):
    data = json.loads(raw)
    return Peer(data["id"], data["room"], data["name"], data["audio"], data["video"], data["token"], data.get("screen", False))


@dataclass(frozen=True)
class JoinReply:
    """What the `join` script answers, by name: `status` "ok" (the fields below), "salt" (hash the
    password with the room's `salt` and try again) or "error" (`error` is the code)."""

    status: str
    error: str = ""
    peer: str = ""  # the new peer's JSON
    left: str = ""  # the JSON of the membership it replaced, "" if none
    others: list = field(default_factory=list)  # the other peers' JSON (false for one gone meanwhile)
    chat: list = field(default_factory=list)  # messages' JSON, oldest first
    scene: str = ""  # JSON, "" for none
    version: int = 0
    by: str = ""
    salt: str = ""  # hex, "" without a password
    digest: str = ""


@dataclass(frozen=True)
class SceneReply:
    """What the `scene` script answers: "ok" with the new `version`, or "conflict" with the room's scene."""

    status: str
    version: int = 0
    scene: str = ""
    by: str = ""


@dataclass(frozen=True)
class FailReply:
    """What the `fail` script answers: "slowed" or "locked", the failures counted, the wait in ms."""

    state: str
    count: int
    wait_ms: int


def _record(kind, raw):
    """A script's JSON reply as the record `kind`, by field name (Lua's cjson writes an empty list as {})."""
    return kind(**{name: [] if value == {} else value for name, value in json.loads(raw).items()})


class RedisRegistry(RoomRegistry):
    upkeep_seconds = HEARTBEAT_SECONDS

    def __init__(
        self, url, limits=None, clock=time.time, prefix="ensemble:", health=None, heartbeat_expiry=HEARTBEAT_EXPIRY_SECONDS,
        hasher=hash_password,
    ):
        """`hasher(password, salt)` is hash_password, or something running it off the event loop."""
        self._limits = limits or RoomLimits()
        self._hasher = hasher
        self._clock = clock
        self._prefix = prefix
        self.health_state = health or StoreHealth(url)
        self.process_id = secrets.token_hex(6)
        self._heartbeat_expiry_ms = int(heartbeat_expiry * 1000)
        self._client = connect(url)
        try:
            self._beat(self._clock())  # alive before the first member: a sweeper can tell when it stops
        except STORE_ERRORS as error:
            raise StoreUnreachable(f"Redis at {redacted(url)} cannot be reached: {error}") from None
        self._scripts = _load_scripts(self._client)
        self._members: dict[str, _Member] = {}
        self._joining: set[str] = set()
        self._ages: dict[str, float] = {}

    # --- the registry interface -------------------------------------------------

    def join(self, peer_id, room, name, password=None, audio=True, video=True, replaces=None, *, token="", resume_token=None):
        self._joining.add(peer_id)
        try:
            return self._join(Peer(peer_id, room, name, audio, video, token), password, replaces, resume_token)
        finally:
            self._joining.discard(peer_id)

    def leave(self, peer_id):
        """Never fails: a member leaves this process at once, and Redis hears of it now
        or, if it cannot be reached, at the first upkeep after it is back."""
        member = self._members.pop(peer_id, None)
        try:
            raw = self._run("leave", peer_id, *self._grace_args())
        except Unavailable:
            raw = None
        if member is not None:
            return member.peer
        return _decode(raw) if raw else None

    def peer(self, peer_id):
        member = self._members.get(peer_id)
        if member is not None:
            return member.peer
        raw = self._store(self._client.get, self._key("peer", peer_id))
        return _decode(raw) if raw else None

    def set_media(self, peer_id, audio, video, screen=False):
        raw = self._run("media", peer_id, int(audio), int(video), int(screen))
        if raw is None:
            raise NotJoined()
        peer = _decode(raw)
        member = self._members.get(peer_id)
        if member is not None:
            self._members[peer_id] = replace(member, peer=peer)
        return peer

    def add_chat(self, room, message):
        self._run("chat", room, _json(message), self._limits.chat_history)

    def set_scene(self, room, scene, base_version, by):
        reply = _record(SceneReply, self._run("scene", room, _json(scene), base_version, by))
        if reply.status == "conflict":
            raise VersionConflict(SceneState(json.loads(reply.scene) if reply.scene else None, reply.version, reply.by or None))
        return SceneState(scene, reply.version, by)

    def members(self, room):
        def read():
            ids = self._client.zrange(self._key("room", room) + ":peers", 0, -1)
            return self._client.mget([self._key("peer", peer_id) for peer_id in ids]) if ids else []

        return [_decode(raw) for raw in self._store(read) if raw]

    def room_count(self):
        def count():
            with self._client.pipeline() as pipe:
                pipe.zremrangebyscore(self._key("rooms"), "-inf", self._clock())
                pipe.zcard(self._key("rooms"))
                return pipe.execute()[1]

        return self._store(count)

    def serves(self, peer_id):
        return peer_id in self._members

    def served(self):
        members = list(self._members.values())
        return len({member.peer.room for member in members}), len(members)

    # --- several processes --------------------------------------------------------

    def upkeep(self):
        """Beat, put back this process's members that Redis lost, take out the ones
        that left while it was unreachable, sweep stopped processes."""
        return self._store(self._upkeep)

    def health(self):
        state = self.health_state
        return {"ok": state.ok, "redis": state.url, **({"error": state.error} if not state.ok else {})}

    def store_errors(self):
        return self.health_state.failures

    def lockouts(self, table, limit, base_seconds, lock_seconds):
        """Failures counted in Redis for the guard, so every process sees every one."""
        return SharedLockouts(
            lambda key, *args: self._run("fail", table, key, *args),
            lambda key: self._store(self._client.pttl, self._key("wait", table, key)),
            limit,
            base_seconds,
            lock_seconds,
        )

    def others_alive(self):
        return dict(self._ages)

    # --- inside -------------------------------------------------------------------

    def _join(self, wanted, password, replaces, resume_token):
        """Join as `wanted`, under its name or the first free one of its candidates."""
        peer_id, room = wanted.id, wanted.room
        if resume_token is not None and not resume_token:
            replaces = None  # an empty token takes over nothing ("" below means "this connection's own")
        candidates = []
        for candidate in name_candidates(wanted.name):
            fold = name_skeleton(candidate)
            candidates += [fold, _encode(replace(wanted, name=candidate), fold, self.process_id)]
            if len(candidates) > 2 * self._limits.max_peers:
                break
        # The room's salt, if a member here knows it; else Redis says it after one try.
        salt = next((bytes.fromhex(member.salt) for member in list(self._members.values()) if member.peer.room == room and member.salt), None)
        for _ in range(2):
            salt, digest = self._hasher(password, salt) if password else (b"", b"")
            reply = _record(JoinReply, self._run(
                "join", room, peer_id, self.process_id, *self._grace_args(), self._limits.max_peers,
                replaces or "", resume_token or "", salt.hex(), digest.hex(), self._heartbeat_expiry_ms, *candidates,
            ))
            if reply.status != "salt":
                break
            if not password:
                raise WrongPassword()
            salt = bytes.fromhex(reply.salt)
        if reply.status == "error":
            raise WrongPassword() if reply.error == "wrong_password" else RoomFull(self._limits.max_peers)
        return self._joined(reply)

    def _joined(self, reply):
        """Remember the new member of a `join` reply (and forget the one it replaced) and say what it joined."""
        peer = _decode(reply.peer)
        left_peer = _decode(reply.left) if reply.left else None
        if left_peer is not None:
            self._members.pop(left_peer.id, None)
        self._members[peer.id] = _Member(peer, json.loads(reply.peer)["fold"], reply.salt, reply.digest)
        return Joined(
            peer,
            [_decode(other) for other in reply.others if other],
            [json.loads(message) for message in reply.chat],
            SceneState(json.loads(reply.scene) if reply.scene else None, reply.version, reply.by or None),
            left_peer,
        )

    def _upkeep(self):
        now = self._clock()
        self._beat(now)
        with self._client.pipeline() as pipe:
            pipe.smembers(self._key("proc", self.process_id, "peers"))
            pipe.smembers(self._key("procs"))
            pipe.zremrangebyscore(self._key("rooms"), "-inf", now)  # rooms whose grace is over
            stored, processes, _ = pipe.execute()
        busy = set(self._joining)
        members = dict(self._members)
        gone = []
        for peer_id in stored - members.keys() - busy:
            raw = self._scripts["leave"](args=[self._prefix, peer_id, *self._grace_args()])
            if raw:
                gone.append(_decode(raw))
        restored = []
        for peer_id, member in members.items():
            if peer_id in stored or peer_id in busy:
                continue
            outcome = self._restore(member)
            if outcome == 1:
                restored.append(member.peer)
            elif outcome == -1:
                self._members.pop(peer_id, None)  # taken over on another process
        gone += [_decode(raw) for raw in self._scripts["sweep"](args=[self._prefix, *self._grace_args()])]
        others = sorted(processes - {self.process_id})
        beats = self._client.mget([self._key("proc", other) for other in others]) if others else []
        self._ages = {other: max(0.0, now - float(beat)) for other, beat in zip(others, beats) if beat}
        self.health_state.succeeded()
        return Upkeep(gone, restored)

    def _beat(self, now):
        with self._client.pipeline() as pipe:
            pipe.set(self._key("proc", self.process_id), now, px=self._heartbeat_expiry_ms)
            pipe.sadd(self._key("procs"), self.process_id)
            pipe.execute()

    def _restore(self, member):
        raw = _encode(member.peer, member.fold, self.process_id)
        return self._scripts["restore"](
            args=[
                self._prefix, member.peer.id, member.fold, raw, self.process_id, member.salt, member.digest,
                member.peer.room, self._clock(), self._heartbeat_expiry_ms,
            ]
        )

    def _grace_args(self):
        return self._clock(), int(self._limits.grace_seconds * 1000)

    def _run(self, script, *args):
        return self._store(self._scripts[script], args=[self._prefix, *args])

    def _store(self, operation, *args, **kwargs):
        """Run one Redis operation; an unreachable Redis becomes `unavailable`."""
        try:
            result = operation(*args, **kwargs)
        except STORE_ERRORS as error:
            self.health_state.failed(error)
            raise Unavailable() from None
        self.health_state.succeeded()
        return result

    def _key(self, *parts):
        return self._prefix + ":".join(parts)


class SharedLockouts:
    """guard.Lockouts kept in Redis: each failure of a key makes its next attempt wait twice as
    long, `limit` of them lock it for `lock_seconds`, in every process. A guesser whose
    attempts a load balancer spreads over the processes gets no more of them than from one.
    An unreachable Redis is `unavailable`."""

    def __init__(self, fail, wait_ms, limit, base_seconds, lock_seconds):
        """`fail(key, limit, base ms, lock ms)` runs the `fail` script, `wait_ms(key)` is the PTTL of its wait."""
        self._fail = fail
        self._wait_ms = wait_ms
        self._limit = limit
        self._base_ms = int(base_seconds * 1000)  # 0: no wait before the lockout
        self._lock_ms = max(1, int(lock_seconds * 1000))

    def wait(self, key):
        return max(0, self._wait_ms(key)) / 1000  # PTTL: -2 without the key

    def fail(self, key):
        reply = _record(FailReply, self._fail(key, self._limit, self._base_ms, self._lock_ms))
        return Penalty(reply.count, reply.wait_ms / 1000, reply.state == "locked")

    def __len__(self):
        return 0  # nothing of it in this process's memory
