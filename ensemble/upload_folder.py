"""The folder of uploaded pictures, its quotas and what they may remove.

    <folder>/<hash>.<ext>               a picture, served at /uploads/<hash>.<ext>
    <folder>/rooms/<room>/<hash>.<ext>  a hard link: the room uploaded that picture

A picture is stored once however many rooms upload it; the links say which rooms did
(a picture's link count above one: it belongs to a room). Quotas:

- per room, `room_bytes` and `room_files`: past them the room's own links used longest
  ago go. The pictures stay (existing scenes keep working) but belong to no room any more.
- in total, `total_bytes` and `total_files` (pictures and links): past them the pictures
  used longest ago go, but only those of no room or unused for UNUSED_SECONDS. If that is
  not enough the upload is refused (507 `unavailable`): one room's uploads never remove
  a picture another room is using.

"Used" is the file's time of change, set when it is stored and each time it is served.

The totals are a running account of this process, built by one scan of the folder and
rebuilt by a scan every RESCAN_SECONDS at most (several processes may share the folder:
together they may pass the total by what the others stored since this one's last scan).
A room's own usage is read from its folder, at most `room_files` entries, on each upload.
"""

import logging
import math
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .protocol import ProtocolError

STORED_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp)")
ROOMS = "rooms"
UNUSED_SECONDS = 7 * 24 * 3600  # a picture of a room not served for a week may go
RESCAN_SECONDS = 60.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quota:
    total_bytes: int = 1 << 30
    total_files: int = 100_000
    room_bytes: int = 100 << 20
    room_files: int = 50


@dataclass(frozen=True)
class Picture:
    path: Path
    size: int
    used: float  # its mtime
    links: tuple[Path, ...]  # of the rooms that uploaded it


@dataclass
class Snapshot:
    """What one scan of the folder found."""

    pictures: list[Picture] = field(default_factory=list)
    links: int = 0

    @property
    def bytes(self):
        return sum(picture.size for picture in self.pictures)

    @property
    def files(self):
        return len(self.pictures) + self.links


