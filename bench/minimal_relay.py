"""A minimal Flask-SocketIO signaling relay with no checks, to measure the framework beside Ensemble.

    HOST=127.0.0.1 PORT=5001 .venv/bin/python bench/minimal_relay.py

Same libraries and async mode (gevent) as Ensemble, and just enough of its
protocol for bench/signaling.py: `join {room, name}` answers `{ok, id, peers}`
and tells the room `peer-joined`; `signal {to, kind, data}` goes to `to` as
`signal {from, kind, data}` and is answered `{ok: true}`. A peer's id is its
Socket.IO session id. Nothing is validated, there are no rate limits, and
leaving is not announced.
"""

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402


def create_app():
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode="gevent", max_http_buffer_size=256 * 1024,
                        message_queue=os.environ.get("REDIS_URL") or None)
    members = {}  # room -> {sid: name}

    @socketio.on("join")
    def on_join(payload):
        room = members.setdefault(payload["room"], {})
        peers = [{"id": sid, "name": name} for sid, name in room.items()]
        room[request.sid] = payload["name"]
        join_room(payload["room"])
        socketio.emit("peer-joined", {"id": request.sid, "name": payload["name"]},
                      to=payload["room"], skip_sid=request.sid)
        return {"ok": True, "id": request.sid, "peers": peers}

    @socketio.on("signal")
    def on_signal(payload):
        message = {"from": request.sid, "kind": payload["kind"], "data": payload["data"]}
        socketio.emit("signal", message, to=payload["to"])
        return {"ok": True}

    return app, socketio


def main():
    app, socketio = create_app()
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5001"))
    socketio.run(app, host=host, port=port, log_output=False)


if __name__ == "__main__":
    main()
