"""Room state behind one interface: who is in which room, its chat and its scene.

The in-memory registry serves one process; the Redis one serves several
processes as one server, behind the same interface, so nothing outside this
package keeps room state.
"""

import hashlib
import hmac
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..protocol import ProtocolError, member_credential, name_skeleton


class RoomFull(ProtocolError):
    def __init__(self, limit):
        super().__init__("room_full", f"The room is full ({limit} people at most).")


class WrongPassword(ProtocolError):
    def __init__(self):
        super().__init__("wrong_password")


class NotJoined(ProtocolError):
    def __init__(self):
        super().__init__("not_joined")


class Unavailable(ProtocolError):
    """The shared room store cannot be reached; the event had no effect."""

    def __init__(self):
        super().__init__("unavailable")


class VersionConflict(ProtocolError):
    def __init__(self, current):
        super().__init__(
            "version_conflict",
            f"The scene is at version {current.version}; apply your edit to it and send again.",
            scene=current.scene,
            version=current.version,
        )
        self.current = current


@dataclass(frozen=True)
class Peer:
    id: str
    room: str
    name: str
    audio: bool = True
    video: bool = True
    # Proves the membership is yours, to take it over from a connection that is gone.
    token: str = field(default="", repr=False)
    # Sending a shared screen instead of the camera (pages pin it large).
    screen: bool = False

    def public(self):
        return {"id": self.id, "name": self.name, "media": self.media()}

    def media(self):
        return {"audio": self.audio, "video": self.video, "screen": self.screen}


@dataclass(frozen=True)
class SceneState:
    scene: dict | None = None
    version: int = 0
    by: str | None = None

    def public(self):
        return {"scene": self.scene, "version": self.version, "by": self.by}


@dataclass(frozen=True)
class Joined:
    peer: Peer
    others: list[Peer]
    chat: list[dict]
    scene: SceneState
    left: Peer | None = None  # the membership this join replaced, if any


@dataclass(frozen=True)
class Upkeep:
    """What one round of upkeep changed: peers removed because the process serving
    them stopped (or left while the store was unreachable), and this process's
    peers put back into a store that had lost them."""

    gone: list[Peer] = field(default_factory=list)
    restored: list[Peer] = field(default_factory=list)


@dataclass
class RoomLimits:
    max_peers: int = 6
    grace_seconds: float = 60.0
    chat_history: int = 100


class RoomRegistry(ABC):
    """Every operation is atomic: concurrent joins never overfill a room."""

    @abstractmethod
    def join(
        self, peer_id, room, name, password=None, audio=True, video=True, replaces=None, *, token="", resume_token=None
    ) -> Joined:
        """Put a new peer in a room; names are made unique.

        `replaces` is a membership left in the same step (and only if the join
        succeeds): the connection's own previous one, or, with `resume_token`, one
        of a connection that is gone, if the token is that membership's `token`
        (otherwise it stays). Its place and name count as free for this join.
        """

    @abstractmethod
    def leave(self, peer_id) -> Peer | None:
        """Take a peer out of its room; None if it was in none."""

    @abstractmethod
    def peer(self, peer_id) -> Peer | None:
        """The peer's current membership, or None."""

    @abstractmethod
    def set_media(self, peer_id, audio, video, screen=False) -> Peer:
        """Record a peer's microphone and camera state, and whether it shares its screen."""

    @abstractmethod
    def add_chat(self, room, message) -> None:
        """Append a message to the room's history (the oldest drop out)."""

    @abstractmethod
    def set_scene(self, room, scene, base_version, by) -> SceneState:
        """Store a scene edited from `base_version`; VersionConflict if that is stale."""

    @abstractmethod
    def members(self, room) -> list[Peer]:
        """The room's members, on every process."""

    @abstractmethod
    def room_count(self) -> int:
        """Rooms currently remembered, empty ones in their grace period included."""

    @abstractmethod
    def served(self) -> tuple[int, int]:
        """(rooms, peers) with members connected to this process."""

    @abstractmethod
    def lockouts(self, table, limit, base_seconds, lock_seconds):
        """The guard's wrong-password table `table` (guard.Lockouts' `wait(key)` and `fail(key)`),
        kept where the rooms are: the processes that share the rooms count failures together."""

    # A registry shared by several processes overrides these.
    upkeep_seconds: float | None = None  # how often `upkeep` wants to run; None: never

    def serves(self, peer_id) -> bool:
        """Whether the peer is connected to this process, so an emit to it alone need not
        go through the other processes."""
        return True

    def upkeep(self) -> Upkeep:
        """Prove this process alive, sweep stopped ones, heal the shared store."""
        return Upkeep()

    def health(self) -> dict:
        """Whether the store answers: `{"ok": bool, ...}` with details for /healthz."""
        return {"ok": True}

    def store_errors(self) -> int:
        """How many operations failed to reach the shared store since start-up."""
        return 0

    def others_alive(self) -> dict[str, float]:
        """Other server processes and the age of their last heartbeat in seconds."""
        return {}


def holds_token(peer, token):
    """Whether `token` is the membership's own (a peer without one proves nothing)."""
    return peer is not None and bool(peer.token) and hmac.compare_digest(peer.token.encode(), token.encode())


def member_by_credential(registry, credential):
    """The member whose join reply gave `credential` ("<id>:<token>", as a page sends it in
    X-Ensemble-Member to prove it may upload or get TURN credentials), or ProtocolError."""
    peer_id, token = member_credential(credential) or ("", "")
    peer = registry.peer(peer_id) if peer_id else None
    if not holds_token(peer, token):
        raise ProtocolError("not_joined", "Only a member of a room may do this: send X-Ensemble-Member.", status=403)
    return peer


def name_candidates(name, limit=40):
    """`name`, then `name (2)`, `name (3)`…, each at most `limit` characters."""
    yield name
    number = 1
    while True:
        number += 1
        suffix = f" ({number})"
        yield name[: limit - len(suffix)].rstrip() + suffix


def unique_name(name, taken, limit=40):
    """The first of `name_candidates` that no name in `taken` looks like (the same name_skeleton:
    case, fullwidth forms, invisible characters and Cyrillic or Greek look-alike letters aside)."""
    skeletons = {name_skeleton(other) for other in taken}
    return next(candidate for candidate in name_candidates(name, limit) if name_skeleton(candidate) not in skeletons)


def hash_password(password, salt=None):
    salt = salt or os.urandom(16)
    return salt, hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 20_000)
