"""Pages and small HTTP APIs.

Every failure of an API address (`/api/...`, `/healthz`) is answered in the one
error shape `{"ok": false, "error": {code, message}}` with the code's HTTP
status; an unexpected exception anywhere is logged with its traceback and
answered `internal` (500) in that shape. Pages keep Werkzeug's HTML 404.
"""

import logging
import os
import secrets
import time

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .headers import security_headers
from .protocol import ROOM_NAME, ProtocolError
from .services import services
from .turn import ice_servers, limits_turn

blueprint = Blueprint("views", __name__)
log = logging.getLogger(__name__)
# Error codes of the HTTP statuses Werkzeug raises itself (routing, body limits).
HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


# "<id>:<token>" of a membership, from its join reply: proves the request comes from a member.
MEMBER_HEADER = "X-Ensemble-Member"
# What of a CSP report goes into the log line (each cut to 200 characters).
CSP_REPORT_FIELDS = ("document-uri", "violated-directive", "blocked-uri", "source-file", "line-number")


def _is_api(path):
    return path.startswith("/api/") or path == "/healthz"


@blueprint.app_errorhandler(Exception)
def answer_failure(error):
    """The one failure path of HTTP requests: every exception becomes a ProtocolError and its reply."""
    if isinstance(error, HTTPException):
        if not _is_api(request.path):
            return error  # a page: Werkzeug's HTML answer
        status = error.code or 500
        failure = ProtocolError(HTTP_ERROR_CODES.get(status, "bad_request" if status < 500 else "internal"), status=status)
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]  # e.g. Allow
    elif isinstance(error, ProtocolError):
        failure, headers = error, []
    else:
        log.error("request failed", exc_info=error, extra={"fields": {"method": request.method, "path": request.path}})
        failure, headers = ProtocolError("internal", "The server failed; the request had no effect."), []
    return jsonify(failure.reply()), failure.status, headers


@blueprint.after_app_request
def secure_headers(response):
    """The headers of every response (ensemble/headers.py says why each is there)."""
    settings = services().settings
    janus = tuple(settings.janus_public_url(url) for url in settings.janus_urls)
    headers = security_headers(
        request.host, request.path, request.args.get("engine"), request.args.get("workers"), request.headers.get("Sec-Fetch-Dest"), janus
    )
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response


@blueprint.get("/")
def home():
    return render_template("home.html", room_pattern=ROOM_NAME.pattern)


@blueprint.get("/r/<room>")
def room(room):
    if not ROOM_NAME.fullmatch(room):
        abort(404, description="Room names are 1-64 letters, digits, '_' or '-'.")
    return render_template("room.html", room=room)


@blueprint.get("/healthz")
def healthz():
    """200 while this process can serve its rooms, 503 (saying why) while it cannot."""
    health = services().health()
    if not health["ok"]:
        health = {**health, **ProtocolError("unavailable", health["error"]).reply()}
    return jsonify(pid=os.getpid(), asyncMode=services().socketio.async_mode, **health), 200 if health["ok"] else 503


@blueprint.get("/metrics")
def metrics():
    return Response(services().metrics.render(), mimetype=CONTENT_TYPE_LATEST)


@blueprint.get("/api/ice-servers")
def api_ice_servers():
    """STUN for anyone; TURN credentials only for a member (X-Ensemble-Member), as in its join reply."""
    handed = services()
    settings = handed.settings
    credential = request.headers.get(MEMBER_HEADER)
    member = handed.member(credential) if credential is not None else None
    with_turn = member is not None and (not limits_turn(settings) or handed.guard.turn(request.remote_addr or ""))
    servers = ice_servers(settings, member.id if member else secrets.token_urlsafe(9), time.time(), with_turn=with_turn)
    return jsonify(iceServers=servers, iceTransportPolicy=settings.ice_transport_policy)


@blueprint.get("/api/scene-schema")
def api_scene_schema():
    return jsonify(services().scenes.schema)


@blueprint.get("/api/scenes")
def api_scenes():
    """The example scenes from config/scenes/, by name."""
    return jsonify(scenes=services().scenes.examples())


@blueprint.post("/api/backgrounds")
def api_upload_background():
    """One picture in the form field `image` from a member of a room (X-Ensemble-Member);
    answers its URL, or a structured error."""
    handed = services()
    store = handed.images
    member = handed.member(request.headers.get(MEMBER_HEADER))
    handed.guard.upload(request.remote_addr or "", member.id)
    try:
        upload = request.files.get("image")
    except RequestEntityTooLarge:
        raise store.too_large() from None
    if upload is None:
        raise ProtocolError("bad_request", "Send the picture as the form field `image`.")
    stored = store.store(upload.read(store.max_bytes + 1), member.room)
    url = f"/uploads/{stored.name}"
    return jsonify(ok=True, url=url, width=stored.width, height=stored.height, size=stored.size), 201


@blueprint.post("/api/csp-reports")
def api_csp_report():
    """A browser's report of something the Content-Security-Policy blocked: one log line
    (what was blocked, by which directive, on which page), a few a minute per address."""
    services().guard.report(request.remote_addr or "")
    report = request.get_json(force=True, silent=True)
    report = report.get("csp-report") if isinstance(report, dict) else None
    if not isinstance(report, dict):
        raise ProtocolError("bad_request", "Send a CSP report: {\"csp-report\": {...}}.")
    fields = {key: str(report.get(key, ""))[:200] for key in CSP_REPORT_FIELDS}
    log.warning("csp violation", extra={"fields": fields})
    return "", 204


@blueprint.get("/uploads/<name>")
def uploaded(name):
    images = services().images
    path = images.path(name)
    if path is None:
        abort(404)
    images.touch(path)  # in use: the last to be removed when the folder is over its quota
    # The name is the content's hash: the file never changes.
    return send_file(path, max_age=365 * 24 * 3600, conditional=True)
