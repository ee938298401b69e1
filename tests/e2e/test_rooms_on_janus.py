"""Rooms past MESH_MAX on real Janus (started here, in a network namespace: Janus offers no
loopback candidates), with real Chromium pages and aiortc stand-ins (bench/relay.py) in this
namespace reaching it over the veth pair: the move from the mesh without a reload, every video
playing through Janus, the room's news as before, and a departure that leaves the others going."""

import contextlib
import urllib.request

import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from bench.relay import relay_members
from ensemble.sfu.janus import JanusConnection
from ensemble.sfu.tokens import feed_id
from harness.browsers import chromium_flags, make_photo_camera
from harness.janus import JanusProcess, JanusSecrets, NetworkNamespace
from harness.servers import ServerProcess
from tests.e2e.helpers import (
    ANALYSIS_START_MS,
    VIDEO_FRAME,
    mean_difference,
    peer_ids,
    png_picture,
    room_url,
    slot_box,
    state,
    wait_source,
    wait_videos_playing,
)

MESH_MAX = 2

pytestmark = pytest.mark.skipif(not NetworkNamespace.available(), reason="network namespaces need root and iproute2")


@pytest.fixture(scope="module")
def janus(tmp_path_factory):
    with contextlib.ExitStack() as stack:
        namespace = stack.enter_context(NetworkNamespace())
        yield stack.enter_context(JanusProcess(tmp_path_factory.mktemp("janus"), namespace))


def janus_settings(instances, mesh_max=MESH_MAX):
    secrets = instances[0].secrets
    return {
        "janus_urls": ",".join(instance.url for instance in instances), "janus_api_secret": secrets.api,
        "janus_admin_key": secrets.admin_key, "janus_token_secret": secrets.token, "janus_token_seconds": 30, "mesh_max": mesh_max,
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory, janus):
    folder = tmp_path_factory.mktemp("server")
    with ServerProcess(folder, async_mode="gevent", upload_folder=folder / "uploads", **janus_settings([janus])) as process:
        yield process
    assert "Traceback" not in process.log(), process.log()


def wait_transport(page, count, transport, timeout=20_000):
    """Until `count` peers are listed, each connected, each carried by `transport` ("mesh" or "sfu")."""
    try:
        page.wait_for_function(
            """([count, transport]) => { const peers = window.ensemble?.state().peers ?? [];
                return peers.length === count && peers.every(p => p.connectionState === 'connected' && p.transport === transport); }""",
            arg=[count, transport],
            timeout=timeout,
        )
    except PlaywrightTimeoutError:
        seen = page.evaluate(
            """() => window.ensemble?.state() ?? {page: document.body.innerText.slice(0, 300),
                failed: performance.getEntriesByType('resource').filter(r => !r.responseStatus).map(r => r.name.split('/').pop())}"""
        )
        raise AssertionError(f"not {count} peers connected by {transport} within {timeout} ms: {seen}") from None


def feed_ids(janus, page):
    """Everyone's Janus feed id, by name, as the page knows them (for a failure's message)."""
    people = {**peer_ids(page), "self": state(page)["self"]["id"]}
    return {name: feed_id(janus.secrets.token, peer) for name, peer in people.items()}


