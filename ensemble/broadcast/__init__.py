"""Broadcasts: a room's composed scene, recorded by one member's page, as HLS for any number of viewers.

The broadcaster's page sends its MediaRecorder's WebM in numbered chunks (views.py, HTTP
POSTs with its X-Ensemble-Member credential); each chunk goes, in order, into the
broadcast's ffmpeg (encoder.py), which writes the playlist and segments into the shared
folder (folder.py). This process runs its broadcasts; any process answers viewers from
the folder. A broadcast ends when its broadcaster stops it, leaves the room, or sends
nothing for BROADCAST_SILENCE_SECONDS (its page died); its files go BROADCAST_GRACE_SECONDS
after. A dead ffmpeg is started again once, and the broadcaster told; a second death ends
the broadcast.

Behind nginx every /api/broadcasts/<room>/... request of a room reaches the same process
(config/nginx/ensemble.conf hashes on the room), so a room's chunks find its ffmpeg.
"""

import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from ..protocol import ProtocolError
from .encoder import Encoder
from .folder import BroadcastFolder

log = logging.getLogger(__name__)
# What MediaRecorder may record for us: Matroska/WebM with H.264 (copied), VP8 or VP9 (transcoded), Opus.
MEDIA_TYPE = re.compile(r"video/(webm|x-matroska);\s*codecs=\"?(h264|avc1[.0-9A-Fa-f]*|vp8|vp9|vp09[.0-9]*)(,\s*opus)?\"?", re.IGNORECASE)
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
CLUSTER_ID = b"\x1f\x43\xb6\x75"
TICK_SECONDS = 1.0
SWEEP_SECONDS = 10.0


@dataclass
class Broadcast:
    room: str
    id: str
    secret: str
    broadcaster: str  # the member's peer id
    copy: bool
    encoder: Encoder
    last_chunk: float
    next_seq: int = 0
    header: bytes = b""  # the WebM header (EBML, tracks) a restarted ffmpeg is fed first
    restarts: int = 0
    restart_unreported: bool = False
    failure: ProtocolError | None = None
    ended_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Started:
    id: str
    secret: str
    copy: bool