class UploadFolder:
    def __init__(self, folder, quota=Quota(), run=None, clock=time.monotonic):
        """`run(function, *args)` runs a scan of the whole folder (an OS thread, off the loop)."""
        self.folder = Path(folder)
        self.quota = quota
        self._run = run or (lambda function, *args: function(*args))
        self._clock = clock
        self._lock = threading.Lock()
        self._bytes = self._files = 0
        self._scanned_at = -math.inf
        self._full_at = -math.inf  # when a scan last found nothing it could remove

    def path(self, name):
        """The stored file for a name from a URL, or None for anything that is not one."""
        if not STORED_NAME.fullmatch(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def touch(self, path):
        """Mark a stored picture as just used."""
        try:
            os.utime(path)
        except OSError:
            pass  # removed meanwhile by another process's quota: nothing is in use

    def keep(self, name, encoded, room):
        """Store `encoded` as `name` for `room` (None: for no room), within the quotas, or raise
        ProtocolError; OSError if the disk fails."""
        picture = self.folder / name
        link = self.folder / ROOMS / room / name if room else None
        with self._lock:
            if self._clock() - self._scanned_at > RESCAN_SECONDS:
                self._account(self._run(scan, self.folder))
            new_picture, new_link = not picture.exists(), link is not None and not link.exists()
            if new_link and len(encoded) > self.quota.room_bytes:
                raise ProtocolError("too_large", f"A room may keep at most {self.quota.room_bytes / (1 << 20):g} MB of pictures.")
            self._make_room(len(encoded) if new_picture else 0, int(new_picture) + int(new_link))
            if new_link:
                self._make_room_in(link.parent, len(encoded))
            self.folder.mkdir(parents=True, exist_ok=True)
            self._bytes += _write_or_touch(picture, encoded)
            self._files += int(new_picture)
            if new_link:
                self._files += _link(picture, link, encoded)

    def _account(self, snapshot):
        self._bytes, self._files = snapshot.bytes, snapshot.files
        self._scanned_at = self._clock()

    def _make_room_in(self, room, size):
        """Remove the room's links used longest ago until one more of `size` bytes fits its quota."""
        links = sorted(_room_links(room), key=lambda entry: entry[0])
        used = sum(size for _, size, _ in links)
        while links and (len(links) + 1 > self.quota.room_files or used + size > self.quota.room_bytes):
            _, old_size, old = links.pop(0)
            old.unlink(missing_ok=True)
            used -= old_size
            self._files -= 1
            log.info("upload left its room's quota", extra={"fields": {"room": room.name, "name": old.name}})

    def _make_room(self, size, files):
        """Remove pictures of no room, or unused long, until `size` more bytes and `files` more
        files fit the total quota; ProtocolError if they still do not."""
        if self._fits(size, files):
            return
        if self._clock() - self._full_at > RESCAN_SECONDS:
            snapshot = self._run(scan, self.folder)
            self._account(snapshot)
            unused_since = time.time() - UNUSED_SECONDS
            removable = [picture for picture in snapshot.pictures if not picture.links or picture.used < unused_since]
            for picture in sorted(removable, key=lambda picture: picture.used):
                if self._fits(size, files):
                    return
                self._remove(picture)
            if self._fits(size, files):
                return
            self._full_at = self._clock()
        raise ProtocolError("unavailable", "Storage for pictures is full: no more can be kept for now.", status=507)

    def _fits(self, size, files):
        return self._bytes + size <= self.quota.total_bytes and self._files + files <= self.quota.total_files

    def _remove(self, picture):
        for link in picture.links:
            link.unlink(missing_ok=True)
            _remove_if_empty(link.parent)
        picture.path.unlink(missing_ok=True)
        self._bytes -= picture.size
        self._files -= 1 + len(picture.links)
        log.info("upload removed for the quota", extra={"fields": {"name": picture.path.name}})


def scan(folder):
    """Every picture of the folder with its links (a Snapshot); runs in an OS thread."""
    links = {}
    for room in _entries(folder / ROOMS):
        if room.is_dir(follow_symlinks=False):
            for entry in _entries(room.path):
                if STORED_NAME.fullmatch(entry.name):
                    links.setdefault(entry.name, []).append(Path(entry.path))
    snapshot = Snapshot(links=sum(len(paths) for paths in links.values()))
    for entry in _entries(folder):
        if STORED_NAME.fullmatch(entry.name):
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue  # removed meanwhile
            paths = tuple(links.get(entry.name, ()))
            snapshot.pictures.append(Picture(Path(entry.path), info.st_size, info.st_mtime, paths))
    return snapshot


def _entries(folder):
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _room_links(room):
    """(used, size, path) of each of a room's links."""
    found = []
    for entry in _entries(room):
        if STORED_NAME.fullmatch(entry.name):
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue
            found.append((info.st_mtime, info.st_size, Path(entry.path)))
    return found


def _write_or_touch(picture, encoded):
    """The bytes added: the picture written (beside it, then renamed), or 0 if it was there."""
    if picture.exists():
        os.utime(picture)
        return 0
    handle, temporary = tempfile.mkstemp(dir=picture.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(encoded)
        os.replace(temporary, picture)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(encoded)


def _link(picture, link, encoded):
    """Link the room to the picture: the number of files added (1). Another process may remove
    the picture or the room's folder meanwhile: then it is written again, once."""
    for attempt in range(2):
        try:
            link.parent.mkdir(parents=True, exist_ok=True)
            os.link(picture, link)
            return 1
        except FileExistsError:
            return 0
        except FileNotFoundError:
            if attempt:
                raise
            _write_or_touch(picture, encoded)
    return 0


def _remove_if_empty(folder):
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (or gone): a room folder goes with its last link
