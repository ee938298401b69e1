"""Three people in a room, a fourth elsewhere: a real mesh in real Chromium."""

from tests.e2e.helpers import room_url, state, wait_connected, wait_videos_playing


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


def test_a_peer_that_leaves_or_closes_its_tab_disappears_within_two_seconds(server, open_page):
    stay = open_page(room_url(server, "goodbye", "Stay"))
    leaver = open_page(room_url(server, "goodbye", "Leaver"), "mandel")
    closer = open_page(room_url(server, "goodbye", "Closer"), "life")
    wait_connected(stay, 2)

    leaver.get_by_role("button", name="Leave").click()
    stay.wait_for_function("() => document.querySelectorAll('.tile:not(.self)').length === 1", timeout=2000)
    leaver.get_by_role("heading", name="You left goodbye").wait_for(timeout=2000)

    closer.close()
    stay.wait_for_function("() => document.querySelectorAll('.tile:not(.self)').length === 0", timeout=2000)
    assert state(stay)["peers"] == []

    leaver.get_by_role("button", name="Rejoin").click()
    wait_connected(stay, 1)
    wait_videos_playing(stay, 1)
    assert [peer["name"] for peer in state(stay)["peers"]] == ["Leaver"]


def test_three_browsers_joining_at_the_same_instant_all_connect(server, open_page):
    pages = [open_page(room_url(server, "glare"), camera) for camera in ("bars", "mandel", "life")]
    for page, name in zip(pages, ["One", "Two", "Three"]):
        page.get_by_label("Your name").fill(name)
    start_at = pages[0].evaluate("() => Date.now() + 1500")
    for page in pages:
        page.evaluate("at => setTimeout(() => document.querySelector('#prejoin-form button').click(), at - Date.now())", start_at)
    for page in pages:
        wait_connected(page, 2)
        wait_videos_playing(page, 2)


def test_mute_and_camera_off_show_on_the_other_tiles(server, open_page):
    ada = open_page(room_url(server, "mute", "Ada"))
    bob = open_page(room_url(server, "mute", "Bob"), "mandel")
    wait_connected(ada, 1)
    ada.get_by_role("button", name="Mute").click()
    ada.get_by_role("button", name="Camera off").click()
    ada_tile = bob.locator(".tile:not(.self)")
    ada_tile.locator(".badge.muted").wait_for(state="visible", timeout=2000)
    ada_tile.locator(".badge.camera-off").wait_for(state="visible", timeout=2000)
    assert state(bob)["peers"][0]["media"] == {"audio": False, "video": False, "screen": False}
    ada.get_by_role("button", name="Unmute").click()
    ada_tile.locator(".badge.muted").wait_for(state="hidden", timeout=2000)


def test_chat_shows_markup_as_literal_text_everywhere(server, open_page):
    ada = open_page(room_url(server, "chat", "Ada"))
    bob = open_page(room_url(server, "chat", "Bob"), "mandel")
    wait_connected(ada, 1)
    attack = "<img src=x onerror=alert(1)>"
    dialogs = []
    for page in (ada, bob):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ada.get_by_label("Message").fill(attack)
    ada.get_by_role("button", name="Send", exact=True).click()
    for page in (ada, bob):
        message = page.locator(".chat-log li:not(.note) .text").last
        message.wait_for(timeout=2000)
        assert message.inner_text() == attack
        assert page.locator(".chat-log img").count() == 0
    late = open_page(room_url(server, "chat", "Late"), "life")
    late.locator(".chat-log li:not(.note) .text").first.wait_for(timeout=5000)
    assert late.locator(".chat-log .text").all_inner_texts() == [attack]
    assert dialogs == []
