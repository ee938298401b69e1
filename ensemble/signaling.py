"""Socket.IO handlers: parse the payload, ask the registry, emit to the room.

Every handler answers through the acknowledgement with `{"ok": true, ...}` or
`{"ok": false, "error": {code, message}}`; a client that asked for no
acknowledgement gets errors as an `error` event instead (see docs/protocol.md).
"""

import logging
import secrets
import time
from dataclasses import dataclass

from flask import request
from socketio import packet
from socketio.exceptions import ConnectionRefusedError

from . import protocol
from .metrics import Metrics
from .protocol import ProtocolError
from .ratelimit import TokenBucket
from .rooms import NotJoined, RoomFull, WrongPassword, holds_token
from .sessions import MalformedPacket, StrictJson, check_shape, decode_strictly
from .sfu.rooms import CHECK_SECONDS, SfuRooms, SfuUnavailable
from .turn import WITHHELD_RETRY_SECONDS, ice_servers, limits_turn, renew_seconds

log = logging.getLogger(__name__)
CONNECTION_KEY = "ensemble.connection"
# How fast a connection's strikes (FLOOD_STRIKES) come back: a client that slows down when
# told to keeps its connection.
FLOOD_STRIKES_PER_SECOND = 1.0


def room_channel(room):
    return f"room:{room}"


def peer_channel(peer_id):
    return f"peer:{peer_id}"


def new_peer_id():
    return secrets.token_urlsafe(9)


@dataclass
class Connection:
    """What the server remembers about one socket, kept in its WSGI environ (one per connection)."""

    address: str
    events: TokenBucket
    chats: TokenBucket
    # Refused `rate_limited` answers still allowed before the connection is closed.
    strikes: TokenBucket
    peer_id: str | None = None


