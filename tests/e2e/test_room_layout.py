"""The room on every screen: a grid that fits, your own picture small, pinning, a shared
screen pinned, who is speaking, the whole call by keyboard, and axe-core's accessibility
rules, in real Chromium with three (and four) people."""

import pytest

from harness.browsers import chromium_flags
from harness.servers import ROOT, ServerProcess
from tests.e2e.helpers import room_url, wait_connected, wait_videos_playing

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Each remote video's visible box, at least this share of the whole window, with three people
# in the room (so two remote videos). Phones and tablets stack them; laptops and desktops put
# them side by side beside the open chat.
SCREENS = {
    "phone": ({"width": 390, "height": 844}, {"is_mobile": True, "has_touch": True, "device_scale_factor": 3}, 0.25),
    "tablet": ({"width": 768, "height": 1024}, {}, 0.25),
    "laptop": ({"width": 1280, "height": 800}, {}, 0.12),
    "desktop": ({"width": 1920, "height": 1080}, {}, 0.15),
}
# A tile of the grid is never smaller than this share of (grid area / tiles in the grid):
# tiles keep their videos' shape, so some of the grid stays empty, but never most of it.
FAIR_SHARE = 0.5

MEASURE = """() => {
    const box = (element) => { const r = element.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
    const remote = [...document.querySelectorAll('.tile:not(.self)')].map((tile) => {
        const video = tile.querySelector('video:not(.backdrop)');
        return {name: tile.querySelector('.name').textContent, tile: box(tile), video: box(video),
                videoWidth: video.videoWidth, videoHeight: video.videoHeight, pinned: tile.classList.contains('pinned')};
    });
    const visible = (element) => element.checkVisibility();
    return {
        remote,
        own: box(document.querySelector('.tile.self')),
        grid: box(document.querySelector('#tiles')),
        layout: document.querySelector('#tiles').dataset.layout,
        controls: [...document.querySelectorAll('#controls button')].filter(visible).map((button) =>
            ({label: button.getAttribute('aria-label') ?? button.textContent.trim(), ...box(button)})),
        scrollWidth: document.documentElement.scrollWidth,
        window: {width: innerWidth, height: innerHeight},
    };
}"""


def area(box):
    return box["width"] * box["height"]


def overlaps(a, b):
    across = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    down = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return across > 1 and down > 1


def settled_layout(page, remote_count):
    """The layout once `remote_count` remote tiles have stopped moving (tiles glide for 0.2 s)."""
    page.wait_for_function(
        """count => {
            const tiles = [...document.querySelectorAll('.tile:not(.self)')];
            const now = JSON.stringify([...document.querySelectorAll('.tile')].map((tile) => tile.getBoundingClientRect()));
            const still = window.__lastLayout === now;
            window.__lastLayout = now;
            const gliding = document.getAnimations().some((animation) => animation.effect?.target?.classList?.contains('tile'));
            return tiles.length === count && still && !gliding;
        }""",
        arg=remote_count,
        polling=150,
    )
    return page.evaluate(MEASURE)


@pytest.fixture(scope="module")
def room_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("screens")
    with ServerProcess(folder, async_mode="gevent", mesh_max=6) as process:
        yield process
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture(scope="module")
def two_others(room_server, chromium, cameras):
    """Grace and Linus, in the room "screens" all module long, each on their own machine."""
    browsers, pages = [], {}
    for name, camera in (("Grace", "mandel"), ("Linus", "life")):
        browser = chromium(chromium_flags(cameras[camera]))
        browsers.append(browser)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(room_url(room_server, "screens", name))
        pages[name] = page
    wait_connected(pages["Linus"], 1)
    yield pages
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="module")
def viewer_browser(chromium, cameras):
    browser = chromium(chromium_flags(cameras["bars"]))
    yield browser
    browser.close()


