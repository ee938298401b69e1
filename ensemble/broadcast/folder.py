"""The broadcasts' shared folder: what any process needs to answer a viewer.

    <folder>/rooms/<room>.json   the room's broadcast: {id, key (SHA-256 of the watch secret),
                                 started, ended}; touched every second by the process that
                                 runs it, so a record left by a stopped process goes stale
    <folder>/live/<id>/          its playlist and segments, served at /hls/<id>/ (by nginx
                                 straight from here, or by any process)
    <folder>/logs/<id>.log       what its ffmpeg wrote on its standard error

Several processes share the folder (same machine, or a shared file system). A broadcast's
id is 128 random bits: its files are reachable only by whoever got the id from a watch
link's status, which needs the watch secret.
"""

import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BROADCAST_ID = re.compile(r"[A-Za-z0-9_\-]{22}")
SERVED_FILE = re.compile(r"index\.m3u8|s[0-9]{5,9}\.ts")
CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}
ENDLIST = "#EXT-X-ENDLIST"


@dataclass(frozen=True)
class Record:
    id: str
    key: str
    started: float
    ended: float | None
    touched: float  # the file's mtime: the running process's heartbeat


def key_digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


class BroadcastFolder:
    def __init__(self, folder):
        self.root = Path(folder)
        self.rooms = self.root / "rooms"
        self.live = self.root / "live"
        self.logs = self.root / "logs"
        for part in (self.rooms, self.live, self.logs):
            part.mkdir(parents=True, exist_ok=True)

    def stream(self, broadcast_id):
        return self.live / broadcast_id

    def log_path(self, broadcast_id):
        return self.logs / f"{broadcast_id}.log"

    def served(self, broadcast_id, name):
        """The file a viewer asks for by /hls/<id>/<name>, or None for anything that is not one."""
        if not BROADCAST_ID.fullmatch(broadcast_id) or not SERVED_FILE.fullmatch(name):
            return None
        path = self.live / broadcast_id / name
        return path if path.is_file() else None

    # --- records ---------------------------------------------------------------------------

    def write(self, room, broadcast_id, secret, started, ended=None):
        """The room's record, written beside and renamed: a reader sees the old or the new one."""
        record = {"id": broadcast_id, "key": key_digest(secret) if secret else "", "started": started, "ended": ended}
        handle, temporary = tempfile.mkstemp(dir=self.rooms, suffix=".part")
        with os.fdopen(handle, "w") as file:
            json.dump(record, file)
        os.replace(temporary, self.rooms / f"{room}.json")

    def end(self, room, broadcast_id, ended):
        """Mark the room's record ended, if it is still this broadcast's."""
        record = self.read(room)
        if record is not None and record.id == broadcast_id and record.ended is None:
            path = self.rooms / f"{room}.json"
            data = json.loads(path.read_text())
            data["ended"] = ended
            handle, temporary = tempfile.mkstemp(dir=self.rooms, suffix=".part")
            with os.fdopen(handle, "w") as file:
                json.dump(data, file)
            os.replace(temporary, path)

    def read(self, room):
        """The room's record, or None."""
        path = self.rooms / f"{room}.json"
        try:
            data = json.loads(path.read_text())
            touched = path.stat().st_mtime
        except (FileNotFoundError, ValueError):
            return None
        return Record(data["id"], data["key"], data["started"], data["ended"], touched)

    def touch(self, room):
        try:
            os.utime(self.rooms / f"{room}.json")
        except FileNotFoundError:
            pass  # removed by a sweep after its grace: nothing to keep alive

    @staticmethod
    def opens(record, secret):
        """Whether a watch link's secret opens the record's broadcast."""
        return bool(record.key) and hmac.compare_digest(record.key, key_digest(secret or ""))

    # --- the end of a stream -----------------------------------------------------------------

    def close_playlist(self, broadcast_id):
        """Write #EXT-X-ENDLIST into a playlist ffmpeg could not finish itself (it died)."""
        playlist = self.stream(broadcast_id) / "index.m3u8"
        try:
            text = playlist.read_text()
        except FileNotFoundError:
            return
        if ENDLIST not in text:
            with open(playlist, "a") as file:
                file.write(("" if text.endswith("\n") else "\n") + ENDLIST + "\n")

    def sweep(self, older_than, keep=()):
        """Remove the records, streams and logs unchanged for `older_than` seconds, except the
        broadcasts `keep` (ids) of this process."""
        limit = time.time() - older_than
        for path in self.rooms.glob("*.json"):
            record = self.read(path.stem)
            if record is not None and record.id not in keep and record.touched < limit:
                path.unlink(missing_ok=True)
        for folder in self.live.iterdir():
            if folder.name not in keep and _changed(folder) < limit:
                shutil.rmtree(folder, ignore_errors=True)
        for path in self.logs.glob("*.log"):
            if path.stem not in keep and _changed(path) < limit:
                path.unlink(missing_ok=True)


def _changed(path):
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()
