"""Uploaded background pictures: checked, re-encoded and stored by content.

Only what Pillow decodes completely as PNG, JPEG or WebP is kept, and what is
kept is our own re-encoding (no metadata, no trailing bytes, orientation
applied), stored under the SHA-256 of its bytes so the same picture is stored
once and its URL never changes.

A picture is decoded only if it has at most UPLOAD_MAX_PIXELS pixels (a JPEG is
decoded at the smallest of its built-in reductions that still gives the stored
size, so a large photo costs a quarter or less). The folder holds at most
UPLOAD_QUOTA_BYTES: past it, the pictures used longest ago (stored or served)
are removed. Several processes sharing the folder share the quota.
"""

import hashlib
import io
import logging
import math
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .protocol import ProtocolError

FORMATS = {"PNG": ("png", "image/png"), "JPEG": ("jpg", "image/jpeg"), "WEBP": ("webp", "image/webp")}
MAX_SIDE = 8192  # larger pictures are refused before decoding
STORED_MAX_SIDE = 3840  # kept pictures are scaled down to this
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(png|jpg|webp)")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredImage:
    name: str
    width: int
    height: int
    size: int


class ImageStore:
    def __init__(self, folder, max_bytes, quota_bytes=1 << 30, max_pixels=25_000_000):
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.quota_bytes = quota_bytes
        self.max_pixels = max_pixels

    def path(self, name):
        """The stored file for a name from a URL, or None for anything that is not one."""
        if not STORED_NAME.fullmatch(name):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def too_large(self):
        """The refusal of a file over `max_bytes`."""
        return ProtocolError("too_large", f"Pictures may be at most {self.max_bytes // (1024 * 1024)} MB.")

    def store(self, data):
        """Keep a picture and describe it, or raise ProtocolError saying why it is not kept."""
        if not data:
            raise ProtocolError("bad_request", "The file is empty.")
        if len(data) > self.max_bytes:
            raise self.too_large()
        picture, kind = _decode(data, self.max_pixels)
        extension, _ = FORMATS[kind]
        encoded = _encode(picture, kind)
        name = f"{hashlib.sha256(encoded).hexdigest()[:32]}.{extension}"
        target = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if target.exists():
                self.touch(target)
            else:
                _write(target, encoded)
        except OSError as error:
            log.warning("upload not stored: %s", error, extra={"fields": {"folder": str(self.folder)}})
            raise ProtocolError("unavailable", "The picture could not be stored; try again later.") from None
        self._keep_within_quota(keep=target)
        return StoredImage(name, picture.width, picture.height, len(encoded))

    def touch(self, path):
        """Mark a stored picture as just used."""
        try:
            os.utime(path)
        except OSError:
            pass  # removed meanwhile by another process's quota: nothing is in use

    def _keep_within_quota(self, keep):
        """Remove the pictures used longest ago until the folder is within its quota (never `keep`)."""
        stored = []
        for entry in os.scandir(self.folder):
            if STORED_NAME.fullmatch(entry.name):
                try:
                    info = entry.stat()
                except FileNotFoundError:
                    continue
                stored.append((info.st_mtime, info.st_size, Path(entry.path)))
        total = sum(size for _, size, _ in stored)
        for _, size, path in sorted(stored, key=lambda item: item[0]):
            if total <= self.quota_bytes:
                break
            if path != keep:
                path.unlink(missing_ok=True)
                total -= size
                log.info("upload removed for the quota", extra={"fields": {"name": path.name}})


def _write(target, encoded):
    """Write beside the target and rename, so a half-written file is never served; a write
    that fails leaves nothing behind."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(encoded)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _decode(data, max_pixels):
    unreadable = ProtocolError("unsupported_image", "This file is not a PNG, JPEG or WebP picture.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                kind = opened.format
                if kind not in FORMATS:
                    raise unreadable
                if max(opened.size) > MAX_SIDE:
                    raise ProtocolError("too_large", f"Pictures may be at most {MAX_SIDE} pixels on a side.")
                if kind == "JPEG":
                    # Decoded reduced (by 2, 4 or 8) if it still gives the stored size.
                    scale = STORED_MAX_SIDE / max(opened.size)
                    opened.draft(opened.mode, (math.ceil(opened.size[0] * scale), math.ceil(opened.size[1] * scale)))
                if opened.size[0] * opened.size[1] > max_pixels:
                    raise ProtocolError("too_large", f"Pictures may have at most {max_pixels / 1e6:g} million pixels.")
                opened.load()  # a truncated file fails here
                picture = ImageOps.exif_transpose(opened)
    except (ProtocolError, UnidentifiedImageError) as error:
        raise unreadable if isinstance(error, UnidentifiedImageError) else error from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
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
