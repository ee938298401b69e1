"""The wire protocol: payload parsing into frozen dataclasses, and error codes.

Every parser takes whatever a client sent and either returns a request object
or raises ProtocolError; nothing here touches rooms or sockets.
"""

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

ERROR_CODES = {
    "bad_request": "The event or its payload is malformed.",
    "not_joined": "Join a room first.",
    "room_full": "The room has no free place.",
    "wrong_password": "The room password is wrong.",
    "unknown_peer": "No such peer in your room.",
    "too_large": "The payload is larger than allowed.",
    "rate_limited": "Too many events; slow down.",
    "version_conflict": "The scene changed since your version.",
    "unsupported_image": "Only complete PNG, JPEG or WebP pictures can be used.",
    "not_found": "Nothing is served at this address.",
    "method_not_allowed": "This address does not answer that HTTP method.",
    "unavailable": "The server cannot reach its room store; try again in a moment.",
    "internal": "The server failed; the event had no effect.",
    "broadcast_busy": "Someone else in the room is broadcasting it.",
    "unsupported_media": "Only a WebM recording (H.264, VP8 or VP9 with Opus) can be broadcast.",
    "out_of_order": "A broadcast's chunks must come in order.",
}
# The HTTP status an error is answered with when it ends an HTTP request.
HTTP_STATUS = {
    "bad_request": 400,
    "not_joined": 409,
    "room_full": 409,
    "wrong_password": 403,
    "unknown_peer": 404,
    "too_large": 413,
    "rate_limited": 429,
    "version_conflict": 409,
    "unsupported_image": 415,
    "not_found": 404,
    "method_not_allowed": 405,
    "unavailable": 503,
    "internal": 500,
    "broadcast_busy": 409,
    "unsupported_media": 415,
    "out_of_order": 409,
}

# The one room-name pattern: the home page's room field carries it (views.home) and
# static/js/call/rooms.js reads it from there. "\-" keeps it valid as an HTML pattern (v flag).
ROOM_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
NAME_MAX = 40
PASSWORD_MAX = 128
CHAT_MAX = 2000
SIGNAL_KINDS = {"offer": 64 * 1024, "answer": 64 * 1024, "candidate": 4 * 1024}
SCENE_MAX_BYTES = 64 * 1024
# Control characters, surrogates, private use and line breaks are refused in names.
FORBIDDEN_IN_NAMES = {"Cc", "Cs", "Co", "Zl", "Zp"}
# Characters that show nothing and can only hide or reorder text: taken out of names and
# chat. Zero-width spaces, word joiner, byte order mark; every bidi control (the marks LRM,
# RLM and ALM, embeddings and overrides, isolates); the soft hyphen, combining grapheme joiner,
# Mongolian vowel separator, invisible math operators, and the Hangul fillers that draw a blank.
INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u2060\ufeff"
        "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        "\u00ad\u034f\u180e\u2061\u2062\u2063\u2064\u115f\u1160\u3164\uffa0",
    )
)
# The zero-width non-joiner and joiner are kept between two visible characters: emoji sequences
# (👩‍💻), Persian and Indic words need them there; anywhere else they only pad a name.
JOINERS = re.compile("[\u200c\u200d]+")
# Letters of other scripts drawn like Latin ones (Unicode's confusables, a few of them: Cyrillic
# and Greek capitals and small letters that look the same in common fonts), mapped before
# case-folding so that e.g. Greek capital Nu is "N" while small nu is "v".
CONFUSABLES = str.maketrans(
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0423\u0425\u0406\u0408\u0405\u04c0"
    "\u0430\u0435\u043e\u0440\u0441\u0443\u0445\u0456\u0458\u0455\u0501\u04bb\u051b\u051d\u04cf\u043a"
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7"
    "\u03b1\u03b9\u03ba\u03bd\u03bf\u03c1\u03c5\u03c7",
    "ABEKMHOPCTYXIJSI"
    "aeopcyxijsdhqwlk"
    "ABEZHIKMNOPTYX"
    "aikvopux",
)
URL_SAFE = re.compile(r"[A-Za-z0-9_\-]{1,64}")


class ProtocolError(Exception):
    """A request that cannot be carried out, over Socket.IO or HTTP.

    `code` is one of ERROR_CODES; `status` is the HTTP status it is answered with
    (HTTP_STATUS of the code unless given); `reply()` is its message on the wire.
    """

    def __init__(self, code, message=None, field=None, status=None, **details):
        assert code in ERROR_CODES, code
        super().__init__(message or ERROR_CODES[code])
        self.code = code
        self.message = message or ERROR_CODES[code]
        self.field = field
        self.status = status or HTTP_STATUS[code]
        self.details = details

    def reply(self):
        """The one wire shape of every failure: `{"ok": false, "error": {code, message[, field]}, ...details}`."""
        error = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"ok": False, "error": error, **self.details}


@dataclass(frozen=True)
class Resume:
    """A membership of a connection that is gone, and the token its join reply carried."""

    id: str
    token: str


@dataclass(frozen=True)
class Join:
    room: str
    name: str
    password: str | None
    audio: bool = True
    video: bool = True
    resume: Resume | None = None


@dataclass(frozen=True)
class Signal:
    to: str
    kind: str
    data: dict


@dataclass(frozen=True)
class Chat:
    text: str


