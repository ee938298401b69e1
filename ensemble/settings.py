"""Settings: the environment, then `.env`, then config/defaults.env."""

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS_FILE = ROOT / "config" / "defaults.env"
ASYNC_MODES = ("gevent", "eventlet", "threading")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
ICE_TRANSPORT_POLICIES = ("all", "relay")
LOG_FORMATS = ("text", "json")
# Flask-SocketIO hands any other scheme to Kombu; ours speak to Redis itself.
REDIS_SCHEMES = ("redis://", "rediss://")
JANUS_SCHEMES = ("ws://", "wss://")
# Settings that were renamed: a deployment that still sets one is told the new name.
RENAMED = {"MAX_PEERS_PER_ROOM": "MESH_MAX"}
# What a browser sends as its Origin header: scheme://host[:port], nothing after it.
ORIGIN = re.compile(r"https?://[^/\s?#]+")
# Values shipped as placeholders (config/turnserver.conf's secret, config/example.env's
# hosts): a site started with one of them would hand out credentials anyone can make,
# or send browsers to servers that are not its own.
SECRET_PLACEHOLDER = "replace-with-a-long-random-string"
PLACEHOLDER_HOST = re.compile(r"(^|[.:/@])example\.(org|com|net)($|[:/?,])", re.IGNORECASE)
# Limits that must allow at least one of what they count.
LIMITS = (
    "connections_per_ip", "joins_per_ip_per_minute", "wrong_passwords_per_ip", "password_lockout_seconds",
    "turn_credentials_per_ip_per_minute", "flood_strikes", "uploads_per_minute", "uploads_per_ip_per_minute", "upload_max_pixels",
    "upload_max_files", "upload_room_bytes", "upload_room_files", "upload_decoders",
    "malformed_packets", "broadcasts_per_process",
)


