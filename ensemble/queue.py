"""Socket.IO emits that reach sockets on every server process, through Redis pub/sub.

python-socketio's RedisManager with its two transport hooks replaced: a publish
that gives up within seconds and reports to the same StoreHealth as the room
registry (one log line when Redis goes, one when it is back, instead of one per
event), and a listener that resubscribes within a second of Redis coming back
(the stock one waits up to a minute). Pub/sub is fire-and-forget: what is
published while a process is cut off is lost, and the browsers heal from that.
"""

import socketio
from redis.exceptions import RedisError

from .rooms.redis import connect

RESUBSCRIBE_SECONDS = 0.5


class RedisQueue(socketio.RedisManager):
    def __init__(self, url, health, channel="ensemble"):
        super().__init__(url, channel=channel)
        self._health = health
        self._publisher = None
        self._after_delivery = {}

    def after_delivery(self, event, handler):
        """Call `handler(room)` in every process once an emit of `event` to `room` has been
        delivered to that process's sockets (in the emitting one at once, in the others in
        the order the queue carries): what a process must do to its own sockets on news from another."""
        self._after_delivery[event] = handler

    def _handle_emit(self, message):
        super()._handle_emit(message)
        handler = self._after_delivery.get(message.get("event"))
        if handler is not None and message.get("room"):
            handler(message["room"])

    def _publish(self, data):
        try:
            if self._publisher is None:
                self._publisher = connect(self.redis_url, decode_responses=False)
            self._publisher.publish(self.channel, self.json.dumps(data))
        except RedisError as error:
            self._health.failed(error)
        else:
            self._health.succeeded()

    def _listen(self):
        while True:
            try:
                # No read timeout: a quiet channel is not a broken one.
                self.pubsub = connect(self.redis_url, decode_responses=False, socket_timeout=None, socket_keepalive=True).pubsub(
                    ignore_subscribe_messages=True
                )
                self.pubsub.subscribe(self.channel)
                for message in self.pubsub.listen():
                    if message["type"] == "message":
                        yield message["data"]
            except RedisError as error:
                self._health.failed(error)
                self.server.sleep(RESUBSCRIBE_SECONDS)
