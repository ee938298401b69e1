"""Which Janus holds which room: one interface, in memory for one process and in Redis for
several, so every process puts a room's members in the same Janus room.

A room is placed on the instance holding the fewest rooms among those the caller finds
answering; `move` places it again, on another instance, only if it is still where the caller
saw it, so when two processes notice the same failure one of them moves each room.
"""

import json
import secrets
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from ..rooms import Unavailable
from ..rooms.redis import STORE_ERRORS, connect

# VideoRoom ids of one width: no room's `room=<id>` token descriptor is part of another's.
ROOM_IDS = (10**14, 10**15)


@dataclass(frozen=True)
class Placement:
    url: str  # the instance, as JANUS_URLS names it
    room_id: int  # the VideoRoom room
    secret: str  # the VideoRoom room's secret (destroy, kick)


def new_placement(url):
    return Placement(url, ROOM_IDS[0] + secrets.randbelow(ROOM_IDS[1] - ROOM_IDS[0]), secrets.token_urlsafe(18))


class NoInstance(RuntimeError):
    """No Janus instance to place a room on."""


class Placements(ABC):
    @abstractmethod
    def get(self, room) -> Placement | None:
        """Where the room is, or None while it is a mesh."""

    @abstractmethod
    def place(self, room, urls) -> tuple[Placement, bool]:
        """The room's placement, made on the least loaded of `urls` if it has none; True if made now."""

    @abstractmethod
    def move(self, room, old, urls) -> tuple[Placement | None, bool]:
        """Place the room on the least loaded of `urls` if it is still at `old`; True if moved now.
        (None if it has no placement any more.)"""

    @abstractmethod
    def release(self, room, placement) -> bool:
        """Forget the room's placement if it is still `placement`."""

    @abstractmethod
    def rooms_on(self, url) -> list[str]:
        """The rooms placed on an instance."""


def least_loaded(urls, load):
    if not urls:
        raise NoInstance("no Janus instance answers")
    return min(urls, key=lambda url: (load(url), urls.index(url)))


class MemoryPlacements(Placements):
    def __init__(self):
        self._lock = threading.Lock()
        self._rooms: dict[str, Placement] = {}

    def get(self, room):
        return self._rooms.get(room)

    def place(self, room, urls):
        with self._lock:
            if room in self._rooms:
                return self._rooms[room], False
            self._rooms[room] = new_placement(least_loaded(list(urls), self._load))
            return self._rooms[room], True

    def move(self, room, old, urls):
        with self._lock:
            current = self._rooms.get(room)
            if current != old:
                return current, False
            self._rooms[room] = new_placement(least_loaded([url for url in urls if url != old.url], self._load))
            return self._rooms[room], True

    def release(self, room, placement):
        with self._lock:
            if self._rooms.get(room) != placement:
                return False
            del self._rooms[room]
            return True

    def rooms_on(self, url):
        return [room for room, placement in list(self._rooms.items()) if placement.url == url]

    def _load(self, url):
        return sum(1 for placement in self._rooms.values() if placement.url == url)


# KEYS: none (one prefix); ARGV[1] the prefix. P.."sfu:room:"..r is a placement's JSON,
# P.."sfu:on:"..url the set of rooms on an instance.
_COMMON = """
local P = ARGV[1]
local function least_loaded(first, exclude)
  local best, best_load = nil, nil
  for i = first, #ARGV do
    if ARGV[i] ~= exclude then
      local load = redis.call("SCARD", P .. "sfu:on:" .. ARGV[i])
      if best == nil or load < best_load then best, best_load = ARGV[i], load end
    end
  end
  return best
end
local function put(room, url, id, secret)
  local placement = cjson.encode({url = url, room_id = id, secret = secret})
  redis.call("SET", P .. "sfu:room:" .. room, placement)
  redis.call("SADD", P .. "sfu:on:" .. url, room)
  return placement
end
"""
# ARGV: prefix, room, new id, new secret, urls…
_PLACE = _COMMON + """
local current = redis.call("GET", P .. "sfu:room:" .. ARGV[2])
if current then return {current, 0} end
local url = least_loaded(5, nil)
if not url then return {false, 0} end
return {put(ARGV[2], url, ARGV[3], ARGV[4]), 1}
"""
# ARGV: prefix, room, old id, new id, new secret, urls…
_MOVE = _COMMON + """
local current = redis.call("GET", P .. "sfu:room:" .. ARGV[2])
if not current then return {false, 0} end
local old = cjson.decode(current)
if old.room_id ~= ARGV[3] then return {current, 0} end
local url = least_loaded(6, old.url)
if not url then return {false, -1} end
redis.call("SREM", P .. "sfu:on:" .. old.url, ARGV[2])
return {put(ARGV[2], url, ARGV[4], ARGV[5]), 1}
"""
# ARGV: prefix, room, id
_RELEASE = _COMMON + """
local current = redis.call("GET", P .. "sfu:room:" .. ARGV[2])
if not current then return 0 end
local old = cjson.decode(current)
if old.room_id ~= ARGV[3] then return 0 end
redis.call("DEL", P .. "sfu:room:" .. ARGV[2])
redis.call("SREM", P .. "sfu:on:" .. old.url, ARGV[2])
return 1
"""


class RedisPlacements(Placements):
    def __init__(self, url, prefix="ensemble:"):
        self._client = connect(url)
        self._prefix = prefix
        self._place = self._client.register_script(_PLACE)
        self._move = self._client.register_script(_MOVE)
        self._release = self._client.register_script(_RELEASE)

    def get(self, room):
        return _decode(self._store(self._client.get, f"{self._prefix}sfu:room:{room}"))

    def place(self, room, urls):
        fresh = new_placement("")
        raw, made = self._store(self._place, args=[self._prefix, room, fresh.room_id, fresh.secret, *urls])
        if not raw:
            raise NoInstance("no Janus instance answers")
        return _decode(raw), bool(made)

    def move(self, room, old, urls):
        fresh = new_placement("")
        raw, moved = self._store(self._move, args=[self._prefix, room, old.room_id, fresh.room_id, fresh.secret, *urls])
        if moved == -1:
            raise NoInstance("no other Janus instance answers")
        return _decode(raw), bool(moved)

    def release(self, room, placement):
        return bool(self._store(self._release, args=[self._prefix, room, placement.room_id]))

    def rooms_on(self, url):
        return sorted(self._store(self._client.smembers, f"{self._prefix}sfu:on:{url}"))

    def _store(self, operation, *args, **kwargs):
        try:
            return operation(*args, **kwargs)
        except STORE_ERRORS:
            raise Unavailable() from None


def _decode(raw):
    """A placement's JSON (its room id a string: Lua's numbers would round it)."""
    if not raw:
        return None
    data = json.loads(raw)
    return Placement(data["url"], int(data["room_id"]), data["secret"])