class SettingsError(ValueError):
    """A setting has a value the server cannot run with."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    async_mode: str
    log_level: str
    mesh_max: int
    room_grace_seconds: float
    chat_history: int
    events_per_second: float
    event_burst: int
    chats_per_second: float
    chat_burst: int
    stun_urls: tuple[str, ...]
    turn_urls: tuple[str, ...]
    turn_secret: str
    turn_username: str
    turn_password: str
    turn_ttl_seconds: int
    turn_credentials_per_ip_per_minute: float
    ice_transport_policy: str
    upload_folder: str
    upload_max_bytes: int
    redis_url: str
    log_format: str
    trusted_proxy_hops: int
    allowed_origins: tuple[str, ...]
    connections_per_ip: int
    joins_per_ip_per_minute: float
    wrong_passwords_per_ip: int
    wrong_password_delay_seconds: float
    password_lockout_seconds: float
    flood_strikes: int
    uploads_per_minute: float
    uploads_per_ip_per_minute: float
    upload_quota_bytes: int
    upload_max_pixels: int
    upload_max_files: int
    upload_room_bytes: int
    upload_room_files: int
    upload_decoders: int
    malformed_packets: int
    connect_timeout_seconds: float
    sfu_max_peers: int
    janus_urls: tuple[str, ...]
    janus_public_urls: tuple[str, ...]
    janus_api_secret: str = field(repr=False)
    janus_admin_key: str = field(repr=False)
    janus_token_secret: str = field(repr=False)
    janus_token_seconds: int
    broadcast_folder: str
    broadcasts_per_process: int
    broadcast_chunk_max_bytes: int
    broadcast_silence_seconds: float
    broadcast_grace_seconds: float
    ffmpeg: str

    def __post_init__(self):
        if self.async_mode not in ASYNC_MODES:
            raise SettingsError(f"ASYNC_MODE must be one of {', '.join(ASYNC_MODES)}, not {self.async_mode!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, not {self.port}")
        if self.mesh_max < 2:
            raise SettingsError("MESH_MAX must be at least 2")
        if self.ice_transport_policy not in ICE_TRANSPORT_POLICIES:
            raise SettingsError(f"ICE_TRANSPORT_POLICY must be all or relay, not {self.ice_transport_policy!r}")
        if self.ice_transport_policy == "relay" and not self.turn_urls:
            raise SettingsError("ICE_TRANSPORT_POLICY=relay sends all media through TURN: set TURN_URLS too")
        if self.log_format not in LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT must be text or json, not {self.log_format!r}")
        if self.redis_url and not self.redis_url.startswith(REDIS_SCHEMES):
            raise SettingsError("REDIS_URL must start with redis:// or rediss://")
        if self.upload_max_bytes < 1024:
            raise SettingsError("UPLOAD_MAX_BYTES must be at least 1024")
        if self.trusted_proxy_hops < 0:
            raise SettingsError("TRUSTED_PROXY_HOPS must not be negative")
        for origin in self.allowed_origins:
            if origin != "*" and not ORIGIN.fullmatch(origin):
                raise SettingsError(f"ALLOWED_ORIGINS holds scheme://host[:port] origins or *, not {origin!r}")
        for name in LIMITS:
            if getattr(self, name) < 1:
                raise SettingsError(f"{name.upper()} must be at least 1")
        if self.wrong_password_delay_seconds < 0:
            raise SettingsError("WRONG_PASSWORD_DELAY_SECONDS must not be negative")
        if self.connect_timeout_seconds <= 0:
            raise SettingsError("CONNECT_TIMEOUT_SECONDS must be more than 0")
        if self.upload_quota_bytes < self.upload_max_bytes:
            raise SettingsError("UPLOAD_QUOTA_BYTES must be at least UPLOAD_MAX_BYTES")
        if self.upload_room_bytes < self.upload_max_bytes:
            raise SettingsError("UPLOAD_ROOM_BYTES must be at least UPLOAD_MAX_BYTES")
        self._check_janus()
        if self.broadcast_chunk_max_bytes < 64 * 1024:
            raise SettingsError("BROADCAST_CHUNK_MAX_BYTES must be at least 65536")
        if not 2 <= self.broadcast_silence_seconds <= self.broadcast_grace_seconds:
            raise SettingsError("BROADCAST_SILENCE_SECONDS must be at least 2 and at most BROADCAST_GRACE_SECONDS")
        self._refuse_placeholders()

    def _check_janus(self):
        if not self.janus_urls:
            return
        if not all(url.startswith(JANUS_SCHEMES) for url in (*self.janus_urls, *self.janus_public_urls)):
            raise SettingsError("JANUS_URLS and JANUS_PUBLIC_URLS hold ws:// or wss:// addresses")
        if self.janus_public_urls and len(self.janus_public_urls) != len(self.janus_urls):
            raise SettingsError("JANUS_PUBLIC_URLS names one address per JANUS_URLS entry, in the same order (or is empty)")
        for name in ("janus_api_secret", "janus_admin_key", "janus_token_secret"):
            if not getattr(self, name):
                raise SettingsError(f"JANUS_URLS is set: set {name.upper()} too (config/janus holds the same value)")
        if self.sfu_max_peers <= self.mesh_max:
            raise SettingsError("SFU_MAX_PEERS must be more than MESH_MAX")
        if self.janus_token_seconds < 30:
            raise SettingsError("JANUS_TOKEN_SECONDS must be at least 30")

    @property
    def room_limit(self):
        """People per room: MESH_MAX, or SFU_MAX_PEERS where rooms beyond MESH_MAX move to Janus."""
        return self.sfu_max_peers if self.janus_urls else self.mesh_max

    def janus_public_url(self, url):
        """The address browsers use for the instance the server reaches at `url`."""
        if not self.janus_public_urls:
            return url
        return self.janus_public_urls[self.janus_urls.index(url)]

    def _refuse_placeholders(self):
        for name in ("turn_secret", "turn_password"):
            if getattr(self, name) == SECRET_PLACEHOLDER:
                same = ", the same as coturn's static-auth-secret" if name == "turn_secret" else ""
                raise SettingsError(f"{name.upper()} is the placeholder of config/turnserver.conf: set a long random string{same}")
        for name in ("stun_urls", "turn_urls"):
            if any(PLACEHOLDER_HOST.search(url) for url in getattr(self, name)):
                raise SettingsError(
                    f"{name.upper()} names example.org, the placeholder of config/example.env: set your own relay's address, or leave it empty"
                )

    @property
    def upload_path(self):
        """UPLOAD_FOLDER, relative to the project unless absolute."""
        return ROOT / self.upload_folder

    @property
    def broadcast_path(self):
        """BROADCAST_FOLDER, relative to the project unless absolute."""
        return ROOT / self.broadcast_folder


def _convert(name, kind, text):
    text = text.strip()
    try:
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        raise SettingsError(f"{name.upper()} must be a number, not {text!r}") from None
    if kind == tuple[str, ...]:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def load_settings(environ=None, dotenv_path=ROOT / ".env", **overrides):
    """Read every setting; `overrides` (lower-case field names) win over all sources."""
    environ = os.environ if environ is None else environ
    values = dict(dotenv_values(DEFAULTS_FILE))
    if dotenv_path and Path(dotenv_path).exists():
        values.update(dotenv_values(dotenv_path))
    values.update({key: value for key, value in environ.items() if key in values})
    for old, new in RENAMED.items():
        if old in environ or old in values:
            raise SettingsError(f"{old} is now {new}: rename it in your environment or .env")
    if environ.get("FLASK_RUN_FROM_CLI"):
        # `flask run` serves with Werkzeug's threads; gevent and eventlet need their own server.
        values["ASYNC_MODE"] = "threading"
    settings = {f.name: _convert(f.name, f.type, values.get(f.name.upper()) or "") for f in fields(Settings)}
    settings.update(overrides)
    return Settings(**settings)