def test_five_people_move_to_janus_when_the_fifth_joins_and_a_removed_one_is_cut_off_at_once(janus, chromium, tmp_path):
    """MESH_MAX is 4 (the default). Ada, Bob and Cleo are pages (Ada and Bob analyse their own
    cameras for the others), R1 and R2 are stand-ins (bench/relay.py: aiortc, publishing and
    subscribing on Janus as a page does). R2's join moves the room to Janus: every page plays
    every video through it, the shared masks ride with the frames, mute and chat are the
    server's news as before. Then R2 is removed while its Janus session runs on: Janus cuts
    its feed off within 2 s, for R2 and for R1, which was receiving it."""
    with ServerProcess(tmp_path, async_mode="gevent", **janus_settings([janus], mesh_max=4)) as server, contextlib.ExitStack() as stack:
        pages, console = {}, {"Ada": [], "Bob": [], "Cleo": []}
        people = (("Ada", "sample1-left", {"analysis": "on"}), ("Bob", "sample3-middle", {"analysis": "on"}), ("Cleo", "sample1-right", {}))
        for name, photo, params in people:
            browser = stack.enter_context(contextlib.closing(chromium(chromium_flags(make_photo_camera(tmp_path, photo)))))
            pages[name] = browser.new_page(viewport={"width": 1280, "height": 800})
            pages[name].on("console", lambda message, name=name: console[name].append(message.text))
            pages[name].goto(room_url(server, "five", name, **params))
        for page in pages.values():
            wait_transport(page, 2, "mesh", timeout=30_000)
        first = stack.enter_context(relay_members(server.url, "five", ["sample2"], idle=False))
        for page in pages.values():
            wait_transport(page, 3, "mesh", timeout=30_000)
        fifth = stack.enter_context(relay_members(server.url, "five", ["sample4"], idle=False, first=2))
        # Shown if the test fails (pytest prints what a failed test wrote): what the stand-ins and pages said.
        stack.callback(lambda: print(f"R1: {first.seen()}\nR2: {fifth.seen()}\nconsoles: {console}\nfeeds: {feed_ids(janus, pages['Ada'])}"))
        for page in pages.values():
            wait_transport(page, 4, "sfu", timeout=40_000)
            wait_videos_playing(page, 4, timeout=30_000)
        ids = peer_ids(pages["Ada"])
        first.wait_for("subscribed", "R1", peer=ids["R2"])
        for viewer, sender in (("Ada", "Bob"), ("Bob", "Ada")):
            result = wait_source(pages[viewer], peer_ids(pages[viewer])[sender], "sender", timeout=ANALYSIS_START_MS)
            assert result["source"] == "sender" and result["mask"], (viewer, sender, result)
        # Cleo does not analyse: what Ada and Bob share reaches her whole all the same.
        sharing = pages["Cleo"].evaluate("() => window.ensemble.sharing()")
        assert sharing["received"]["packets"] > 0 and sharing["received"]["damaged"] == 0, sharing

        pages["Ada"].get_by_role("button", name="Mute").click()
        # Three browsers analysing on two cores: the news is prompt, the pages showing it less so.
        for name in ("Bob", "Cleo"):
            pages[name].locator(".tile", has_text="Ada").locator(".badge.muted").wait_for(state="visible", timeout=10_000)
        pages["Bob"].get_by_label("Message").fill("still here")
        pages["Bob"].get_by_role("button", name="Send", exact=True).click()
        for page in pages.values():
            page.locator(".chat-log li:not(.note) .text", has_text="still here").wait_for(timeout=10_000)

        fifth.leave("R2")
        left = fifth.wait_for("left-room", "R2")["at"]
        kicked = fifth.wait_for("kicked", "R2")["at"]
        # R1 does not act on R2's departure: the last of R2's packets reaches it within 2 s all the same.
        cut_off = first.wait_for("feed-silent", "R1", peer=ids["R2"])["at"]
        assert kicked - left <= 2 and cut_off - left <= 2, (kicked - left, cut_off - left)
        # Only R2 is gone from Janus: everyone else still publishes there.
        everyone = {*ids.values(), state(pages["Ada"])["self"]["id"]}
        assert {feed["display"] for feed in participants(janus)} & everyone == everyone - {ids["R2"]}
        for page in pages.values():
            page.wait_for_function("() => document.querySelectorAll('.tile:not(.self)').length === 3", timeout=3000)
            wait_transport(page, 3, "sfu")
            wait_videos_playing(page, 3)
        assert sorted(peer_ids(pages["Ada"])) == ["Bob", "Cleo", "R1"]


def test_who_speaks_and_a_shared_screen_come_through_janus(server, chromium, tmp_path):
    """Through Janus as in the mesh: Chromium's fake microphones beep, so Bob's speaking ring
    lights on Ada's page and Cleo's, muted, does not; Bob shares his screen, which is pinned
    for the others and arrives larger than his camera (his publication's layers are fitted to
    the screen, and a pinned tile takes the highest). Cameras are still photos, so the group
    photo can be held against each person's video."""
    with contextlib.ExitStack() as stack:
        pages = []
        for name, photo in (("Ada", "sample1-left"), ("Bob", "sample3-middle"), ("Cleo", "sample1-right")):
            browser = stack.enter_context(contextlib.closing(chromium(chromium_flags(make_photo_camera(tmp_path, photo)))))
            pages.append(browser.new_page(viewport={"width": 1280, "height": 800}))
            pages[-1].goto(room_url(server, "stage", name))
        speaking_screen_and_photo(*pages)


