"""The deployment recipe in real Chromium: two pages opened through nginx over https (the
shipped config/nginx/ensemble.conf, a certificate made by the test), each page's websocket
on its own gunicorn process, the room in a real Redis, see each other's video; when one of
the processes stops, its page joins again through the other and the call comes back."""

import json
import urllib.request

import pytest

from harness.servers import Deployment
from tests.e2e.helpers import room_url, state, wait_connected, wait_videos_playing
from tests.waiting import eventually


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with Deployment(tmp_path_factory.mktemp("deployment")) as deployment:
        yield deployment
    for process in deployment.servers:
        assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def open_site_page(launch):
    """Like open_page, for a site whose certificate the test made: this Chromium accepts it."""

    def open_(url, camera="bars"):
        page = launch(camera).new_page(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
        page.goto(url)
        return page

    return open_


def health(server):
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        return json.load(response)


def served_peers(site):
    """How many room members each process serves."""
    return [health(server)["peers"] for server in site.servers]


def join_on_the_other_process(site, page, room, name, tries=5):
    """Open the room's link on `page` until its member is served by the process not serving the
    first one. nginx gives a new websocket to the process with the fewer open connections, but the
    page opens its websocket while loading, and its requests still under way tie the processes on
    a busy machine; nginx then takes either (seen 4 times in 12 runs with two busy loops running).
    The link is opened again, as a person would."""
    for _ in range(tries):
        page.goto(room_url(site, room, name))
        wait_connected(page, 1)
        served = served_peers(site)
        if served == [1, 1]:
            return
        print("both members on one process:", served)
    pytest.fail(f"nginx gave both members' websockets to one process {tries} times")


def test_two_browsers_through_nginx_on_two_processes_see_each_other(site, open_site_page):
    ada = open_site_page(room_url(site, "deployed", "Ada"))
    ada.wait_for_function("() => window.ensemble?.state().self?.id")
    bob = open_site_page("about:blank", "mandel")
    # nginx gives the second websocket to the other process: the call is set up through Redis.
    join_on_the_other_process(site, bob, "deployed", "Bob")
    for page in (ada, bob):
        wait_connected(page, 1)
        wait_videos_playing(page, 1)
    assert [peer["name"] for peer in state(ada)["peers"]] == ["Bob"]
    assert [peer["name"] for peer in state(bob)["peers"]] == ["Ada"]
    assert served_peers(site) == [1, 1]
    # The pages are what a camera needs (https) and what the analysis needs (isolated).
    assert ada.evaluate("() => window.isSecureContext && window.crossOriginIsolated")



@pytest.fixture
def one_page_moved(site, open_site_page):
    """Ada and Bob in a call, each page on its own process; then the second process stops
    as systemd stops it (SIGTERM), and its page joins again through nginx on the first.
    Gives (the page that moved, the page that stayed); the process starts again after
    (nginx passes it over for its fail_timeout, 10 s, so this is best a module's last test)."""
    ada = open_site_page(room_url(site, "restart", "Ada"))
    ada.wait_for_function("() => window.ensemble?.state().self?.id")
    bob = open_site_page("about:blank", "mandel")
    join_on_the_other_process(site, bob, "restart", "Bob")
    wait_connected(bob, 1)
    before = {page: state(page)["self"]["id"] for page in (ada, bob)}
    stopping = site.servers[1]
    stopping.stop()  # returns once gunicorn has dropped the websockets and exited
    try:
        moved = wait_for_rejoin(before)
        yield moved, (bob if moved is ada else ada)
    finally:
        stopping.start()


def wait_for_rejoin(before, timeout=20):
    """The page (of `before`: page → member id) that has joined again under a new id."""
    def rejoined():
        return next((page for page, old_id in before.items() if state(page)["self"]["id"] not in ("", old_id)), None)

    return eventually(rejoined, timeout, every=0.2, what="a page joined again under a new id")


def test_when_a_process_stops_its_page_joins_again_through_the_other_and_the_call_comes_back(site, one_page_moved):
    moved, stayed = one_page_moved
    name, new_id = state(moved)["self"]["name"], state(moved)["self"]["id"]
    # The one who stayed sees the same person, under the same name, in place of the old
    # membership: one tile, not a frozen one beside a "Name (2)".
    stayed.wait_for_function(
        "id => { const peers = window.ensemble.state().peers;"
        " return peers.length === 1 && peers[0].id === id && peers[0].connectionState === 'connected'; }",
        arg=new_id,
        timeout=10_000,
    )
    assert [peer["name"] for peer in state(stayed)["peers"]] == [name]
    wait_connected(moved, 1)
    for page in (moved, stayed):
        wait_videos_playing(page, 1)
    assert health(site.servers[0])["peers"] == 2
