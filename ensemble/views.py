"""Pages and small HTTP APIs."""

import secrets
import time

from flask import Blueprint, abort, current_app, jsonify, render_template

from .protocol import ROOM_NAME
from .turn import ice_servers

blueprint = Blueprint("views", __name__)


def _settings():
    return current_app.config["ENSEMBLE_SETTINGS"]


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
    socketio = current_app.extensions["socketio"]
    rooms = current_app.extensions["ensemble"].room_count()
    return jsonify(ok=True, asyncMode=socketio.async_mode, rooms=rooms)


@blueprint.get("/api/ice-servers")
def api_ice_servers():
    return jsonify(iceServers=ice_servers(_settings(), secrets.token_urlsafe(9), time.time()))