def speaking_screen_and_photo(ada, bob, cleo):
    """The steps of the test above, once its three pages are open."""
    for page in (ada, bob, cleo):
        wait_transport(page, 2, "sfu", timeout=30_000)
    cleo.get_by_role("button", name="Mute", exact=True).click()
    cleo_tile = ada.locator(".tile:not(.self)", has_text="Cleo")
    cleo_tile.locator(".badge.muted").wait_for(timeout=10_000)
    cleo_tile.and_(ada.locator(".tile:not(.speaking)")).wait_for(timeout=5000)  # her ring, if it was on, goes off with the mute
    # From now on: Bob's ring lights for two seconds in all while Cleo's never does.
    ada.evaluate(
        """() => { window.__rings = {};
            for (const tile of document.querySelectorAll('.tile:not(.self)')) {
                const name = tile.querySelector('.name').textContent, ring = window.__rings[name] = {ms: 0, since: null};
                const update = () => { const now = performance.now(); if (ring.since !== null) ring.ms += now - ring.since;
                    ring.since = tile.classList.contains('speaking') ? now : null; };
                update();
                new MutationObserver(update).observe(tile, {attributes: true, attributeFilter: ['class']});
            }
            window.__rang = (name) => { const ring = window.__rings[name];
                return ring.ms + (ring.since === null ? 0 : performance.now() - ring.since); }; }"""
    )
    ada.wait_for_function("() => window.__rang('Bob') >= 2000", timeout=30_000)
    assert ada.evaluate("() => window.__rang('Cleo')") == 0

    bob.locator("#controls [data-action=share-screen]").click()
    bob.get_by_role("button", name="Stop sharing").wait_for()
    bob_id = peer_ids(ada)["Bob"]
    for page in (ada, cleo):
        page.wait_for_function("() => document.querySelector('.tile.pinned .name')?.textContent === 'Bob'", timeout=10_000)
        page.wait_for_function("async id => (await window.ensemble.connection(id))?.frameHeight > 480", arg=bob_id, timeout=20_000, polling=500)
        wait_videos_playing(page, 2)
    bob.get_by_role("button", name="Stop sharing").click()
    ada.wait_for_function("() => document.querySelector('.tile.pinned') === null", timeout=10_000)
    wait_videos_playing(ada, 2)

    # The scene draws the people Janus carries as it draws the mesh's: a group photo of all three.
    ada.click("button[data-action=toggle-scene]")
    ada.wait_for_function("() => window.ensemble.scene().shown && window.ensemble.scene().placements.length === 3", timeout=10_000)
    ids = peer_ids(ada)
    videos = {name: f".tile[data-peer-id='{ids[name]}'] video:not(.backdrop)" for name in ("Bob", "Cleo")}
    slots = {name: ada.evaluate("name => window.ensemble.scene().placements.find(p => p.name === name)", name) for name in videos}
    boxes = {name: slot_box(slot) for name, slot in slots.items()}

    def frames():
        """Each video's frame now, at the size of each slot."""
        return {(camera_of, name): ada.evaluate(VIDEO_FRAME, [selector, box[2] - box[0], box[3] - box[1]])
                for camera_of, selector in videos.items() for name, box in boxes.items()}

    # The videos are read just before the photo and just after: Bob's may still be turning from
    # his screen back to his camera (a new picture size through Janus), and the photo holds what
    # was shown at its moment, which is one of the two.
    before = frames()
    with ada.expect_download() as download:
        ada.click("button[data-scene=photo]")
    after = frames()
    picture = Image.open(download.value.path())
    assert picture.format == "PNG" and picture.size == (1280, 720)
    picture = picture.convert("RGB")
    # Bob's and Cleo's slots each show their own camera as it arrives through Janus (analysis
    # is off: the whole picture), not the other's.
    for name, box in boxes.items():
        shown = picture.crop(box)
        differences = {camera_of: min(mean_difference(shown, png_picture(read[camera_of, name])) for read in (before, after)) for camera_of in videos}
        other = "Cleo" if name == "Bob" else "Bob"
        assert differences[name] < 0.5 * differences[other], (name, differences)


def participants(instance):
    """Who is in the VideoRoom rooms `instance` holds (the admin key lists private rooms too)."""
    connection = JanusConnection(instance.url, instance.secrets.api)
    return [feed for room in rooms_on(instance) for feed in connection.videoroom({"request": "listparticipants", "room": room})["participants"]]


def renewals(server):
    text = urllib.request.urlopen(f"{server.url}/metrics", timeout=5).read().decode()
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith("ensemble_sfu_token_renewals_total"))


def test_tokens_are_renewed_before_they_expire_so_a_later_joiner_is_still_seen(server, open_page):
    """JANUS_TOKEN_SECONDS is 30 here: past the first tokens' expiry, the pages subscribe to a
    newcomer (and keep their sessions alive) with the tokens they renewed meanwhile."""
    pages = [open_page(room_url(server, "renew", name), camera) for name, camera in (("Ada", "bars"), ("Bob", "mandel"), ("Cleo", "life"))]
    for page in pages:
        wait_transport(page, 2, "sfu", timeout=30_000)
    expired_at = pages[0].evaluate("() => Date.now()") + 31_000  # the tokens of the move, minted before this
    before = renewals(server)
    pages[0].wait_for_function("at => Date.now() > at", arg=expired_at, timeout=40_000, polling=1000)
    assert renewals(server) >= before + len(pages)
    pages.append(open_page(room_url(server, "renew", "Dan"), "small"))
    for page in pages:
        wait_transport(page, 3, "sfu", timeout=30_000)
        wait_videos_playing(page, 3, timeout=20_000)


