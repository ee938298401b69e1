"""Room registry for a single server process."""

import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace

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
    unique_name,
)


@dataclass
class _Room:
    chat: deque
    password: tuple[bytes, bytes] | None = None
    peers: dict = field(default_factory=dict)
    scene: SceneState = field(default_factory=SceneState)
    emptied_at: float | None = None

    def admits(self, password):
        if self.password is None:
            return True
        salt, digest = self.password
        return password is not None and hmac.compare_digest(hash_password(password, salt)[1], digest)


class MemoryRegistry(RoomRegistry):
    def __init__(self, limits=None, clock=time.monotonic):
        self._limits = limits or RoomLimits()
        self._clock = clock
        self._lock = threading.Lock()
        self._rooms = {}
        self._peers = {}

    def join(self, peer_id, room, name, password=None, audio=True, video=True, replaces=None, *, token="", resume_token=None):
        with self._lock:
            self._forget_expired_rooms()
            if resume_token is not None and not self._owns(replaces, resume_token):
                replaces = None
            state = self._rooms.get(room)
            if state is not None:
                self._check_entry(state, replaces, password)
            left = self._remove(replaces) if replaces else None
            if state is None:
                state = _Room(chat=deque(maxlen=self._limits.chat_history))
                state.password = hash_password(password) if password else None
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

    def room_count(self):
        with self._lock:
            self._forget_expired_rooms()
            return len(self._rooms)

    def served(self):
        with self._lock:
            return sum(1 for state in self._rooms.values() if state.peers), len(self._peers)

    def _check_entry(self, state, replaces, password):
        if not state.admits(password):
            raise WrongPassword()
        if len(state.peers.keys() - {replaces}) >= self._limits.max_peers:
            raise RoomFull(self._limits.max_peers)

    def _owns(self, peer_id, token):
        peer = self._peers.get(peer_id)
        return peer is not None and bool(peer.token) and hmac.compare_digest(peer.token, token)

    def _member(self, peer_id):
        peer = self._peers.get(peer_id)
        if peer is None:
            raise NotJoined()
        return peer

    def _remove(self, peer_id):
        peer = self._peers.pop(peer_id, None)
        if peer is not None:
            state = self._rooms[peer.room]
            del state.peers[peer_id]
            if not state.peers:
                state.emptied_at = self._clock()
        return peer

    def _forget_expired_rooms(self):
        deadline = self._clock() - self._limits.grace_seconds
        expired = [name for name, state in self._rooms.items() if state.emptied_at is not None and state.emptied_at <= deadline]
        for name in expired:
            del self._rooms[name]
