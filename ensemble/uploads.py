"""Uploaded background pictures: checked, re-encoded and stored by content.

Only what Pillow decodes completely as PNG, JPEG or WebP is kept, and what is
kept is our own re-encoding (no metadata, no trailing bytes, orientation
applied), stored under the SHA-256 of its bytes so the same picture is stored
once and its URL never changes.
"""

import hashlib
import io
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


@dataclass(frozen=True)
class StoredImage:
    name: str
    width: int
    height: int
    size: int


class ImageStore:
    def __init__(self, folder, max_bytes):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

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
        picture, kind = _decode(data)
        extension, _ = FORMATS[kind]
        encoded = _encode(picture, kind)
        name = f"{hashlib.sha256(encoded).hexdigest()[:32]}.{extension}"
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / name
        if not target.exists():
            # Write beside the target and rename, so a half-written file is never served.
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as file:
                file.write(encoded)
            os.replace(temporary, target)
        return StoredImage(name, picture.width, picture.height, len(encoded))


def _decode(data):
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