def frame_height(page, peer_id, expected, timeout=20_000):
    """Until the peer's video arrives `expected` pixels high (what Janus forwards of its layers)."""
    try:
        page.wait_for_function(
            "async ([id, expected]) => (await window.ensemble.connection(id))?.frameHeight === expected",
            arg=[peer_id, expected], timeout=timeout, polling=500,
        )
    except PlaywrightTimeoutError:
        seen = page.evaluate("async id => ({quality: await window.ensemble.connection(id), peers: window.ensemble.state().peers})", peer_id)
        raise AssertionError(f"{peer_id} not {expected} px high within {timeout} ms: {seen}") from None


def test_each_tile_gets_the_simulcast_layer_it_needs_and_a_pinned_one_the_high_layer(server, chromium, tmp_path):
    """Everyone sends a 640×480 camera in two layers (Chromium sends no more for its size): the
    tile Ada pins takes the full picture (480 lines), the other, small beside it, the lower
    layer; unpinned, both tiles are large again and take the full picture."""
    pages, browsers = {}, []
    for name, photo in (("Ada", "sample1-left"), ("Bob", "sample3-middle"), ("Cleo", "sample1-right")):
        browser = chromium(chromium_flags(make_photo_camera(tmp_path, photo)))
        browsers.append(browser)
        pages[name] = browser.new_page(viewport={"width": 1280, "height": 800})
        pages[name].goto(room_url(server, "layers", name))
    try:
        ada = pages["Ada"]
        wait_transport(ada, 2, "sfu", timeout=40_000)
        ids = peer_ids(ada)
        ada.locator(".tile:not(.self)", has_text="Bob").hover()
        ada.get_by_role("button", name="Pin Bob").click()
        frame_height(ada, ids["Bob"], 480)
        ada.wait_for_function("id => window.ensemble.state().peers.find(p => p.id === id).layer === 0", arg=ids["Cleo"], timeout=5000)
        ada.wait_for_function("async id => (await window.ensemble.connection(id)).frameHeight < 480", arg=ids["Cleo"], timeout=20_000, polling=500)
        layers = {peer["name"]: peer["layer"] for peer in state(ada)["peers"]}
        assert layers["Bob"] > 0 and layers["Cleo"] == 0, layers
        ada.get_by_role("button", name="Unpin Bob").click()
        # Back in the grid Cleo's tile is large again: a higher layer than the low one, arriving as such.
        ada.wait_for_function("id => window.ensemble.state().peers.find(p => p.id === id).layer > 0", arg=ids["Cleo"], timeout=5000)
        frame_height(ada, ids["Cleo"], 480)
        wait_videos_playing(ada, 2)
    finally:
        for browser in browsers:
            browser.close()


def rooms_on(instance):
    """The VideoRoom rooms an instance holds (private ones too: the admin key lists them)."""
    listed = JanusConnection(instance.url, instance.secrets.api).videoroom({"request": "list", "admin_key": instance.secrets.admin_key})
    return [room["room"] for room in listed["list"]]


def test_pages_republish_by_themselves_when_their_janus_stops_and_the_room_moves(tmp_path, open_page):
    shared = JanusSecrets.random()
    with contextlib.ExitStack() as stack:
        instances = [
            stack.enter_context(JanusProcess(tmp_path / f"janus-{number}", stack.enter_context(NetworkNamespace()), shared)) for number in range(2)
        ]
        server = stack.enter_context(ServerProcess(tmp_path, async_mode="gevent", **janus_settings(instances)))
        pages = []
        for name, camera in (("Ada", "bars"), ("Bob", "mandel"), ("Cleo", "life")):
            pages.append(open_page(room_url(server, "moving", name), camera))
            pages[-1].wait_for_function("() => window.ensemble?.state().self.id", timeout=15_000)
        for page in pages:
            wait_transport(page, 2, "sfu", timeout=30_000)
        holding = next(instance for instance in instances if rooms_on(instance))
        holding.kill()
        for page in pages:
            # Two missed keep-alives (2 s apart) move the room; the pages join the other instance.
            wait_transport(page, 2, "sfu", timeout=25_000)
            wait_videos_playing(page, 2, timeout=20_000)
        other = next(instance for instance in instances if instance is not holding)
        assert len(rooms_on(other)) == 1
