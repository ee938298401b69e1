"""Calls through a real coturn: a site that sends all media through its TURN server
(ICE_TRANSPORT_POLICY=relay, credentials made from coturn's shared secret), and what
people are told when that server refuses the site's credentials or does not answer."""

import re

import pytest

from harness.servers import CoturnProcess, ServerProcess, free_port
from tests.e2e.helpers import room_url, state, wait_connected, wait_videos_playing

REMOTE_QUALITY = ".tile:not(.self) .quality"


@pytest.fixture
def coturn(tmp_path):
    with CoturnProcess(tmp_path) as server:
        yield server


def test_with_relay_only_the_call_goes_through_the_turn_server(coturn, open_page, tmp_path):
    settings = {"turn_urls": coturn.url, "turn_secret": coturn.secret, "ice_transport_policy": "relay"}
    with ServerProcess(tmp_path, **settings) as server:
        ada = open_page(room_url(server, "relayed", "Ada"), "bars")
        bob = open_page(room_url(server, "relayed", "Bob"), "mandel")
        for page in (ada, bob):
            wait_connected(page, 1)
            wait_videos_playing(page, 1)
            # The connection dot's tooltip says which way the media goes.
            page.wait_for_function(
                f"() => document.querySelector('{REMOTE_QUALITY}')?.title.includes('through the relay server')", timeout=10_000
            )
        # coturn let each browser in with the time-limited name the server made for it.
        allocated = set(re.findall(r"user <\d+:([\w-]+)>: incoming packet ALLOCATE processed, success", coturn.log()))
        assert {state(ada)["self"]["id"], state(bob)["self"]["id"]} <= allocated, coturn.log()[-2000:]
        assert ada.locator("#notice").is_hidden()


def test_a_turn_server_refusing_the_sites_credentials_is_explained(coturn, open_page, tmp_path):
    settings = {"turn_urls": coturn.url, "turn_secret": "not-" + coturn.secret, "ice_transport_policy": "relay"}
    with ServerProcess(tmp_path, **settings) as server:
        ada = open_page(room_url(server, "refused", "Ada"), "bars")
        bob = open_page(room_url(server, "refused", "Bob"), "mandel")
        for page, other in ((ada, "Bob"), (bob, "Ada")):
            notice = page.locator("#notice[data-code='relay-unusable']")
            notice.wait_for(state="visible", timeout=20_000)
            text = notice.inner_text()
            assert f"Cannot connect to {other}" in text and f"turn:127.0.0.1:{coturn.port} answered “401 Unauthorized”" in text, text
            assert "TURN_SECRET" in text
        # Nothing got through: Bob is listed but not connected, his tile has shown no picture at all,
        # and it says it is still trying rather than showing a frozen one.
        [peer] = state(ada)["peers"]
        assert peer["name"] == "Bob" and peer["connectionState"] != "connected", peer
        frames = "() => document.querySelector('.tile:not(.self) video:not(.backdrop)').getVideoPlaybackQuality().totalVideoFrames"
        assert ada.evaluate(frames) == 0
        assert ada.locator(REMOTE_QUALITY).get_attribute("title") == "Connecting…"
        assert "ALLOCATE processed, success" not in coturn.log()


def test_a_turn_server_that_does_not_answer_is_explained_until_it_is_back(open_page, tmp_path):
    port = free_port()  # nothing listens there yet
    with ServerProcess(tmp_path, turn_urls=f"turn:127.0.0.1:{port}?transport=udp", turn_secret="secret", ice_transport_policy="relay") as server:
        ada = open_page(room_url(server, "silent", "Ada"), "bars")
        open_page(room_url(server, "silent", "Bob"), "mandel")
        notice = ada.locator("#notice[data-code='relay-unusable']")
        notice.wait_for(state="visible", timeout=20_000)
        assert f"Cannot connect to Bob: the relay server turn:127.0.0.1:{port} did not answer" in notice.inner_text()
        assert ada.locator(REMOTE_QUALITY).get_attribute("title") == "Connecting…"
        # The relay starts: the links keep retrying, connect through it, and the notice goes.
        with CoturnProcess(tmp_path, secret="secret", port=port):
            wait_connected(ada, 1, timeout=30_000)
            wait_videos_playing(ada, 1)
            notice.wait_for(state="hidden", timeout=5000)


def test_a_call_that_outlives_its_turn_credentials_still_lets_newcomers_in(coturn, open_page, tmp_path):
    # Credentials that live 10 s instead of 15 minutes: the pages ask for fresh ones halfway through.
    settings = {"turn_urls": coturn.url, "turn_secret": coturn.secret, "ice_transport_policy": "relay", "turn_ttl_seconds": 10}
    with ServerProcess(tmp_path, **settings) as server:
        ada = open_page(room_url(server, "long", "Ada"), "bars")
        bob = open_page(room_url(server, "long", "Bob"), "mandel")
        for page in (ada, bob):
            wait_connected(page, 1)
        ada_id = state(ada)["self"]["id"]
        # (the credentials she joined with: the earliest expiry, should a slow start have renewed them already)
        first_expiry = min(int(expiry) for expiry in re.findall(rf"user <(\d+):{ada_id}>: incoming packet ALLOCATE processed, success", coturn.log()))
        # Until the credentials the pages joined with have expired (coturn refuses them from then on) ...
        ada.wait_for_function("expiry => Date.now() / 1000 > expiry + 1", arg=first_expiry, timeout=30_000)
        # ... then someone new comes: the others' new links need relay addresses, made with renewed credentials.
        carol = open_page(room_url(server, "long", "Carol"), "bars")
        for page in (ada, bob, carol):
            wait_connected(page, 2, timeout=30_000)
            wait_videos_playing(page, 2)
        later = {int(expiry) for expiry in re.findall(rf"user <(\d+):{ada_id}>: incoming packet ALLOCATE processed, success", coturn.log())}
        assert max(later) > first_expiry + 5, later  # Ada's page has allocated with credentials renewed since her join