@dataclass(frozen=True)
class Media:
    audio: bool
    video: bool
    screen: bool = False


@dataclass(frozen=True)
class Scene:
    scene: dict
    version: int


def _object(payload):
    if not isinstance(payload, dict):
        raise ProtocolError("bad_request", "The payload must be a JSON object.")
    return payload


def _field(payload, key, kind, *, optional=False):
    value = payload.get(key)
    if value is None and optional:
        return None
    # bool is an int in Python; a protocol integer is never true or false.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        article = {"str": "a string", "bool": "true or false", "int": "an integer", "dict": "an object"}
        raise ProtocolError("bad_request", f"'{key}' must be {article[kind.__name__]}.")
    return value


def encoded_size(value: Any) -> int:
    """The size of `value` in JSON; bad_request for what JSON cannot hold (binary attachments,
    which python-socketio delivers as bytes)."""
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):
        raise ProtocolError("bad_request", "Only JSON values are accepted, not binary data.") from None


def room_name(value):
    if not isinstance(value, str) or not ROOM_NAME.fullmatch(value):
        raise ProtocolError("bad_request", "'room' must be 1-64 letters, digits, '_' or '-'.")
    return value


def visible(text):
    """`text` without the INVISIBLE characters, and with joiners only between two visible characters."""
    text = text.translate(INVISIBLE)

    def joiner_kept(run):
        before, after = text[run.start() - 1 : run.start()], text[run.end() : run.end() + 1]
        return run.group()[0] if before.strip() and after.strip() else ""

    return JOINERS.sub(joiner_kept, text)


def name_skeleton(name):
    """What a name looks like, to tell look-alike names in one room apart: compatibility forms
    folded (NFKC: fullwidth, ligatures), every invisible format character dropped, a few
    Cyrillic and Greek look-alikes of Latin letters mapped, case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", name).translate(INVISIBLE)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(text.translate(CONFUSABLES).casefold().split())


def display_name(value):
    if not isinstance(value, str):
        raise ProtocolError("bad_request", "'name' must be a string.")
    name = visible(value).strip()
    if any(unicodedata.category(char) in FORBIDDEN_IN_NAMES for char in name):
        raise ProtocolError("bad_request", "'name' must not contain control characters.")
    if not 1 <= len(name) <= NAME_MAX:
        raise ProtocolError("bad_request", f"'name' must be 1-{NAME_MAX} characters.")
    return name


def parse_join(payload):
    payload = _object(payload)
    password = _field(payload, "password", str, optional=True) or None
    if password is not None and len(password) > PASSWORD_MAX:
        raise ProtocolError("bad_request", f"'password' must be at most {PASSWORD_MAX} characters.")
    media = parse_media(payload["media"]) if payload.get("media") is not None else Media(True, True)
    resume = parse_resume(payload["resume"]) if payload.get("resume") is not None else None
    return Join(room_name(payload.get("room")), display_name(payload.get("name")), password, media.audio, media.video, resume)


def parse_resume(payload):
    payload = _object(payload)
    resume = Resume(_field(payload, "id", str), _field(payload, "token", str))
    if not (URL_SAFE.fullmatch(resume.id) and URL_SAFE.fullmatch(resume.token)):
        raise ProtocolError("bad_request", "'resume' holds an id and a token of 1-64 letters, digits, '_' or '-'.")
    return resume


def member_credential(value):
    """(id, token) from "<id>:<token>" (the X-Ensemble-Member header), or None if it is not
    two parts of the characters ids and tokens are made of."""
    peer_id, _, token = (value or "").partition(":")
    return (peer_id, token) if URL_SAFE.fullmatch(peer_id) and URL_SAFE.fullmatch(token) else None


def parse_signal(payload):
    payload = _object(payload)
    to = _field(payload, "to", str)
    kind = _field(payload, "kind", str)
    if kind not in SIGNAL_KINDS:
        raise ProtocolError("bad_request", "'kind' must be offer, answer or candidate.")
    data = _field(payload, "data", dict)
    limit = SIGNAL_KINDS[kind]
    if encoded_size(data) > limit:
        raise ProtocolError("too_large", f"A {kind} must be at most {limit // 1024} KiB.")
    return Signal(to, kind, data)


def parse_chat(payload):
    text = visible(_field(_object(payload), "text", str))
    if not text.strip():
        raise ProtocolError("bad_request", "'text' must not be empty.")
    if len(text) > CHAT_MAX:
        raise ProtocolError("too_large", f"'text' must be at most {CHAT_MAX} characters.")
    return Chat(text)


def parse_media(payload):
    payload = _object(payload)
    screen = _field(payload, "screen", bool, optional=True) or False
    return Media(_field(payload, "audio", bool), _field(payload, "video", bool), screen)


def parse_scene(payload):
    payload = _object(payload)
    scene = _field(payload, "scene", dict)
    version = _field(payload, "version", int)
    if version < 0:
        raise ProtocolError("bad_request", "'version' must not be negative.")
    if encoded_size(scene) > SCENE_MAX_BYTES:
        raise ProtocolError("too_large", f"A scene must be at most {SCENE_MAX_BYTES // 1024} KiB.")
    return Scene(scene, version)


def parse_empty(payload):
    """The payload of an event that takes none (`leave`, `ice-servers`): nothing or an object."""
    if payload is not None:
        _object(payload)