class Signaling:
    def __init__(self, socketio, registry, settings, scenes, guard, clock=time.monotonic, wall_clock=time.time, sfu=None):
        self._sfu = sfu or SfuRooms(settings)
        self._socketio = socketio
        self._scenes = scenes
        self._guard = guard
        self._server = socketio.server
        self._registry = registry
        self._settings = settings
        self._clock = clock
        self._wall_clock = wall_clock
        socketio.on("connect")(self.on_connect)
        socketio.on("disconnect")(self.on_disconnect)
        handlers = {
            "join": self.on_join,
            "leave": self.on_leave,
            "signal": self.on_signal,
            "chat": self.on_chat,
            "media": self.on_media,
            "scene": self.on_scene,
            "ice-servers": self.on_ice_servers,
            "sfu-token": self.on_sfu_token,
        }
        for event, handler in handlers.items():
            socketio.on(event)(self._answering(event, handler))
        socketio.on("*")(self.on_unknown)
        self.metrics = Metrics(registry, handlers)
        if self._sfu.enabled:
            self.metrics.watch_sfu(self._sfu)
        if hasattr(self._server.manager, "after_delivery"):  # several processes: the old socket may be on another
            self._server.manager.after_delivery("replaced", self._cut_off_channel)
        if registry.upkeep_seconds:
            socketio.start_background_task(self._keep_up)
        if self._sfu.enabled:
            socketio.start_background_task(self._watch_janus)

    # --- connection lifecycle -------------------------------------------------

    def on_connect(self, auth=None):
        settings = self._settings
        address = request.remote_addr or ""
        try:
            self._guard.connect(address)
        except ProtocolError as refused:
            self.metrics.error(refused.code)
            # The client's connect_error gets {message, data: {code, message}}; no disconnect follows.
            raise ConnectionRefusedError(refused.message, refused.reply()["error"]) from None
        self.metrics.connected()
        request.environ[CONNECTION_KEY] = Connection(
            address=address,
            events=TokenBucket(settings.events_per_second, settings.event_burst, self._clock),
            chats=TokenBucket(settings.chats_per_second, settings.chat_burst, self._clock),
            strikes=TokenBucket(FLOOD_STRIKES_PER_SECOND, settings.flood_strikes, self._clock),
        )

    def on_disconnect(self, reason=None):
        connection = self._connection()
        if connection is None:
            return
        self.metrics.disconnected()
        self._guard.disconnect(connection.address)
        request.environ.pop(CONNECTION_KEY, None)
        if connection.peer_id is not None:
            self._leave(connection)

    def _proves_membership(self, connection, join):
        """Whether this join comes back to a membership of the same room: the same connection,
        or the id and token of a join reply."""
        if connection.peer_id is not None:
            peer = self._registry.peer(connection.peer_id)
            return peer is not None and peer.room == join.room
        if join.resume is None:
            return False
        peer = self._registry.peer(join.resume.id)
        return holds_token(peer, join.resume.token) and peer.room == join.room

    # --- events -------------------------------------------------------------

    def on_join(self, connection, payload):
        join = protocol.parse_join(payload)
        self._guard.join(connection.address, join.room, member=self._proves_membership(connection, join))
        peer_id, token = new_peer_id(), secrets.token_urlsafe(16)
        replaces, resume_token = connection.peer_id, None
        if replaces is None and join.resume is not None:
            replaces, resume_token = join.resume.id, join.resume.token
        try:
            joined = self._registry.join(
                peer_id, join.room, join.name, join.password, join.audio, join.video, replaces, token=token, resume_token=resume_token
            )
        except WrongPassword:
            if join.password:  # a join without one (a page's first, into a room it did not know was locked) guesses nothing
                self._guard.wrong_password(connection.address, join.room)
            raise
        if joined.left is not None:
            if resume_token is not None:
                self._cut_off(joined.left)
            self._announce_departure(joined.left)
        sfu = self._admit_to_sfu(joined)
        connection.peer_id = peer_id
        log.info("joined", extra={"fields": {"room": join.room, "peer": peer_id, "replaced": joined.left.id if joined.left else None}})
        self._server.enter_room(request.sid, room_channel(join.room))
        self._server.enter_room(request.sid, peer_channel(peer_id))
        self._socketio.emit("peer-joined", joined.peer.public(), to=room_channel(join.room), skip_sid=request.sid)
        if sfu is not None:
            self._socketio.emit("sfu", sfu, to=room_channel(join.room), skip_sid=request.sid)
        return {
            **({"sfu": sfu} if sfu is not None else {}),
            "id": peer_id,
            "token": token,
            "room": join.room,
            "name": joined.peer.name,
            "peers": [peer.public() for peer in joined.others],
            "chat": joined.chat,
            "scene": joined.scene.public(),
            **self._ice_configuration(peer_id, connection.address),
        }

    def on_ice_servers(self, connection, payload):
        protocol.parse_empty(payload)
        return self._ice_configuration(self._member(connection).id, connection.address)

    def on_sfu_token(self, connection, payload):
        protocol.parse_empty(payload)
        renewed = self._sfu.renew(self._member(connection).room)
        if renewed is None:
            raise ProtocolError("bad_request", "Your room is not on the SFU.")
        return renewed

    def on_leave(self, connection, payload):
        protocol.parse_empty(payload)
        self._member(connection)
        self._leave(connection)
        return {}

    def on_signal(self, connection, payload):
        signal = protocol.parse_signal(payload)
        sender = self._member(connection)
        target = self._registry.peer(signal.to)
        if target is None or target.room != sender.room or target.id == sender.id:
            raise ProtocolError("unknown_peer", f"No peer {signal.to!r} in your room.")
        message = {"from": sender.id, "kind": signal.kind, "data": signal.data}
        # A peer of this process is reached directly; publishing it to every process
        # would cost each of them a decode for nothing.
        self._socketio.emit("signal", message, to=peer_channel(target.id), ignore_queue=self._registry.serves(target.id))
        return {}

    def on_chat(self, connection, payload):
        chat = protocol.parse_chat(payload)
        sender = self._member(connection)
        if not connection.chats.take():
            raise ProtocolError("rate_limited", "Too many chat messages; wait a moment.")
        message = {
            "id": secrets.token_urlsafe(9),
            "from": sender.id,
            "name": sender.name,
            "text": chat.text,
            "ts": int(self._wall_clock() * 1000),
        }
        self._registry.add_chat(sender.room, message)
        self._socketio.emit("chat", message, to=room_channel(sender.room))
        return {"message": message}

    def on_media(self, connection, payload):
        media = protocol.parse_media(payload)
        peer = self._registry.set_media(self._member(connection).id, media.audio, media.video, media.screen)
        update = {"id": peer.id, **peer.media()}
        self._socketio.emit("media", update, to=room_channel(peer.room), skip_sid=request.sid)
        return {}

    def on_scene(self, connection, payload):
        # Membership first: a connection that never joined costs nothing but this lookup.
        sender = self._member(connection)
        edit = protocol.parse_scene(payload)
        self._scenes.validate(edit.scene)
        state = self._registry.set_scene(sender.room, edit.scene, edit.version, sender.id)
        self._socketio.emit("scene", state.public(), to=room_channel(sender.room), skip_sid=request.sid)
        return {"version": state.version}

    # --- helpers ------------------------------------------------------------

    def _answering(self, event, handler):
        """Wrap a handler: one payload, rate limit, the reply shape, the one failure path."""

        def answer(*args):
            connection = self._connection()
            self.metrics.event(event)
            try:
                if connection is None:
                    raise ProtocolError("not_joined", "The connection is closing.")
                if len(args) > 1:
                    raise ProtocolError("bad_request", "Send exactly one payload object.")
                if not connection.events.take():
                    raise ProtocolError("rate_limited")
                return {"ok": True, **handler(connection, args[0] if args else None)}
            except ProtocolError as error:
                self.metrics.error(error.code)
                if error.code == "rate_limited" and connection is not None and not connection.strikes.take():
                    self._disconnect_flooder(connection, event)
                return error.reply()
            except Exception:
                log.exception("event failed", extra={"fields": {"event": event}})
                self.metrics.error("internal")
                return ProtocolError("internal").reply()

        answer.__name__ = f"on_{event}"
        return _errors_as_events_without_ack(self._socketio, event, answer)

    def _disconnect_flooder(self, connection, event):
        """A client that goes on sending after `rate_limited` answers is cut off, told why first."""
        log.warning("flooding: disconnected", extra={"fields": {"address": connection.address, "event": event}})
        message = "Disconnected: too many events after being told to slow down."
        self._socketio.emit("error", {"code": "rate_limited", "message": message, "event": event}, to=request.sid)
        self._server.disconnect(request.sid)

    def on_unknown(self, event, *args):
        def refuse(connection, payload):
            raise ProtocolError("bad_request", f"Unknown event {event!r}.")

        return self._answering(event, refuse)(*args)

    def _sid_of(self, peer_id):
        """The socket of one of this process's members (its own channel holds only it)."""
        return next((sid for sid, _ in self._server.manager.get_participants("/", peer_channel(peer_id))), None)

    def _connection(self):
        return request.environ.get(CONNECTION_KEY)

    def _ice_configuration(self, peer_id, address):
        """A member's RTCPeerConnection configuration, fresh TURN credentials included (unless
        its address had its share this minute), and when to renew them."""
        with_turn = not limits_turn(self._settings) or self._guard.turn(address)
        return {
            "iceServers": ice_servers(self._settings, peer_id, self._wall_clock(), with_turn=with_turn),
            "iceTransportPolicy": self._settings.ice_transport_policy,
            "iceRenewSeconds": renew_seconds(self._settings) if with_turn else WITHHELD_RETRY_SECONDS,
        }

    def _member(self, connection):
        peer = self._registry.peer(connection.peer_id) if connection.peer_id else None
        if peer is None:
            raise NotJoined()
        return peer

    def _leave(self, connection):
        peer = self._registry.leave(connection.peer_id)
        connection.peer_id = None
        if peer is not None:
            self._announce_departure(peer)

    def _cut_off(self, peer):
        """A membership taken over with its token (a page reloaded, a second tab): its old socket,
        if still open, hears `replaced` and leaves the room's channels, on whichever process."""
        self._socketio.emit("replaced", {}, to=peer_channel(peer.id))
        self._cut_off_channel(peer_channel(peer.id))

    def _cut_off_channel(self, channel):
        """This process's socket on a peer's own channel, if any, leaves every room and is no member any more."""
        if not channel.startswith(peer_channel("")):
            return  # only a peer's own channel: never a whole room
        for sid, _ in list(self._server.manager.get_participants("/", channel)):
            for room in self._server.rooms(sid):
                if room != sid:
                    self._server.leave_room(sid, room)
            connection = (self._server.get_environ(sid) or {}).get(CONNECTION_KEY)
            if connection is not None:
                connection.peer_id = None
            log.info("replaced", extra={"fields": {"peer": channel.removeprefix("peer:")}})

    def _admit_to_sfu(self, joined):
        """The room's `sfu` description if it is on Janus (moved there now if this join takes it past
        MESH_MAX); a join that needs Janus when no instance takes the room is undone: `room_full`."""
        try:
            return self._sfu.admit(joined.peer.room, [joined.peer, *joined.others])
        except SfuUnavailable as error:
            log.error("room cannot move to the SFU: %s", error, extra={"fields": {"room": joined.peer.room}})
            self._registry.leave(joined.peer.id)
            raise RoomFull(self._settings.mesh_max) from None

    def _left_sfu(self, peer):
        """A member is gone: Janus kicks its feed, or destroys the room with its last member."""
        try:
            self._sfu.left(peer, self._registry.members(peer.room))
        except ProtocolError:
            pass  # Redis is away (the registry logged it); Janus's own timeout ends the session

    def _announce_departure(self, peer):
        log.info("left", extra={"fields": {"room": peer.room, "peer": peer.id}})
        self._left_sfu(peer)
        self._server.leave_room(request.sid, peer_channel(peer.id))
        self._server.leave_room(request.sid, room_channel(peer.room))
        self._socketio.emit("peer-left", {"id": peer.id}, to=room_channel(peer.room))

    # --- several processes --------------------------------------------------

    def _keep_up(self):
        """Run the registry's upkeep for as long as the server runs, and tell the rooms:
        peers of a stopped process are gone; peers put back into a Redis that came
        back empty hear `restored` (their browsers give the room's scene back)."""
        while True:
            self._socketio.sleep(self._registry.upkeep_seconds)
            try:
                upkeep = self._registry.upkeep()
            except ProtocolError:
                continue  # Redis is away; the registry said so once in the log
            except Exception:
                log.exception("room upkeep failed")
                continue
            for peer in upkeep.gone:
                log.info("swept", extra={"fields": {"room": peer.room, "peer": peer.id}})
                self._left_sfu(peer)
                self._socketio.emit("peer-left", {"id": peer.id}, to=room_channel(peer.room))
            for peer in upkeep.restored:
                # Taken for dead and swept, the room heard `peer-left`: it is back. (After Redis came
                # back empty the others knew it all along, and take this as an update.)
                self._socketio.emit("peer-joined", peer.public(), to=room_channel(peer.room), skip_sid=self._sid_of(peer.id))
                self._socketio.emit("restored", {}, to=peer_channel(peer.id))
            if upkeep.restored:
                log.warning("members put back into Redis: %d", len(upkeep.restored))


    def _watch_janus(self):
        """Keep the Janus sessions alive; a room moved off an instance that stopped answering is
        announced to its members again (`sfu` with the new instance), and their pages republish."""
        while True:
            self._socketio.sleep(CHECK_SECONDS)
            try:
                for room, placement in self._sfu.check():
                    self._socketio.emit("sfu", self._sfu.describe(placement, self._registry.members(room)), to=room_channel(room))
            except ProtocolError:
                continue  # Redis is away; the next round tries again
            except Exception:
                log.exception("Janus check failed")


