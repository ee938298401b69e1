"""Room registry for a single server process."""

import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

from ..guard import Lockouts
from . import (
    Joined,
    NotJoined,
    Peer,
    RoomFull,
    RoomLimits,
    RoomRegistry,
    SceneState,
    VersionConflict,
    WrongPassword,
    hash_password,
    holds_token,
    unique_name,
)


@dataclass
class _Room:
    chat: deque
    password: tuple[bytes, bytes] | None = None
    peers: dict = field(default_factory=dict)
    scene: SceneState = field(default_factory=SceneState)
    emptied_at: float | None = None

    def admits(self, digest):
        """Whether a digest made with this room's salt (None without a password) opens it."""
        if self.password is None:
            return True
        return digest is not None and hmac.compare_digest(digest, self.password[1])


class MemoryRegistry(RoomRegistry):
    def __init__(self, limits=None, clock=time.monotonic, hasher=hash_password):
        """`hasher(password, salt)` is hash_password, or something running it off the event loop."""
        self._limits = limits or RoomLimits()
        self._clock = clock
        self._hasher = hasher
        self._lock = threading.Lock()
        self._rooms = {}
        self._peers = {}

    def join(self, peer_id, room, name, password=None, audio=True, video=True, replaces=None, *, token="", resume_token=None):
        # The password is hashed outside the lock (it takes milliseconds) with the salt of the
        # room as it was then; if the room was made or forgotten meanwhile, hash again.
        while True:
            with self._lock:
                self._forget_expired_rooms()
                seen = self._rooms.get(room)
            hashed = self._hash(password, seen)
            with self._lock:
                self._forget_expired_rooms()
                if self._rooms.get(room) is seen:
                    return self._join(peer_id, room, name, hashed, audio, video, replaces, token, resume_token)

    def _hash(self, password, state):
        """(salt, digest) of the password for this room (a new salt for a room to make), or None."""
        if not password or (state is not None and state.password is None):
            return None
        return self._hasher(password, state.password[0] if state is not None else None)

    def _join(self, peer_id, room, name, hashed, audio, video, replaces, token, resume_token):
        if resume_token is not None and not self._owns(replaces, resume_token):
            replaces = None
        state = self._rooms.get(room)
        if state is not None:
            self._check_entry(state, replaces, hashed[1] if hashed else None)
        left = self._remove(replaces, staying_in=room) if replaces else None
        if state is None:
            state = _Room(chat=deque(maxlen=self._limits.chat_history), password=hashed)
            self._rooms[room] = state
        others = list(state.peers.values())
        peer = Peer(peer_id, room, unique_name(name, [p.name for p in others]), audio, video, token)
        state.peers[peer_id] = peer
        state.emptied_at = None
        self._peers[peer_id] = peer
        return Joined(peer, others, list(state.chat), state.scene, left)

    def leave(self, peer_id):
        with self._lock:
            return self._remove(peer_id)

    def peer(self, peer_id):
        return self._peers.get(peer_id)

    def set_media(self, peer_id, audio, video, screen=False):
        with self._lock:
            peer = self._member(peer_id)
            peer = replace(peer, audio=audio, video=video, screen=screen)
            self._peers[peer_id] = self._rooms[peer.room].peers[peer_id] = peer
            return peer

    def add_chat(self, room, message):
        with self._lock:
            self._rooms[room].chat.append(message)

    def set_scene(self, room, scene, base_version, by):
        with self._lock:
            state = self._rooms[room]
            if base_version != state.scene.version:
                raise VersionConflict(state.scene)
            state.scene = SceneState(scene, state.scene.version + 1, by)
            return state.scene

    def members(self, room):
        with self._lock:
            state = self._rooms.get(room)
            return list(state.peers.values()) if state else []

    def room_count(self):
        with self._lock:
            self._forget_expired_rooms()
            return len(self._rooms)

    def served(self):
        with self._lock:
            return sum(1 for state in self._rooms.values() if state.peers), len(self._peers)

    def lockouts(self, table, limit, base_seconds, lock_seconds):
        return Lockouts(limit, base_seconds, lock_seconds, self._clock)

    def _check_entry(self, state, replaces, digest):
        if not state.admits(digest):
            raise WrongPassword()
        if len(state.peers.keys() - {replaces}) >= self._limits.max_peers:
            raise RoomFull(self._limits.max_peers)

    def _owns(self, peer_id, token):
        return holds_token(self._peers.get(peer_id), token)

    def _member(self, peer_id):
        peer = self._peers.get(peer_id)
        if peer is None:
            raise NotJoined()
        return peer

    def _remove(self, peer_id, staying_in=None):
        """Take a peer out; a passwordless room's chat ends with its last member, unless that
        member is rejoining the same room (`staying_in`: a reload taking its membership over)."""
        peer = self._peers.pop(peer_id, None)
        if peer is not None:
            state = self._rooms[peer.room]
            del state.peers[peer_id]
            if not state.peers:
                state.emptied_at = self._clock()
                if state.password is None and peer.room != staying_in:
                    state.chat.clear()
        return peer

    def _forget_expired_rooms(self):
        deadline = self._clock() - self._limits.grace_seconds
        expired = [name for name, state in self._rooms.items() if state.emptied_at is not None and state.emptied_at <= deadline]
        for name in expired:
            del self._rooms[name]
