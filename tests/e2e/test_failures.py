"""What a person is told when joining cannot work, and how the call heals after a server restart."""

import pytest

from harness.servers import ServerProcess
from tests.e2e.helpers import room_url, state, wait_connected, wait_videos_playing


def notice(page, code):
    element = page.locator(f"#notice[data-code='{code}']")
    element.wait_for(state="visible", timeout=5000)
    return element.inner_text()


def test_a_full_room_says_so(server, open_page):
    people = [open_page(room_url(server, "packed", f"P{number}"), camera) for number, camera in enumerate(["bars", "mandel", "life"])]
    for page in people:  # all three are in before anyone else comes
        page.wait_for_function("() => window.ensemble?.state().peers.length === 2")
    late = open_page(room_url(server, "packed", "Late"))
    assert "This room is full" in notice(late, "room_full")
    assert late.locator("#call").is_hidden()
    assert sorted(peer["name"] for peer in state(people[0])["peers"]) == ["P1", "P2"]  # and nobody saw Late come


def test_a_wrong_password_asks_for_the_right_one(server, open_page):
    owner = open_page(server.url + "/")
    owner.get_by_label("Your name").fill("Owner")
    owner.get_by_label("Room name", exact=True).fill("vault")
    owner.get_by_label("Password").fill("sesame")
    owner.get_by_role("button", name="Create room").click()
    owner.wait_for_function("() => window.ensemble?.state().self.id")

    guest = open_page(room_url(server, "vault", "Guest"), "mandel")
    assert "password" in notice(guest, "wrong_password")
    guest.get_by_label("Room password").fill("wrong")
    guest.get_by_role("button", name="Join").click()
    guest.wait_for_function("() => document.querySelector('#notice').dataset.code === 'wrong_password'")
    guest.get_by_label("Room password").fill("sesame")
    guest.get_by_role("button", name="Join").click()
    wait_connected(guest, 1)
    assert state(guest)["peers"][0]["name"] == "Owner"


@pytest.mark.parametrize(
    "launch_options, code, words",
    [({"grant": False}, "media-denied", "access was denied"), ({"devices": False}, "media-missing", "No camera or microphone")],
)
def test_without_a_camera_the_page_explains_and_joining_still_works(server, open_page, launch_options, code, words):
    room = f"nocam-{code}"
    host = open_page(room_url(server, room, "Host"))
    shy = open_page(room_url(server, room, "Shy"), **launch_options)
    assert words in notice(shy, code)
    assert shy.get_by_label("Your name").input_value() == "Shy"
    shy.get_by_role("button", name="Join").click()
    wait_connected(host, 1)
    wait_connected(shy, 1)
    wait_videos_playing(shy, 1)  # receiving still works without sending
    assert host.locator(".tile:not(.self) .name").inner_text() == "Shy"


def test_an_unreachable_server_is_reported_and_joining_follows_when_it_is_back(open_page, tmp_path):
    server = ServerProcess(tmp_path).start()
    try:
        page = open_page(room_url(server, "later"))
        page.get_by_label("Your name").fill("Early")
        server.stop()
        page.get_by_role("button", name="Join").click()
        assert "cannot be reached" in notice(page, "unreachable")
        server.start()
        page.wait_for_function("() => window.ensemble.state().self.id", timeout=10_000)
        assert page.locator("#notice").is_hidden()
        assert page.locator("#call").is_visible()
    finally:
        server.stop()


def test_a_server_restart_heals_the_call_within_ten_seconds(open_page, tmp_path):
    with ServerProcess(tmp_path, mesh_max=3) as server:
        pages = [open_page(room_url(server, "phoenix", name), camera) for name, camera in [("Ada", "bars"), ("Bob", "mandel"), ("Cy", "life")]]
        for page in pages:
            wait_connected(page, 2)
        old_ids = {state(page)["self"]["id"] for page in pages}
        server.restart()
        for page in pages:
            page.wait_for_function(
                "old => { const s = window.ensemble.state(); return s.self.id && !old.includes(s.self.id); }",
                arg=list(old_ids),
                timeout=10_000,
            )
            # (rejoined within 10 s above; the three links and their decoders then start on two busy cores)
            wait_connected(page, 2, timeout=20_000)
            wait_videos_playing(page, 2, timeout=20_000)
        assert sorted(p["name"] for p in state(pages[0])["peers"]) == ["Bob", "Cy"]
        assert "Traceback" not in server.log()
