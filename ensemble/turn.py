"""ICE servers for browsers: STUN URLs and TURN credentials (pure functions).

With a shared secret the credentials follow the TURN REST convention that
coturn's `use-auth-secret` checks: the username is `<expiry>:<label>` and the
password is base64(HMAC-SHA1(secret, username)).
"""

import base64
import hashlib
import hmac


def turn_credentials(secret, label, now, ttl_seconds):
    username = f"{int(now) + ttl_seconds}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(settings, label, now, with_turn=True):
    """The RTCPeerConnection `iceServers` list for one client; TURN only `with_turn` (members)."""
    servers = []
    if settings.stun_urls:
        servers.append({"urls": list(settings.stun_urls)})
    if settings.turn_urls and with_turn:
        if settings.turn_secret:
            username, credential = turn_credentials(settings.turn_secret, label, now, settings.turn_ttl_seconds)
        else:
            username, credential = settings.turn_username, settings.turn_password
        servers.append({"urls": list(settings.turn_urls), "username": username, "credential": credential})
    return servers


# When a member answered without TURN (TURN_CREDENTIALS_PER_IP_PER_MINUTE reached) asks again.
WITHHELD_RETRY_SECONDS = 60


def limits_turn(settings):
    """Whether handing out TURN credentials is counted: only time-limited ones are worth it
    (fixed ones, once seen, are known for good)."""
    return bool(settings.turn_urls and settings.turn_secret)


def renew_seconds(settings):
    """When a client should ask for fresh credentials: halfway through their lifetime, so a
    relayed call outlives them; None when they do not expire (none, or fixed ones)."""
    if settings.turn_urls and settings.turn_secret:
        return max(1, settings.turn_ttl_seconds // 2)
    return None