@pytest.fixture
def join_as_viewer(viewer_browser, room_server):
    """Open the room as one more person on a screen of SCREENS; they leave (the page closes) after the test."""
    contexts = []

    def join(screen="laptop", name="Ada", **context_options):
        viewport, device, _ = SCREENS[screen]
        context = viewer_browser.new_context(viewport=viewport, **device, **context_options)
        contexts.append(context)
        page = context.new_page()
        page.goto(room_url(room_server, "screens", name))
        return page

    yield join
    for context in contexts:
        context.close()


@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_shows_the_others_large_at_their_own_shape_with_every_control_on_screen(
    screen, two_others, join_as_viewer, artifacts
):
    page = join_as_viewer(screen)
    wait_connected(page, 2)
    wait_videos_playing(page, 2)
    seen = settled_layout(page, 2)
    window = seen["window"]
    page.screenshot(path=str(artifacts / f"room-{screen}-{window['width']}x{window['height']}.png"))
    share = SCREENS[screen][2]
    for person in seen["remote"]:
        video = person["video"]
        assert area(video) >= share * window["width"] * window["height"], (screen, person)
        assert area(video) >= FAIR_SHARE * area(seen["grid"]) / 2, (screen, person, seen["grid"])
        shape = person["videoWidth"] / person["videoHeight"]
        assert abs(video["width"] / video["height"] - shape) / shape < 0.02, f"{person['name']} is stretched on the {screen}"
        assert 0 <= video["x"] and video["x"] + video["width"] <= window["width"] + 0.5
    first, second = seen["remote"]
    assert not overlaps(first["tile"], second["tile"])
    # Your own picture is a small overlay once others are there.
    assert area(seen["own"]) < min(area(person["video"]) for person in seen["remote"]) / 2
    assert seen["scrollWidth"] <= window["width"], f"the {screen} scrolls sideways"
    labels = [control["label"] for control in seen["controls"]]
    for wanted in ("Mute", "Camera off", "Scene", "Chat", "More", "Leave"):
        assert any(wanted.lower() in label.lower() for label in labels), (screen, labels)
    for control in seen["controls"]:
        inside = control["x"] >= 0 and control["y"] >= 0
        inside = inside and control["x"] + control["width"] <= window["width"] and control["y"] + control["height"] <= window["height"]
        assert inside, (screen, control)


def test_on_a_phone_chat_opens_as_a_sheet_over_the_call_and_closes_again(two_others, join_as_viewer, artifacts):
    page = join_as_viewer("phone")
    wait_videos_playing(page, 2)
    chat = page.locator("#chat")
    assert not chat.is_visible(), "on a phone the videos come first"
    two_others["Grace"].get_by_label("Message", exact=True).fill("hello phone")
    two_others["Grace"].get_by_role("button", name="Send", exact=True).click()
    page.locator("#controls .unread").filter(has_text="1").wait_for()
    page.locator("#controls [data-action=toggle-chat]").tap()
    page.locator("#chat-log").filter(has_text="hello phone").wait_for()
    sheet = chat.bounding_box()
    assert sheet["width"] == 390 and sheet["y"] > 100, sheet  # over the lower part of the call
    assert page.locator("#controls .unread").is_hidden()
    page.screenshot(path=str(artifacts / "room-phone-chat.png"))
    page.get_by_role("button", name="Close chat").first.tap()
    chat.wait_for(state="hidden")


def test_tiles_regrid_when_a_fourth_person_comes_and_goes(room_server, two_others, join_as_viewer, chromium, cameras):
    page = join_as_viewer("laptop")
    wait_videos_playing(page, 2)
    before = settled_layout(page, 2)
    fourth = chromium(chromium_flags(cameras["bars"]))
    try:
        guest = fourth.new_page()
        guest.goto(room_url(room_server, "screens", "Dee"))
        wait_videos_playing(page, 3)
        during = settled_layout(page, 3)
        boxes = [person["tile"] for person in during["remote"]]
        assert all(not overlaps(a, b) for index, a in enumerate(boxes) for b in boxes[index + 1 :])
        assert all(area(box) < area(before["remote"][0]["tile"]) for box in boxes), "three share what two had"
        assert all(area(box) >= FAIR_SHARE * area(during["grid"]) / 3 for box in boxes)
    finally:
        fourth.close()
    after = settled_layout(page, 2)
    for old, new in zip(before["remote"], after["remote"]):
        assert abs(area(old["tile"]) - area(new["tile"])) < 0.02 * area(old["tile"]), "back to the grid of two"


