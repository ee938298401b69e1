"""What the views are handed: the services create_app makes, in one object, read through `services()`."""

from dataclasses import dataclass

from flask import current_app
from flask_socketio import SocketIO

from .broadcast import Broadcasts
from .guard import Guard
from .metrics import Metrics
from .rooms import RoomRegistry, member_by_credential
from .scenes import SceneSchema
from .settings import Settings
from .sfu.rooms import SfuRooms
from .uploads import ImageStore

EXTENSION = "ensemble"


@dataclass(frozen=True)
class Services:
    settings: Settings
    socketio: SocketIO
    registry: RoomRegistry
    guard: Guard
    scenes: SceneSchema
    images: ImageStore
    metrics: Metrics
    sfu: SfuRooms
    broadcasts: Broadcasts

    def member(self, credential):
        """The member proven by an X-Ensemble-Member credential, or ProtocolError `not_joined` (403)."""
        return member_by_credential(self.registry, credential)

    def health(self):
        """What /healthz says: the room store's state and what this process serves."""
        rooms, peers = self.registry.served()
        janus = {"janus": self.sfu.health()} if self.sfu.enabled else {}
        return {**self.registry.health(), "rooms": rooms, "peers": peers, **janus}


def services() -> Services:
    """The services of the current app (create_app stores them)."""
    return current_app.extensions[EXTENSION]
