"""The home page in Chromium, and the suite's own guard against uncaught errors in pages."""

from ensemble.protocol import ROOM_NAME
from tests.waiting import eventually


def test_room_names_are_checked_with_the_servers_pattern_when_creating_and_joining(server, open_page):
    page = open_page(server.url + "/")
    room = page.get_by_label("Room name", exact=True)
    assert room.get_attribute("pattern") == ROOM_NAME.pattern
    assert ROOM_NAME.fullmatch(room.input_value()), "the suggested name is one the server takes"
    for typed, valid in [("team_2-B", True), ("two words", False), ("x" * 64, True), ("café", False)]:
        room.fill(typed)
        assert room.evaluate("field => field.checkValidity()") is valid, typed

    target = page.get_by_label("Room name or invite link")
    target.fill("https://elsewhere.example/r/two words")
    page.get_by_role("button", name="Join").click()
    error = page.locator("#join-error")
    error.wait_for(state="visible")
    assert "neither a room name nor an invite link" in error.inner_text()
    target.fill(f"{server.url}/r/team_2-B")
    page.get_by_role("button", name="Join").click()
    page.wait_for_url(f"{server.url}/r/team_2-B")


def test_an_unhandled_rejection_in_a_page_is_reported_as_an_error_of_the_test(server, open_page, watched_page_errors):
    """Playwright's pageerror covers unhandled promise rejections in Chromium; this keeps it so.
    (The test takes the report itself, so the guard does not fail it.)"""
    page = open_page(server.url + "/")
    page.evaluate("() => { setTimeout(() => Promise.reject(new Error('nobody catches this'))); }")
    reported = eventually(watched_page_errors.take, what="the rejection reported")
    assert len(reported) == 1 and "nobody catches this" in reported[0] and server.url in reported[0], reported
