"""Pages and small HTTP APIs."""

import os
import secrets
import time

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, send_file
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.exceptions import RequestEntityTooLarge

from .protocol import ROOM_NAME
from .turn import ice_servers
from .uploads import UploadRefused

blueprint = Blueprint("views", __name__)


def _settings():
    return current_app.config["ENSEMBLE_SETTINGS"]


def _error(code, message, status, **details):
    return jsonify(ok=False, error={"code": code, "message": message}, **details), status


@blueprint.after_app_request
def isolate_cross_origin(response):
    """Cross-origin isolation lets the analysis use WASM threads (SharedArrayBuffer).

    Everything the pages load is served from here, so nothing is blocked by it.
    """
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Embedder-Policy", "require-corp")
    return response


@blueprint.get("/")
def home():
    return render_template("home.html")


@blueprint.get("/r/<room>")
def room(room):
    if not ROOM_NAME.fullmatch(room):
        abort(404, description="Room names are 1-64 letters, digits, '_' or '-'.")
    return render_template("room.html", room=room)


@blueprint.get("/healthz")
def healthz():
    """200 while this process can serve its rooms, 503 (saying why) while it cannot."""
    socketio = current_app.extensions["socketio"]
    health = current_app.extensions["ensemble"].health()
    return jsonify(pid=os.getpid(), asyncMode=socketio.async_mode, **health), 200 if health["ok"] else 503


@blueprint.get("/metrics")
def metrics():
    return Response(current_app.extensions["ensemble"].metrics.render(), mimetype=CONTENT_TYPE_LATEST)


@blueprint.get("/api/ice-servers")
def api_ice_servers():
    settings = _settings()
    return jsonify(iceServers=ice_servers(settings, secrets.token_urlsafe(9), time.time()), iceTransportPolicy=settings.ice_transport_policy)


@blueprint.get("/api/scene-schema")
def api_scene_schema():
    return jsonify(current_app.extensions["ensemble.scenes"].schema)


@blueprint.get("/api/scenes")
def api_scenes():
    """The example scenes from config/scenes/, by name."""
    return jsonify(scenes=current_app.extensions["ensemble.scenes"].examples())


@blueprint.post("/api/backgrounds")
def api_upload_background():
    """One picture in the form field `image`; answers its URL, or a structured error."""
    store = current_app.extensions["ensemble.images"]
    try:
        upload = request.files.get("image")
    except RequestEntityTooLarge:
        return _error("too_large", f"Pictures may be at most {store.max_bytes // (1024 * 1024)} MB.", 413)
    if upload is None:
        return _error("bad_request", "Send the picture as the form field `image`.", 400)
    try:
        stored = store.store(upload.read(store.max_bytes + 1))
    except UploadRefused as refused:
        return _error(refused.code, refused.message, refused.status)
    url = f"/uploads/{stored.name}"
    return jsonify(ok=True, url=url, width=stored.width, height=stored.height, size=stored.size), 201


@blueprint.get("/uploads/<name>")
def uploaded(name):
    path = current_app.extensions["ensemble.images"].path(name)
    if path is None:
        abort(404)
    # The name is the content's hash: the file never changes.
    return send_file(path, max_age=365 * 24 * 3600, conditional=True)
