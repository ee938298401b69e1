"""A stand-in's seat in a room on Janus (bench/relay.py): what a page does in static/js/call/sfu.js,
done with aiortc. One session on Janus's WebSocket API with the tokens the server handed out,
one publication of the stand-in's looped video, and one subscription per other member's feed
it wants, whose media is received and dropped.

What happens is told to `report(event, **fields)`: "published"; "subscribed", "feed-ended"
(Janus hung that subscription up) and "feed-silent" (its packets stopped), each with `peer`;
"kicked" (Janus ended our publication: the server kicked us, or the room went).
"""

import asyncio
import json
import secrets
import time

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole

VIDEOROOM = "janus.plugin.videoroom"
NO_SUCH_FEED = 428
# Janus forgets a session after `session_timeout` (60 s in config/janus) without a request.
KEEPALIVE_SECONDS = 20
REQUEST_SECONDS = 10
# A subscribe refused with "no such feed" (the publisher is not up yet) is tried again.
RESUBSCRIBE_SECONDS, RESUBSCRIBE_TRIES = 0.5, 40
# A subscription that was receiving and has had no packet for this long has gone silent.
WATCH_SECONDS, SILENT_SECONDS = 0.1, 1.0


class JanusRefused(RuntimeError):
    def __init__(self, code, reason):
        super().__init__(f"Janus refused: {code} {reason}")
        self.code = code


class JanusLink:
    """One session on Janus's WebSocket API; every request carries the core token. A plugin
    message resolves with its answer (the `success` or the `event` of its transaction); what
    Janus pushes for a handle goes to `on_event(handle, message)`."""

    def __init__(self, url, token, on_event):
        self._url, self.token, self._on_event = url, token, on_event
        self._pending = {}
        self._http = self._ws = self._reader = self._keepalive = None
        self.session = None

    async def open(self):
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(self._url, protocols=("janus-protocol",))
        self._reader = asyncio.ensure_future(self._read())
        self.session = (await self._request({"janus": "create"}))["data"]["id"]
        self._keepalive = asyncio.ensure_future(self._keep_alive())

    async def attach(self):
        return (await self._request({"janus": "attach", "plugin": VIDEOROOM}))["data"]["id"]

    async def message(self, handle, body, jsep=None):
        """The plugin's answer: (data, jsep or None); JanusRefused when it says `error_code`."""
        request = {"janus": "message", "handle_id": handle, "body": body, **({"jsep": jsep} if jsep else {})}
        reply = await self._request(request)
        data = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusRefused(data["error_code"], data.get("error", ""))
        return data, reply.get("jsep")

    async def close(self):
        for task in (self._keepalive, self._reader):
            if task:
                task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()

    async def _request(self, message):
        transaction = secrets.token_hex(6)
        answer = asyncio.get_running_loop().create_future()
        self._pending[transaction] = (answer, message["janus"] == "keepalive")
        message = {**message, "transaction": transaction, "token": self.token}
        if self.session is not None:
            message["session_id"] = self.session
        await self._ws.send_str(json.dumps(message))
        try:
            reply = await asyncio.wait_for(answer, REQUEST_SECONDS)
        finally:
            self._pending.pop(transaction, None)
        if reply["janus"] == "error":
            raise JanusRefused(reply["error"]["code"], reply["error"]["reason"])
        return reply

    async def _read(self):
        async for frame in self._ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            waiting = self._pending.get(message.get("transaction"))
            # A plugin message's `ack` only says it arrived; a keep-alive's is its answer.
            if waiting and (message["janus"] != "ack" or waiting[1]):
                if not waiting[0].done():
                    waiting[0].set_result(message)
            elif not waiting and message.get("sender"):
                self._on_event(message["sender"], message)

    async def _keep_alive(self):
        while True:
            await asyncio.sleep(KEEPALIVE_SECONDS)
            try:
                await self._request({"janus": "keepalive"})
            except (TimeoutError, JanusRefused, ConnectionError):
                pass  # a lost session shows in the events (hangup), not here


def offered(description):
    """aiortc's local description as Janus takes it (candidates are in the SDP: no trickle)."""
    return {"type": description.type, "sdp": description.sdp, "trickle": False}


