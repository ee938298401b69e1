"""A broadcast in real Chromium: Ada's page (in a room with Bea, fake cameras) broadcasts the
composed scene; a second Chromium opens the watch link and plays it with hls.js (frames advance,
the picture is the scene's, sound comes through); Ada leaves and the viewer shows "ended"."""

import time

import pytest

from harness.browsers import chromium_flags, make_photo_camera
from harness.servers import ServerProcess
from tests.e2e.helpers import room_url, wait_connected

# The mean colour of a picture on a 16×9 grid, read from a canvas the picture is drawn into.
GRID_COLOURS = """(selector) => {
  const source = document.querySelector(selector);
  const canvas = Object.assign(document.createElement('canvas'), { width: 16, height: 9 });
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(source, 0, 0, 16, 9);
  return Array.from(context.getImageData(0, 0, 16, 9).data).filter((_, index) => index % 4 !== 3);
}"""
# The loudest the video's sound gets over `ms` milliseconds (0 silent, 1 full scale).
LOUDEST = """(ms) => new Promise((resolve) => {
  const video = document.querySelector('video');
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  context.createMediaElementSource(video).connect(analyser);
  analyser.connect(context.destination);
  const samples = new Float32Array(analyser.fftSize);
  let loudest = 0;
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    for (const sample of samples) loudest = Math.max(loudest, Math.abs(sample));
  }, 20);
  setTimeout(() => { clearInterval(timer); resolve(loudest); }, ms);
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    process = ServerProcess(folder, async_mode="gevent", upload_folder=folder / "uploads", broadcast_folder=folder / "broadcasts")
    with process:
        yield process
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture(scope="module")
def still_cameras(tmp_path_factory):
    """Ada and Bea hold still (photos as cameras): the scene the viewer plays seconds later is the one drawn now."""
    folder = tmp_path_factory.mktemp("broadcast-cameras")
    return {"Ada": make_photo_camera(folder, "sample1-left"), "Bea": make_photo_camera(folder, "sample3-middle")}


@pytest.fixture
def broadcasting(server, chromium, still_cameras):
    """Starts a broadcast: `broadcasting(room)` is (Ada's page, the watch link); their browsers close after the test."""
    browsers = []

    def start(room):
        pages = {}
        for name, camera in still_cameras.items():
            browsers.append(chromium(chromium_flags(camera)))
            pages[name] = browsers[-1].new_page(viewport={"width": 1280, "height": 800})
            pages[name].goto(room_url(server, room, name))
        return broadcast_from(pages["Ada"], pages["Bea"])

    yield start
    for browser in browsers:
        browser.close()


def broadcast_from(ada, bea):
    """Ada opens the scene of her room with Bea and broadcasts it: (Ada's page, the watch link)."""
    wait_connected(ada, 1)
    wait_connected(bea, 1)
    ada.click("button[data-action=toggle-scene]")
    ada.wait_for_function("() => window.ensemble.scene().placements.length === 2")
    ada.context.grant_permissions(["camera", "microphone", "clipboard-read", "clipboard-write"])
    ada.click("button[data-scene=broadcast]")
    ada.wait_for_selector("button[data-scene=copy-watch]:not([hidden])")
    assert ada.get_attribute("button[data-scene=broadcast]", "aria-pressed") == "true"
    ada.click("button[data-scene=copy-watch]")
    return ada, ada.evaluate("() => navigator.clipboard.readText()")


def difference(first, second):
    return sum(abs(a - b) for a, b in zip(first, second)) / len(first)


def test_a_viewer_plays_the_broadcast_scene_with_sound_and_sees_it_end(server, broadcasting, open_page):
    ada, watch = broadcasting("cast")
    assert watch.startswith(f"{server.url}/r/cast/watch?key=")
    viewer = open_page(watch)
    viewer.wait_for_function("() => window.ensembleWatch.state() === 'live'", timeout=20_000)
    viewer.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=20_000)
    # frames advance
    shown = viewer.evaluate("() => document.querySelector('video').getVideoPlaybackQuality().totalVideoFrames")
    viewer.wait_for_function(f"() => document.querySelector('video').getVideoPlaybackQuality().totalVideoFrames > {shown + 20}")
    # the picture is the scene: not black, and like Ada's canvas (nobody moves in the seconds of delay)
    played, drawn = viewer.evaluate(GRID_COLOURS, "video"), ada.evaluate(GRID_COLOURS, "canvas[data-scene=canvas]")
    black = [0] * len(played)
    assert difference(played, black) > 30, played
    assert difference(played, drawn) < 25, (played, drawn)
    assert difference(played, drawn) < difference(played, black) / 3, (played, drawn)
    # sound: Chromium's fake microphones beep
    assert viewer.evaluate(LOUDEST, 3000) > 0.05
    assert viewer.locator("[data-watch=badge]").is_visible()
    # on a phone: the scene as wide as the screen, nothing to scroll sideways, playing
    phone = viewer.context.browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto(watch)
    phone.wait_for_function("() => document.querySelector('video').currentTime > 1", timeout=20_000)
    box = phone.locator("video").bounding_box()
    assert 370 <= box["width"] <= 390 and box["height"] > 150, box
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert phone.locator("[data-watch=badge]").is_visible()
    phone.context.close()
    # Ada leaves: the viewer sees the end within 15 s
    left = time.monotonic()
    ada.click("button[data-action=leave]")
    viewer.wait_for_function("() => window.ensembleWatch.state() === 'ended'", timeout=15_000)
    assert time.monotonic() - left < 15
    assert viewer.locator("[data-watch=status]").inner_text() == "The broadcast has ended."
    assert not viewer.locator("[data-watch=badge]").is_visible()


def test_a_wrong_watch_link_is_refused(broadcasting, open_page):
    ada, watch = broadcasting("closed")
    viewer = open_page(watch[:-2] + ("xx" if not watch.endswith("xx") else "yy"))
    assert "secret is wrong" in viewer.content()
