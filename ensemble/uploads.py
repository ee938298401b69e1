"""Uploaded background pictures: checked, re-encoded and stored by content.

Only what Pillow decodes completely as PNG, JPEG or WebP is kept, and what is
kept is our own re-encoding (no metadata, no trailing bytes, orientation
applied), stored under the SHA-256 of its bytes so the same picture is stored
once and its URL never changes.

A picture is decoded only if its header gives it at most UPLOAD_MAX_PIXELS
pixels (a JPEG is decoded at the smallest of its built-in reductions that still
gives the stored size, so a large photo costs a quarter or less). Decoding and
encoding take up to a second of CPU: they run in OS threads (`run`, as password
hashing does), at most `decoders` at once; an upload that finds them all busy
for `decode_wait` seconds is refused (`rate_limited`). Where pictures are kept
and what the quotas remove: upload_folder.py.
"""

import hashlib
import io
import logging
import math
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from .protocol import ProtocolError
from .upload_folder import Quota, UploadFolder

FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
MAX_SIDE = 8192  # larger pictures are refused before decoding
STORED_MAX_SIDE = 3840  # kept pictures are scaled down to this
DECODE_WAIT_SECONDS = 2.0
# Our own limits (MAX_SIDE, max_pixels) are below Pillow's warning: its warning would only say
# what we refuse anyway, and catching it with warnings.catch_warnings() is not thread-safe.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredImage:
    name: str
    width: int
    height: int
    size: int


class ImageStore:
    def __init__(
        self, folder, max_bytes, quota_bytes=1 << 30, max_pixels=25_000_000, *, quota_files=100_000,
        room_bytes=100 << 20, room_files=50, decoders=2, decode_wait=DECODE_WAIT_SECONDS, run=None, clock=None,
    ):
        """`run(function, *args)`: the function's result computed in an OS thread (offload.py)."""
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self._decoders = threading.BoundedSemaphore(decoders)
        self._decode_wait = decode_wait
        self._run = run or (lambda function, *args: function(*args))
        quota = Quota(quota_bytes, quota_files, room_bytes, room_files)
        self.folder = UploadFolder(folder, quota, self._run, **({"clock": clock} if clock else {}))

    def path(self, name):
        """The stored file for a name from a URL, or None for anything that is not one."""
        return self.folder.path(name)

    def touch(self, path):
        """Mark a stored picture as just used."""
        self.folder.touch(path)

    def too_large(self):
        """The refusal of a file over `max_bytes`."""
        return ProtocolError("too_large", f"Pictures may be at most {self.max_bytes // (1024 * 1024)} MB.")

    def store(self, data, room=None):
        """Keep a picture for `room` (None: for no room) and describe it, or raise ProtocolError
        saying why it is not kept."""
        if not data:
            raise ProtocolError("bad_request", "The file is empty.")
        if len(data) > self.max_bytes:
            raise self.too_large()
        encoded, extension, width, height = self._reencoded(data)
        name = f"{hashlib.sha256(encoded).hexdigest()[:32]}.{extension}"
        try:
            self.folder.keep(name, encoded, room)
        except OSError as error:
            log.warning("upload not stored: %s", error, extra={"fields": {"folder": str(self.folder.folder)}})
            raise ProtocolError("unavailable", "The picture could not be stored; try again later.") from None
        return StoredImage(name, width, height, len(encoded))

    def _reencoded(self, data):
        """`reencode(data)` in one of the decoding threads, or `rate_limited` if none frees up soon."""
        if not self._decoders.acquire(timeout=self._decode_wait):
            raise ProtocolError("rate_limited", "The server is busy with other pictures; try again in a moment.")
        try:
            result = self._run(_refusal_returned, reencode, data, self.max_pixels)
        finally:
            self._decoders.release()
        if isinstance(result, ProtocolError):
            raise result
        return result


def reencode(data, max_pixels):
    """(our encoding, its file extension, width, height) of a picture, or ProtocolError: CPU-bound,
    run in an OS thread."""
    picture, kind = _decode(data, max_pixels)
    encoded = _encode(picture, kind)
    return encoded, FORMATS[kind][0], picture.width, picture.height


def _refusal_returned(function, *args):
    """The function's result, or the ProtocolError it raised: eventlet's tpool prints the traceback
    of anything raised in its threads."""
    try:
        return function(*args)
    except ProtocolError as refusal:
        return refusal


def _decode(data, max_pixels):
    """The picture decoded (its first frame), and its format; every limit is checked from the
    header, before anything is decoded."""
    unreadable = ProtocolError("unsupported_image", "This file is not a PNG, JPEG or WebP picture.")
    too_wide = ProtocolError("too_large", f"Pictures may be at most {MAX_SIDE} pixels on a side.")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            kind = opened.format
            if kind not in FORMATS:
                raise unreadable
            if max(opened.size) > MAX_SIDE:
                raise too_wide
            if kind == "JPEG":
                # Decoded reduced (by 2, 4 or 8) if it still gives the stored size.
                scale = STORED_MAX_SIDE / max(opened.size)
                opened.draft(opened.mode, (math.ceil(opened.size[0] * scale), math.ceil(opened.size[1] * scale)))
            if opened.size[0] * opened.size[1] > max_pixels:
                raise ProtocolError("too_large", f"Pictures may have at most {max_pixels / 1e6:g} million pixels.")
            opened.load()  # a truncated file fails here
            picture = ImageOps.exif_transpose(opened)
    except ProtocolError:
        raise
    except UnidentifiedImageError:
        raise unreadable from None
    except Image.DecompressionBombError:
        raise too_wide from None
    except (OSError, SyntaxError, ValueError):
        raise ProtocolError("unsupported_image", "This picture is damaged or incomplete and cannot be used.") from None
    return picture, kind


def _encode(picture, kind):
    picture.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE))
    if kind == "JPEG" or picture.mode not in ("RGB", "RGBA"):
        transparent = "A" in picture.getbands() or "transparency" in picture.info
        picture = picture.convert("RGBA" if transparent and kind != "JPEG" else "RGB")
    out = io.BytesIO()
    options = {"JPEG": {"quality": 90}, "WEBP": {"quality": 90}, "PNG": {}}[kind]
    picture.save(out, kind, **options)
    return out.getvalue()
