"""Three people in a room, a fourth elsewhere: a real mesh in real Chromium."""

from tests.e2e.helpers import remote_frames, room_url, state, wait_connected, wait_videos_playing


def test_three_browsers_see_and_hear_each_other_and_a_fourth_room_stays_apart(server, open_page, artifacts):
    names = ["Ada", "Grace", "Linus"]
    pages = [open_page(room_url(server, "trio", name), camera) for name, camera in zip(names, ["bars", "mandel", "life"])]
    loner = open_page(room_url(server, "solo", "Loner"), "bars")
    for page in pages:
        wait_connected(page, 2)
        wait_videos_playing(page, 2)
    for page, name in zip(pages, names):
        seen = state(page)
        assert seen["self"]["name"] == name and seen["room"] == "trio"
        assert sorted(peer["name"] for peer in seen["peers"]) == sorted(set(names) - {name})
        tiles = page.locator(".tile:not(.self) .name").all_inner_texts()
        assert sorted(tiles) == sorted(set(names) - {name})
    assert state(loner)["peers"] == [] and loner.locator(".tile:not(.self)").count() == 0
    pages[0].screenshot(path=str(artifacts / "three-person-room.png"))
