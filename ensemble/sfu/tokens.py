"""Janus's HMAC-signed tokens (`token_auth_secret`), minted for the members of a room.

A token is `<expiry>,<realm>,<descriptor>…:<signature>`: the expiry in Unix seconds, the realm,
what it opens, and the base64 HMAC-SHA1 of everything before the colon under the shared secret.
Janus checks the expiry, the realm and the signature, and that the descriptor it needs is one of
the list: the core (realm `janus`) wants the plugin's package, the VideoRoom (realm
`janus.plugin.videoroom`) wants `room=<id>` in a room created with `signed_tokens`.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass

CORE_REALM = "janus"
VIDEOROOM = "janus.plugin.videoroom"


def feed_id(secret, peer_id):
    """A member's VideoRoom feed id: made from its peer id, the same on every process, below 2**53."""
    digest = hmac.new(secret.encode(), peer_id.encode(), hashlib.sha256).digest()
    return 1 + int.from_bytes(digest[:6], "big")


def sign(secret, expires, realm, descriptors):
    """A token of `realm` opening `descriptors` until `expires` (Unix seconds)."""
    data = ",".join([str(int(expires)), realm, *descriptors])
    signature = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(signature).decode()}"


@dataclass(frozen=True)
class MemberTokens:
    """What a member of a room on Janus shows: `core` with every request, `room` when it joins."""

    core: str
    room: str
    expires: int

    def public(self):
        return {"core": self.core, "room": self.room, "expires": self.expires}


def member_tokens(secret, janus_room, now, seconds):
    """The two tokens that let a member into VideoRoom room `janus_room` (and no other) for `seconds`."""
    expires = int(now + seconds)
    return MemberTokens(
        core=sign(secret, expires, CORE_REALM, [VIDEOROOM]),
        room=sign(secret, expires, VIDEOROOM, [f"room={janus_room}"]),
        expires=expires,
    )
