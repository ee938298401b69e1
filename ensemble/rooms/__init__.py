"""Room state behind one interface: who is in which room, its chat and its scene.

The in-memory registry serves one process; a shared implementation (Redis)
will serve several behind the same interface, so nothing outside this package
keeps room state.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..protocol import ProtocolError


class RoomFull(ProtocolError):
    def __init__(self, limit):
        super().__init__("room_full", f"The room is full ({limit} people at most).")


class WrongPassword(ProtocolError):
    def __init__(self):
        super().__init__("wrong_password")


class NotJoined(ProtocolError):
    def __init__(self):
        super().__init__("not_joined")


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

    def public(self):
        return {"id": self.id, "name": self.name, "media": {"audio": self.audio, "video": self.video}}


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


@dataclass
class RoomLimits:
    max_peers: int = 6
    grace_seconds: float = 60.0
    chat_history: int = 100


class RoomRegistry(ABC):
    """Every operation is atomic: concurrent joins never overfill a room."""

    @abstractmethod
    def join(self, peer_id, room, name, password=None, audio=True, video=True, replaces=None) -> Joined:
        """Put a new peer in a room; names are made unique.

        `replaces` is the connection's previous membership, left in the same step
        (and only if the join succeeds).
        """

    @abstractmethod
    def leave(self, peer_id) -> Peer | None:
        """Take a peer out of its room; None if it was in none."""

    @abstractmethod
    def peer(self, peer_id) -> Peer | None:
        """The peer's current membership, or None."""

    @abstractmethod
    def set_media(self, peer_id, audio, video) -> Peer:
        """Record a peer's microphone and camera state."""

    @abstractmethod
    def add_chat(self, room, message) -> None:
        """Append a message to the room's history (the oldest drop out)."""

    @abstractmethod
    def set_scene(self, room, scene, base_version, by) -> SceneState:
        """Store a scene edited from `base_version`; VersionConflict if that is stale."""

    @abstractmethod
    def room_count(self) -> int:
        """Rooms currently remembered, empty ones in their grace period included."""


def unique_name(name, taken, limit=40):
    """`name`, or `name (2)`, `name (3)`… whichever is free, never longer than `limit`."""
    candidate, number = name, 1
    while candidate.casefold() in {other.casefold() for other in taken}:
        number += 1
        suffix = f" ({number})"
        candidate = name[: limit - len(suffix)].rstrip() + suffix
    return candidate