class Broadcasts:
    """This process's broadcasts, and every process's as the shared folder tells them."""

    def __init__(self, settings, registry, background=None, clock=time.monotonic, wall=time.time):
        """`background` is the SocketIO object (start_background_task, sleep): the watch over silence,
        departures and ffmpeg deaths runs in its task."""
        self._settings = settings
        self._registry = registry
        self._background = background
        self._clock = clock
        self._wall = wall
        self.folder = BroadcastFolder(settings.broadcast_path)
        self._live = {}  # room -> Broadcast
        self._ended = {}  # id -> Broadcast, until its grace is over (a failure is told to its broadcaster)
        self._lock = threading.Lock()
        self._watching = False

    # --- the broadcaster ---------------------------------------------------------------------

    def start(self, member, room, media_type):
        """Start `member`'s broadcast of `room` (its own room) recording `media_type`, or ProtocolError."""
        self._own_room(member, room)
        kind = MEDIA_TYPE.fullmatch((media_type or "").strip())
        if kind is None:
            raise ProtocolError("unsupported_media", "Broadcast WebM with H.264, VP8 or VP9 video (and Opus sound).", field="type")
        copy = kind.group(2).lower().startswith(("h264", "avc1"))
        with self._lock:
            if room in self._live or self._elsewhere(room):
                raise ProtocolError("broadcast_busy", "Someone in this room is already broadcasting it.")
            if len(self._live) >= self._settings.broadcasts_per_process:
                raise ProtocolError("unavailable", "This server broadcasts as many rooms as it can; try again later.")
            broadcast_id, secret = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
            encoder = Encoder(self._settings.ffmpeg, self.folder.stream(broadcast_id), copy, self.folder.log_path(broadcast_id))
            self._live[room] = Broadcast(room, broadcast_id, secret, member.id, copy, encoder, self._clock())
            start_watching, self._watching = not self._watching, True
        self.folder.write(room, broadcast_id, secret, self._wall())
        log.info("broadcast started", extra={"fields": {"room": room, "id": broadcast_id, "copy": copy, "pid": encoder.pid}})
        if start_watching and self._background is not None:
            self._background.start_background_task(self._watch)
        return Started(broadcast_id, secret, copy)

    def chunk(self, member, room, seq, data):
        """Feed chunk number `seq` of `member`'s broadcast to its ffmpeg: its reply, or ProtocolError."""
        broadcast = self._broadcast_of(member, room)
        with broadcast.lock:
            if broadcast.ended_at is not None:
                raise broadcast.failure or ProtocolError("not_found", "This broadcast has ended.")
            if seq != broadcast.next_seq:
                raise ProtocolError("out_of_order", f"Chunk {seq} came when chunk {broadcast.next_seq} was due.", expected=broadcast.next_seq)
            if seq == 0:
                broadcast.header = _webm_header(data)
            if not broadcast.encoder.feed(data) and self._restart(broadcast):
                broadcast.encoder.feed(data)
            if broadcast.ended_at is not None:
                raise broadcast.failure
            broadcast.next_seq += 1
            broadcast.last_chunk = self._clock()
            reply = {"next": broadcast.next_seq}
            if broadcast.restart_unreported:
                broadcast.restart_unreported = False
                reply["restarted"] = True
            return reply

    def stop(self, member, room):
        """End `member`'s broadcast of `room`."""
        broadcast = self._broadcast_of(member, room)
        if broadcast.ended_at is None:
            self._end(broadcast, "stopped")

    # --- viewers (any process) -------------------------------------------------------------

    def status(self, room, secret):
        """What a viewer of `room` with the watch link's `secret` may know: the state and the playlist."""
        record = self.folder.read(room)
        if record is None:
            return {"state": "none"}
        self._check_secret(record, secret)
        stale = self._wall() - record.touched > self._settings.broadcast_silence_seconds + 2 * TICK_SECONDS
        if record.ended is not None or stale:
            state = "ended"
        elif (self.folder.stream(record.id) / "index.m3u8").is_file():
            state = "live"
        else:
            state = "starting"
        return {"state": state, "playlist": f"/hls/{record.id}/index.m3u8", "started": record.started}

    def check_watch(self, room, secret):
        """ProtocolError (403) if `room` has a broadcast and `secret` is not its watch secret."""
        record = self.folder.read(room)
        if record is not None:
            self._check_secret(record, secret)

    def served(self, broadcast_id, name):
        return self.folder.served(broadcast_id, name)

    @staticmethod
    def _check_secret(record, secret):
        if not BroadcastFolder.opens(record, secret):
            raise ProtocolError("wrong_password", "This watch link's secret is wrong (or from an earlier broadcast).")

    # --- guards ------------------------------------------------------------------------------

    @staticmethod
    def _own_room(member, room):
        if member.room != room:
            raise ProtocolError("not_joined", "Only a member of this room may broadcast it.", status=403)

    def _elsewhere(self, room):
        """Whether another process runs a broadcast of `room` (its record fresh and not ended)."""
        record = self.folder.read(room)
        silence = self._settings.broadcast_silence_seconds
        return record is not None and record.ended is None and self._wall() - record.touched <= silence

    def _broadcast_of(self, member, room):
        self._own_room(member, room)
        with self._lock:
            broadcast = self._live.get(room) or next(
                (ended for ended in self._ended.values() if ended.room == room and ended.broadcaster == member.id), None
            )
        if broadcast is None:
            raise ProtocolError("not_found", "No broadcast of this room runs on this server.")
        if broadcast.broadcaster != member.id:
            raise ProtocolError("broadcast_busy", "Someone else in this room is broadcasting it.")
        return broadcast

    # --- ffmpeg and the end ----------------------------------------------------------------------

    def _restart(self, broadcast):
        """ffmpeg died: start it once more (fed the WebM header again), or end the broadcast. Whether it runs."""
        if broadcast.restarts >= 1:
            failure = ProtocolError("unavailable", "The broadcast's encoder failed twice; the broadcast has ended.")
            self._end(broadcast, "ffmpeg failed", failure)
            return False
        broadcast.restarts += 1
        broadcast.restart_unreported = True
        log.warning("ffmpeg died: started again", extra={"fields": {"room": broadcast.room, "id": broadcast.id}})
        broadcast.encoder = Encoder(
            self._settings.ffmpeg, self.folder.stream(broadcast.id), broadcast.copy, self.folder.log_path(broadcast.id), restarted=True
        )
        return broadcast.encoder.feed(broadcast.header) if broadcast.header else True

    def _end(self, broadcast, reason, failure=None):
        """Close ffmpeg (it writes #EXT-X-ENDLIST; written here if it cannot) and mark the record ended."""
        with self._lock:
            if broadcast.ended_at is not None:
                return
            broadcast.ended_at, broadcast.failure = self._clock(), failure
            self._live.pop(broadcast.room, None)
            self._ended[broadcast.id] = broadcast
        broadcast.encoder.close()
        self.folder.close_playlist(broadcast.id)
        self.folder.end(broadcast.room, broadcast.id, self._wall())
        log.info("broadcast ended", extra={"fields": {"room": broadcast.room, "id": broadcast.id, "reason": reason}})

    def _watch(self):
        """For as long as the server runs: end broadcasts gone silent or whose broadcaster left,
        restart a dead ffmpeg, keep the records fresh, and sweep what is past its grace."""
        swept = -SWEEP_SECONDS
        while True:
            self._background.sleep(TICK_SECONDS)
            try:
                self.check()
                if self._clock() - swept >= SWEEP_SECONDS:
                    swept = self._clock()
                    self.sweep()
            except Exception:
                log.exception("broadcast watch failed")

    def check(self):
        """One round of the watch over this process's broadcasts."""
        with self._lock:
            live = list(self._live.values())
        for broadcast in live:
            reason = self._reason_to_end(broadcast)
            if reason:
                self._end(broadcast, reason)
                continue
            with broadcast.lock:
                if broadcast.ended_at is None and not broadcast.encoder.alive:
                    self._restart(broadcast)
            self.folder.touch(broadcast.room)

    def _reason_to_end(self, broadcast):
        if self._clock() - broadcast.last_chunk > self._settings.broadcast_silence_seconds:
            return "silent"
        try:
            peer = self._registry.peer(broadcast.broadcaster)
        except ProtocolError:
            return None  # the room store is away: judge again next round
        return None if peer is not None and peer.room == broadcast.room else "left"

    def sweep(self):
        """Forget and remove the broadcasts past their grace (this process's and stale ones of others)."""
        grace = self._settings.broadcast_grace_seconds
        with self._lock:
            over = [key for key, ended in self._ended.items() if self._clock() - ended.ended_at > grace]
            for key in over:
                del self._ended[key]
            keep = {broadcast.id for broadcast in self._live.values()} | set(self._ended)
        self.folder.sweep(grace, keep)


def _webm_header(data):
    """The WebM header of a first chunk (up to its first cluster), or ProtocolError if it is no WebM."""
    if not data.startswith(EBML_MAGIC) or not (b"webm" in data[:64] or b"matroska" in data[:64]):
        raise ProtocolError("unsupported_media", "The first chunk must start a WebM recording.")
    cluster = data.find(CLUSTER_ID)
    return data[:cluster] if cluster > 0 else data
