"""Browsers on different server processes sharing one Redis, and what heals when signals
or the whole store are lost."""

import json
import re

import pytest

from ensemble_client import EnsembleClient
from harness.servers import ROOT
from tests.e2e.helpers import room_url, state, wait_connected, wait_videos_playing
from tests.waiting import eventually

# Each process puts its members back at its next upkeep (every 2 s); the bound.
RESTORE_BOUND_SECONDS = 10
STAGE = json.loads((ROOT / "config/scenes/stage.json").read_text())


@pytest.fixture(scope="module")
def servers(redis_servers, tmp_path_factory):
    return redis_servers(2, mesh_max=3, upload_folder=tmp_path_factory.mktemp("uploads"))


def test_two_browsers_on_two_processes_see_each_other_and_survive_redis_coming_back_empty(servers, own_redis, open_page):
    ada = open_page(room_url(servers[0], "two-processes", "Ada"))
    bob = open_page(room_url(servers[1], "two-processes", "Bob"), "mandel")
    for page, other in ((ada, "Bob"), (bob, "Ada")):
        wait_connected(page, 1)
        wait_videos_playing(page, 1)
        assert [peer["name"] for peer in state(page)["peers"]] == [other]
    with EnsembleClient(servers[0].url) as editor:
        editor.join("two-processes", "Editor")
        editor.scene(STAGE, 0)
    for page in (ada, bob):
        page.wait_for_function("() => window.ensemble.scene().scene.name === 'On stage'")

    own_redis.restart()  # empty: the room, its members and its scene are gone from the store

    # Both processes put their member back and the pages give the scene back, unasked.
    with EnsembleClient(servers[1].url) as late:

        def both_back():
            """The join reply once Ada and Bob and the scene are in the store again; else leave again."""
            reply = late.join("two-processes", "Late")
            if sorted(peer["name"] for peer in reply["peers"]) == ["Ada", "Bob"] and reply["scene"]["version"] >= 1:
                return reply
            late.leave()
            return None

        reply = eventually(both_back, RESTORE_BOUND_SECONDS, every=0.2, what="Ada, Bob and the scene back in the store")
        assert reply["scene"]["scene"]["name"] == "On stage" and reply["scene"]["version"] >= 1
    # Signals between the two who stayed get through again: a mute shows on the other side.
    ada.get_by_role("button", name="Mute").click()
    bob.locator(".tile:not(.self) .badge.muted").wait_for(state="visible", timeout=10_000)
    wait_videos_playing(bob, 1)


@pytest.mark.parametrize("lost", ["offer", "answer"])
def test_a_call_connects_when_its_offer_or_answer_is_lost_on_the_way(servers, open_page, lost):
    """Pub/sub between processes drops what is published while one is cut off; here the
    page's own link drops the first offer or answer it sends, the same loss to the browser."""
    room = f"lost-{lost}"
    first, second = open_page("about:blank"), open_page("about:blank", "mandel")
    # The newer member offers, the older one answers.
    dropping = first if lost == "answer" else second
    dropped = []

    def route(socket):
        server = socket.connect_to_server()

        def from_page(message):
            if not dropped and isinstance(message, str) and re.match(rf'^42\d*\["signal",\{{"to":"[^"]+","kind":"{lost}"', message):
                dropped.append(message)  # lost on the way
                return
            server.send(message)

        socket.on_message(from_page)

    dropping.route_web_socket(re.compile(r".*/socket\.io/.*"), route)
    first.goto(room_url(servers[0], room, "First"))
    first.wait_for_function("() => window.ensemble?.state().self.id")
    second.goto(room_url(servers[1], room, "Second"))
    for page in (first, second):
        wait_connected(page, 1, timeout=30_000)
        wait_videos_playing(page, 1)
    assert len(dropped) == 1