def test_pinning_makes_one_person_large_and_unpinning_brings_the_grid_back(two_others, join_as_viewer):
    page = join_as_viewer("laptop")
    wait_videos_playing(page, 2)
    grid = settled_layout(page, 2)
    page.locator(".tile:not(.self)", has_text="Grace").hover()
    page.get_by_role("button", name="Pin Grace").click()
    pinned = settled_layout(page, 2)
    assert pinned["layout"] == "spotlight"
    size = {person["name"]: area(person["tile"]) for person in pinned["remote"]}
    assert size["Grace"] > 4 * size["Linus"] and size["Grace"] > 1.5 * area(grid["remote"][0]["tile"])
    assert page.get_by_role("button", name="Unpin Grace").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Unpin Grace").click()
    unpinned = settled_layout(page, 2)
    assert unpinned["layout"] == "grid"
    assert abs(area(unpinned["remote"][0]["tile"]) - area(unpinned["remote"][1]["tile"])) < 2


def test_a_shared_screen_is_pinned_for_the_others_until_the_sharing_stops(two_others, join_as_viewer):
    page = join_as_viewer("laptop")
    wait_videos_playing(page, 2)
    linus = two_others["Linus"]
    linus.locator("#controls [data-action=share-screen]").click()
    linus.get_by_role("button", name="Stop sharing").wait_for()
    page.wait_for_function("() => document.querySelector('.tile.pinned .name')?.textContent === 'Linus'")
    assert settled_layout(page, 2)["layout"] == "spotlight"
    linus.get_by_role("button", name="Stop sharing").click()
    page.wait_for_function("() => document.querySelector('.tile.pinned') === null")
    assert settled_layout(page, 2)["layout"] == "grid"


def test_the_speaking_ring_lights_for_a_beeping_microphone_and_never_for_a_muted_one(two_others, join_as_viewer):
    linus = two_others["Linus"]
    linus.get_by_role("button", name="Mute", exact=True).click()
    linus.get_by_role("button", name="Unmute", exact=True).wait_for()
    page = join_as_viewer("laptop")
    try:
        wait_videos_playing(page, 2)
        page.locator(".tile:not(.self)", has_text="Linus").locator(".badge.muted").wait_for()
        # How long each tile has shown its speaking ring, from now on.
        page.evaluate(
            """() => {
                window.__speaking = {};
                for (const tile of document.querySelectorAll('.tile:not(.self)')) {
                    const name = tile.querySelector('.name').textContent;
                    const record = window.__speaking[name] = {ms: 0, since: null};
                    const update = () => {
                        const now = performance.now();
                        if (record.since !== null) record.ms += now - record.since;
                        record.since = tile.classList.contains('speaking') ? now : null;
                    };
                    update();
                    new MutationObserver(update).observe(tile, {attributes: true, attributeFilter: ['class']});
                }
                window.__spoke = (name) => { const record = window.__speaking[name];
                    return record.ms + (record.since === null ? 0 : performance.now() - record.since); };
            }"""
        )
        # Chromium's fake microphone beeps: Grace's ring lights; Linus's, muted, never does meanwhile.
        page.wait_for_function("() => window.__spoke('Grace') >= 2000", timeout=30_000)
        assert page.evaluate("() => window.__spoke('Linus')") == 0
        # The viewer's own fake microphone beeps too: of the others, only Grace can be the one heard most.
        assert page.locator(".tile:not(.self).active-speaker .name").all_inner_texts() in ([], ["Grace"])
    finally:
        linus.get_by_role("button", name="Unmute", exact=True).click()


