"""Rooms past MESH_MAX on Janus: the server places them, creates and destroys their VideoRoom
rooms, kicks members who leave, mints members' tokens, and moves rooms off an instance that
stops answering. Signaling tells the pages (the `sfu` event); this module only talks to Janus
and to the placements."""

import logging
import time

from .janus import JanusConnection, JanusError, JanusUnreachable
from .placement import MemoryPlacements, NoInstance
from .tokens import feed_id, member_tokens

log = logging.getLogger(__name__)
ROOM_EXISTS = 427  # VideoRoom's "room already exists"
NO_SUCH_ROOM = 426
NO_SUCH_FEED = 428
CHECK_SECONDS = 2.0
# Keep-alives missed in a row before an instance leaves the rotation.
MISSES_TO_FAIL = 2


class SfuUnavailable(RuntimeError):
    """A room should move to Janus and no instance takes it."""


class SfuRooms:
    def __init__(self, settings, placements=None, clock=time.time, timeout=3.0):
        self._settings = settings
        self._placements = placements or MemoryPlacements()
        self._clock = clock
        self._connections = {url: JanusConnection(url, settings.janus_api_secret, timeout) for url in settings.janus_urls}
        self._misses = dict.fromkeys(settings.janus_urls, 0)
        self._sessions = dict.fromkeys(settings.janus_urls, 0)  # each connection's `sessions` at the last check
        self.renewals = 0
        self.moves = 0

    @property
    def enabled(self):
        return bool(self._connections)

    def answering(self):
        """The instances in the rotation, in JANUS_URLS order."""
        return [url for url, misses in self._misses.items() if misses < MISSES_TO_FAIL]

    # --- a room's life ----------------------------------------------------------

    def admit(self, room, members):
        """After a join: the room's `sfu` description if it is on Janus, moving it there when
        `members` (everyone, the new one included) are more than MESH_MAX. SfuUnavailable if it must move and cannot."""
        placement = self._placements.get(room) if self.enabled else None
        if placement is None and (not self.enabled or len(members) <= self._settings.mesh_max):
            return None
        try:
            if placement is None:
                placement, _ = self._placements.place(room, self.answering())
                log.info("room moves to the SFU", extra={"fields": {"room": room, "janus": placement.url}})
            self._create(placement)
        except (NoInstance, JanusUnreachable, JanusError) as error:
            raise SfuUnavailable(str(error)) from None
        return self.describe(placement, members)

    def describe(self, placement, members):
        """What every member is told: where the room is, each member's feed id, the tokens."""
        return {
            "url": self._settings.janus_public_url(placement.url),
            "room": placement.room_id,
            "feeds": {peer.id: self.feed(peer.id) for peer in members},
            "tokens": self._tokens(placement),
        }

    def renew(self, room):
        """Fresh tokens for a member of a room on Janus, or None if the room is a mesh."""
        placement = self._placements.get(room) if self.enabled else None
        if placement is None:
            return None
        self.renewals += 1
        return {"url": self._settings.janus_public_url(placement.url), "room": placement.room_id, "tokens": self._tokens(placement)}

    def left(self, peer, remaining):
        """A member left (or was removed): kick its feed, or destroy the room with its last member."""
        placement = self._placements.get(peer.room) if self.enabled else None
        if placement is None:
            return
        try:
            if remaining:
                self._kick(placement, peer.id)
            elif self._placements.release(peer.room, placement):
                self._janus(placement.url).videoroom({"request": "destroy", "room": placement.room_id, "secret": placement.secret})
        except (JanusUnreachable, JanusError) as error:
            log.warning("Janus did not take a departure: %s", error, extra={"fields": {"room": peer.room, "peer": peer.id}})

    def feed(self, peer_id):
        """The member's VideoRoom feed id (tokens.feed_id)."""
        return feed_id(self._settings.janus_token_secret, peer_id)

    # --- instances --------------------------------------------------------------

    def check(self):
        """Keep each instance's session alive; take one that missed MISSES_TO_FAIL keep-alives out
        of the rotation and place its rooms again; make the rooms of one that answers on a new
        session again (it may have restarted, and forgotten them). Returns [(room, placement)]
        moved by this process."""
        for url, connection in self._connections.items():
            try:
                connection.keepalive()
                if self._misses[url] >= MISSES_TO_FAIL:
                    log.warning("Janus at %s answers again", url)
                self._misses[url] = 0
                # A session after the first: the link was lost and made again since the last check.
                if connection.sessions > 1 and connection.sessions != self._sessions[url]:
                    self._restore(url)
                self._sessions[url] = connection.sessions
            except (JanusUnreachable, JanusError) as error:
                self._misses[url] += 1
                if self._misses[url] == MISSES_TO_FAIL:
                    log.error("Janus at %s stopped answering (%s): its rooms move", url, error)
        moved = []
        for url in set(self._connections) - set(self.answering()):
            moved += self._move_off(url)
        return moved

    def health(self):
        answering = set(self.answering())
        return {url: url in answering for url in self._connections}

    def load(self):
        """Rooms placed on each instance."""
        return {url: len(self._placements.rooms_on(url)) for url in self._connections}

    # --- inside -------------------------------------------------------------------

    def _placed_on(self, url):
        """(room, placement) of every room placed on `url` now (a listing may be a moment old)."""
        for room in self._placements.rooms_on(url):
            placement = self._placements.get(room)
            if placement is not None and placement.url == url:
                yield room, placement

    def _restore(self, url):
        """Create again the rooms placed on `url` (those it still has are left as they are)."""
        asked = 0
        for room, placement in self._placed_on(url):
            try:
                self._create(placement)
                asked += 1
            except (JanusUnreachable, JanusError) as error:
                log.error("room %s could not be made again on %s: %s", room, url, error)
        log.info("Janus at %s answers on a new session: its %d rooms made again if it had lost them", url, asked)

    def _move_off(self, url):
        moved = []
        for room, old in self._placed_on(url):
            try:
                placement, did = self._placements.move(room, old, self.answering())
                if did:
                    self._create(placement)
                    self.moves += 1
                    moved.append((room, placement))
            except (NoInstance, JanusUnreachable, JanusError) as error:
                log.error("room %s could not move off %s: %s", room, url, error)
        return moved

    def _create(self, placement):
        """The placement's VideoRoom room, made now unless it exists."""
        request = {
            "request": "create", "room": placement.room_id, "admin_key": self._settings.janus_admin_key,
            "secret": placement.secret, "signed_tokens": True, "is_private": True, "permanent": False,
            "publishers": self._settings.sfu_max_peers, "videocodec": "vp8", "audiocodec": "opus", "notify_joining": True,
        }
        try:
            self._janus(placement.url).videoroom(request)
        except JanusError as error:
            if error.code != ROOM_EXISTS:
                raise

    def _kick(self, placement, peer_id):
        request = {"request": "kick", "room": placement.room_id, "secret": placement.secret, "id": self.feed(peer_id)}
        try:
            self._janus(placement.url).videoroom(request)
        except JanusError as error:
            if error.code not in (NO_SUCH_FEED, NO_SUCH_ROOM):  # never joined Janus, or the room went with its instance
                raise

    def _tokens(self, placement):
        return member_tokens(self._settings.janus_token_secret, placement.room_id, self._clock(), self._settings.janus_token_seconds).public()

    def _janus(self, url):
        return self._connections[url]
