"""Ensemble: rooms and WebRTC signaling for a composed multi-person video chat."""

import functools

from flask import Flask
from flask_socketio import SocketIO

from . import views
from .broadcast import Broadcasts
from .broadcast import views as broadcast_views
from .guard import Guard
from .offload import os_thread_runner
from .queue import RedisQueue
from .rooms import RoomLimits, hash_password
from .rooms.memory import MemoryRegistry
from .rooms.redis import RedisRegistry, StoreHealth
from .scenes import SceneSchema
from .services import EXTENSION, Services
from .sessions import Sessions
from .settings import ROOT, load_settings
from .sfu.placement import MemoryPlacements, RedisPlacements
from .sfu.rooms import SfuRooms
from .signaling import AckAwarePacket, Signaling
from .uploads import ImageStore
from .wsgi import ClosingWebSockets, behind_proxies, origin_check

# Large enough for a 64 KiB SDP or scene in JSON; larger frames close the socket.
MAX_MESSAGE_BYTES = 256 * 1024


def create_app(settings=None, registry=None):
    """Build the app; `settings` default to the environment, `registry` to rooms in Redis
    when REDIS_URL is set (StoreUnreachable if it does not answer), else in memory."""
    settings = settings or load_settings()
    app = Flask(
        __name__,
        root_path=str(ROOT),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(
        ENSEMBLE_SETTINGS=settings,
        # Room for the multipart wrapping around the largest picture allowed.
        MAX_CONTENT_LENGTH=settings.upload_max_bytes + 64 * 1024,
    )
    limits = RoomLimits(settings.room_limit, settings.room_grace_seconds, settings.chat_history)
    # A password's PBKDF2 (milliseconds of CPU) runs in an OS thread, not on the event loop.
    hasher = functools.partial(os_thread_runner(settings.async_mode), hash_password)
    options = {}
    if registry is None and settings.redis_url:
        health = StoreHealth(settings.redis_url)
        registry = RedisRegistry(settings.redis_url, limits, health=health, hasher=hasher)
        options["client_manager"] = RedisQueue(settings.redis_url, health)
    registry = registry or MemoryRegistry(limits, hasher=hasher)
    # One connection's events run one after another, in the greenlet that reads its
    # socket: a signal cannot overtake an earlier one of the same sender while that
    # one waits for Redis (python-socketio's default runs each in a greenlet of its own).
    socketio = SocketIO(
        app,
        async_mode=settings.async_mode,
        max_http_buffer_size=MAX_MESSAGE_BYTES,
        serializer=AckAwarePacket,
        async_handlers=False,
        cors_allowed_origins=origin_check(settings.allowed_origins),
        **options,
    )
    # jsonschema runs in an OS thread too: the loop only walks a scene against the schema's limits.
    scenes = SceneSchema(run=os_thread_runner(settings.async_mode))
    # Wrong passwords are counted where the rooms are, so several processes count them together.
    guard = Guard(settings, lockouts=registry.lockouts)
    placements = RedisPlacements(settings.redis_url) if settings.redis_url and settings.janus_urls else MemoryPlacements()
    sfu = SfuRooms(settings, placements)
    signaling = Signaling(socketio, registry, settings, scenes, guard, sfu=sfu)
    sessions = Sessions(socketio, guard, signaling.metrics, settings)
    # Outermost first: the client's address and scheme, then the Socket.IO middleware.
    app.wsgi_app = behind_proxies(ClosingWebSockets(sessions.wsgi(app.wsgi_app)), settings.trusted_proxy_hops)
    images = ImageStore(
        settings.upload_path, settings.upload_max_bytes, settings.upload_quota_bytes, settings.upload_max_pixels,
        quota_files=settings.upload_max_files, room_bytes=settings.upload_room_bytes, room_files=settings.upload_room_files,
        # Decoding a picture (up to a second of CPU) runs in OS threads too, a few at once.
        decoders=settings.upload_decoders, run=os_thread_runner(settings.async_mode, settings.upload_decoders),
    )
    broadcasts = Broadcasts(settings, registry, background=socketio)
    app.extensions[EXTENSION] = Services(settings, socketio, registry, guard, scenes, images, signaling.metrics, sfu, broadcasts)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(broadcast_views.blueprint)
    return app
