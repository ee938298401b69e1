"""The broadcast's HTTP addresses: the broadcaster's API, the watch page, its status and the HLS files.

Failures go through views.answer_failure like every other API's (the one error shape).
"""

from flask import Blueprint, abort, jsonify, render_template, request, send_file

from ..protocol import ROOM_NAME, ProtocolError
from ..services import services
from ..views import MEMBER_HEADER
from .folder import CONTENT_TYPES

blueprint = Blueprint("broadcast", __name__)


def _room(room):
    if not ROOM_NAME.fullmatch(room):
        raise ProtocolError("not_found", "Room names are 1-64 letters, digits, '_' or '-'.")
    return room


def _member():
    return services().member(request.headers.get(MEMBER_HEADER))


@blueprint.post("/api/broadcasts/<room>")
def api_start(room):
    """Start a broadcast of the member's room: `{"type": <MediaRecorder mimeType>}`."""
    member = _member()
    body = request.get_json(force=True, silent=True)
    media_type = body.get("type") if isinstance(body, dict) else None
    if not isinstance(media_type, str):
        raise ProtocolError("bad_request", "Send {\"type\": <the recorder's media type>}.", field="type")
    started = services().broadcasts.start(member, _room(room), media_type)
    watch = f"/r/{room}/watch?key={started.secret}"
    return jsonify(ok=True, id=started.id, watch=watch, copy=started.copy), 201


@blueprint.post("/api/broadcasts/<room>/chunks/<int:seq>")
def api_chunk(room, seq):
    """Chunk number `seq` (0, 1, 2, ...) of the broadcast, as the request's body."""
    handed = services()
    member = _member()
    limit = handed.settings.broadcast_chunk_max_bytes
    if request.content_length is None:
        raise ProtocolError("bad_request", "Send the chunk as the body, with its Content-Length.")
    if request.content_length > limit:
        raise ProtocolError("too_large", f"A chunk may be at most {limit // 1024} KiB.")
    data = request.get_data(cache=False)
    if not data:
        raise ProtocolError("bad_request", "The chunk is empty.")
    return jsonify(ok=True, **handed.broadcasts.chunk(member, _room(room), seq, data))


@blueprint.delete("/api/broadcasts/<room>")
def api_stop(room):
    services().broadcasts.stop(_member(), _room(room))
    return jsonify(ok=True)


@blueprint.get("/api/broadcasts/<room>")
def api_status(room):
    """For viewers: the broadcast's state (none, starting, live, ended) and its playlist, with the watch link's key."""
    status = services().broadcasts.status(_room(room), request.args.get("key", ""))
    return jsonify(ok=True, **status)


@blueprint.get("/r/<room>/watch")
def watch(room):
    if not ROOM_NAME.fullmatch(room):
        abort(404)
    key = request.args.get("key", "")
    try:
        services().broadcasts.check_watch(room, key)
    except ProtocolError:
        abort(403, description="This watch link's secret is wrong.")
    return render_template("watch.html", room=room, key=key)


@blueprint.get("/hls/<broadcast_id>/<name>")
def hls(broadcast_id, name):
    """A playlist or segment from the shared folder (nginx serves /hls/ itself where it runs on the same machine)."""
    path = services().broadcasts.served(broadcast_id, name)
    if path is None:
        abort(404)
    playlist = name.endswith(".m3u8")
    response = send_file(path, mimetype=CONTENT_TYPES[path.suffix], max_age=0 if playlist else 60, conditional=not playlist)
    if playlist:
        response.headers["Cache-Control"] = "no-cache"
    return response