def test_the_whole_call_works_from_the_keyboard(two_others, join_as_viewer):
    page = join_as_viewer("laptop", name="Kay")
    wait_connected(page, 2)
    keyboard = page.keyboard
    # Tab reaches the bar's controls in the order they are shown, each with a visible focus ring.
    order = []
    for _ in range(40):
        keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const element = document.activeElement;
                return {label: element.getAttribute('aria-label') ?? element.textContent.trim(),
                        inBar: Boolean(element.closest('#controls')), outline: getComputedStyle(element).outlineStyle}; }"""
        )
        if focused["inBar"]:
            assert focused["outline"] != "none", focused
            order.append(focused["label"])
        if focused["label"] == "Leave":
            break
    assert order == ["Mute", "Camera off", "Share screen", "Scene", "Close chat", "More", "Leave"], order
    # Back to the first control, and operate it with the keyboard alone.
    for _ in order[:-1]:
        keyboard.press("Shift+Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('aria-label')") == "Mute"
    keyboard.press("Enter")
    page.get_by_role("button", name="Unmute", exact=True).wait_for()
    grace = two_others["Grace"]
    grace.locator(".tile:not(.self)", has_text="Kay").locator(".badge.muted").wait_for()
    # The shortcuts of the help dialog.
    keyboard.press("m")
    grace.locator(".tile:not(.self)", has_text="Kay").locator(".badge.muted").wait_for(state="hidden")
    keyboard.press("v")
    grace.locator(".tile:not(.self)", has_text="Kay").locator(".badge.camera-off").wait_for()
    keyboard.press("v")
    grace.locator(".tile:not(.self)", has_text="Kay").locator(".badge.camera-off").wait_for(state="hidden")
    keyboard.press("c")  # closes the chat (open beside the call on a laptop)
    page.locator("#chat").wait_for(state="hidden")
    keyboard.press("c")  # opens it with the message box ready
    keyboard.type("typed, not clicked")
    keyboard.press("Enter")
    grace.locator("#chat-log").filter(has_text="typed, not clicked").wait_for()
    keyboard.press("Escape")
    page.locator("#chat").wait_for(state="hidden")
    keyboard.press("s")
    page.locator("#scene").wait_for()
    keyboard.press("s")
    page.locator("#scene").wait_for(state="hidden")
    keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    keyboard.press("Escape")
    help_dialog.wait_for(state="hidden")
    # The "More" menu and the settings dialog by keyboard: Tab to More, Enter, Tab through its items.
    page.locator("#controls [aria-label=More]").focus()
    keyboard.press("Enter")
    page.locator("#more-menu").wait_for()
    keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Copy invite link"
    for _ in range(3):
        keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Settings"
    keyboard.press("Enter")
    settings = page.get_by_role("dialog", name="Settings")
    settings.wait_for()
    assert page.evaluate("() => document.activeElement.closest('dialog')?.id") == "settings"
    keyboard.press("Escape")
    settings.wait_for(state="hidden")
    keyboard.press("Shift+L")
    page.get_by_role("heading", name="You left screens").wait_for()
    grace.wait_for_function("() => !window.ensemble.state().peers.some((peer) => peer.name === 'Kay')")


def axe_violations(page):
    """axe-core's serious and critical findings on the page as it is."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"rule": violation["id"], "impact": violation["impact"], "where": [node["target"] for node in violation["nodes"]][:5]}
        for violation in found
        if violation["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_on_the_home_page_the_pre_join_or_the_room(room_server, two_others, viewer_browser):
    context = viewer_browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(room_server.url)
        page.get_by_role("heading", name="Start a room").wait_for()
        assert axe_violations(page) == []
        page.goto(room_url(room_server, "screens"))
        page.get_by_role("button", name="Join").wait_for()
        assert axe_violations(page) == []
        page.get_by_label("Your name").fill("Axel")
        page.get_by_role("button", name="Join").click()
        wait_videos_playing(page, 2)
        assert axe_violations(page) == []
    finally:
        context.close()