class _WithoutAck:
    """The last argument of an event the client sent without asking for an acknowledgement."""

    def __repr__(self):
        return "WITHOUT_ACK"


WITHOUT_ACK = _WithoutAck()


class AckAwarePacket(packet.Packet):
    """python-socketio's packet, except that an event sent without an ack id gets WITHOUT_ACK as its last argument.

    python-socketio calls a handler the same way whether or not the client asked
    for an acknowledgement, and drops the reply when it did not; none of its
    handler APIs (functions, catch-all, class-based namespaces) says which. The
    packet class, which python-socketio's documented `serializer` option lets an
    application replace, is the one public place that sees the ack id.
    create_app passes this class as the serializer.
    """

    # JSON without NaN, infinities or integers of over 100 digits.
    json = StrictJson

    def __init__(self, *args, encoded_packet=None, **options):
        if encoded_packet is not None and not encoded_packet:  # python-socketio would take it for an empty event
            raise MalformedPacket("no packet type")
        super().__init__(*args, encoded_packet=encoded_packet, **options)

    def decode(self, encoded_packet):
        """Anything but a text packet of the kinds a client sends raises MalformedPacket (sessions.py)."""
        attachments = decode_strictly(super().decode, encoded_packet)
        check_shape(self)
        if self.packet_type == packet.EVENT and self.id is None:
            self.data.append(WITHOUT_ACK)
        return attachments


def _errors_as_events_without_ack(socketio, event, answer):
    """python-socketio drops a handler's reply when the client sent no ack callback.

    Such a client still learns why its event failed: a failed reply goes to it as
    an `error` event `{code, message, event}`; a successful one is dropped as usual.
    """

    def answer_or_report(*args):
        if not args or args[-1] is not WITHOUT_ACK:
            return answer(*args)
        reply = answer(*args[:-1])
        if not reply["ok"]:
            socketio.emit("error", {**reply["error"], "event": event}, to=request.sid)
        return None

    answer_or_report.__name__ = answer.__name__
    return answer_or_report