class JanusSeat:
    """`description` is the server's `sfu` event (docs/protocol.md); `track` what we publish
    (None: nothing); `wanted(peer)` whether to subscribe to a peer's feed."""

    def __init__(self, peer_id, description, track, report, wanted=lambda peer: True):
        self._peer_id, self._track, self._report, self._wanted = peer_id, track, report, wanted
        self._description = description
        self._link = JanusLink(description["url"], description["tokens"]["core"], self._heard)
        self._publisher = None
        self._connections = []
        self._feeds = {}  # subscription handle -> peer
        self._subscribed = set()
        self._started = False
        self._drop = MediaBlackhole()

    def same_room(self, description):
        return (description["url"], description["room"]) == (self._description["url"], self._description["room"])

    async def start(self):
        await self._link.open()
        if self._track is not None:
            await self._publish()
        self._started = True
        await self.update(self._description)

    async def _publish(self):
        self._publisher = await self._link.attach()
        room, feeds, tokens = self._description["room"], self._description["feeds"], self._description["tokens"]
        join = {
            "request": "join",
            "ptype": "publisher",
            "room": room,
            "id": feeds[self._peer_id],
            "token": tokens["room"],
            "display": self._peer_id,
        }
        await self._link.message(self._publisher, join)
        connection = self._connection()
        connection.addTransceiver(self._track, direction="sendonly")
        await connection.setLocalDescription(await connection.createOffer())
        _, answer = await self._link.message(
            self._publisher, {"request": "publish", "display": self._peer_id}, offered(connection.localDescription)
        )
        await connection.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type=answer["type"]))
        self._report("published")

    async def update(self, description):
        """The room's news (a member joined): subscribe to feeds not yet taken."""
        self._description = description
        self._link.token = description["tokens"]["core"]
        if not self._started:
            return
        for peer, feed in description["feeds"].items():
            if peer != self._peer_id and peer not in self._subscribed and self._wanted(peer):
                self._subscribed.add(peer)
                asyncio.ensure_future(self._subscribe_to(peer, feed))

    def set_tokens(self, tokens):
        """Renewed tokens (`sfu-token`), for every request from now on: with expired ones Janus
        refuses even the keep-alives, and forgets the session a minute later."""
        self._description = {**self._description, "tokens": tokens}
        self._link.token = tokens["core"]

    def forget(self, peer):
        """A member left: a later member is a new peer, and Janus ends the subscription itself."""
        self._subscribed.discard(peer)

    async def close(self):
        for connection in self._connections:
            await connection.close()
        await self._link.close()

    async def _subscribe_to(self, peer, feed):
        handle = await self._link.attach()
        self._feeds[handle] = peer
        body = {"request": "join", "ptype": "subscriber", "room": self._description["room"], "streams": [{"feed": feed}]}
        for _ in range(RESUBSCRIBE_TRIES):
            try:
                _, offer = await self._link.message(handle, {**body, "token": self._description["tokens"]["room"]})
                break
            except JanusRefused as refused:
                if refused.code != NO_SUCH_FEED:
                    raise
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
        else:
            raise JanusRefused(NO_SUCH_FEED, f"{peer}'s feed never came up")
        connection = self._connection()

        @connection.on("track")
        def on_track(track):
            self._drop.addTrack(track)
            asyncio.ensure_future(self._drop.start())

        await connection.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type=offer["type"]))
        await connection.setLocalDescription(await connection.createAnswer())
        await self._link.message(handle, {"request": "start"}, offered(connection.localDescription))
        self._report("subscribed", peer=peer)
        asyncio.ensure_future(self._watch(peer, connection))

    def _connection(self):
        # No ICE servers: aiortc's default is Google's STUN server, off this machine.
        connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._connections.append(connection)
        return connection

    def _heard(self, handle, message):
        data = message.get("plugindata", {}).get("data", {})
        # Our own kick reads `leaving: "ok"` (another's leaving or kick names its feed instead).
        ended = message["janus"] == "hangup" or data.get("leaving") == "ok"
        if handle == self._publisher and ended:
            self._report("kicked", at=time.time())
        elif handle in self._feeds and message["janus"] == "hangup":
            self._report("feed-ended", peer=self._feeds.pop(handle), at=time.time())

    async def _watch(self, peer, connection):
        """Report "feed-silent" (`at`: when its last packet came) once a subscription that was
        receiving gets no packet for SILENT_SECONDS: what its feed's members receive stopped."""
        packets, changed = 0, time.time()
        while connection.connectionState not in ("closed", "failed"):
            await asyncio.sleep(WATCH_SECONDS)
            stats = (await connection.getStats()).values()
            now, received = time.time(), sum(stat.packetsReceived for stat in stats if stat.type == "inbound-rtp")
            if received != packets:
                packets, changed = received, now
            elif packets and now - changed >= SILENT_SECONDS:
                self._report("feed-silent", peer=peer, at=changed)
                return
