"""What a test asks of a room page, through `window.ensemble` and the DOM."""

import base64
import io

from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from harness.browsers import chromium_flags

CONNECTED_PEERS = "() => (window.ensemble?.state().peers ?? []).filter(p => p.connectionState === 'connected').length"

ANALYSIS_START_MS = 90_000  # two engines start (wasm compile, backend timing) on a busy 2-core machine

# Both models have started and their backend trials are over.
BACKENDS_MEASURED = "() => ['mask', 'faces'].every(model => window.ensemble.engines()[model]?.choice === 'measured')"


def wait_connected(page, count, timeout=15_000):
    """Until `count` remote peers are connected (and no more are listed)."""
    page.wait_for_function(
        f"() => {{ const peers = window.ensemble?.state().peers ?? [];"
        f" return peers.length === {count} && peers.every(p => p.connectionState === 'connected'); }}",
        timeout=timeout,
    )


def wait_videos_playing(page, count, timeout=15_000):
    """Until `count` remote videos each show new frames in two polls running (playing, not
    frozen). The test is that frames keep coming, not how many: the busy `life` camera
    arrives at 3–5 frames a second here (its 15 are captured, but libvpx drops frames to
    keep to a 500 kbps target). On timeout, says what each video did."""
    try:
        page.wait_for_function(
            f"""() => {{
                const videos = [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')];
                window.__playing = videos.map((video) => {{
                    const frames = video.getVideoPlaybackQuality().totalVideoFrames;
                    const seen = window.__playing?.find((entry) => entry.video === video);
                    const moving = seen !== undefined && frames > seen.frames;
                    return {{ video, frames, readyState: video.readyState, streak: moving ? seen.streak + 1 : 0 }};
                }});
                return videos.length === {count} && window.__playing.every((entry) => entry.readyState >= 2 && entry.streak >= 2);
            }}""",
            polling=700,
            timeout=timeout,
        )
    except PlaywrightTimeoutError:
        seen = page.evaluate("() => (window.__playing ?? []).map(({video, ...entry}) => entry)")
        raise AssertionError(f"{count} remote videos did not keep playing within {timeout} ms; last seen: {seen}") from None


def choose_from_more(page, name):
    """Pick an item of the control bar's "More" menu (it closes again after)."""
    page.get_by_role("button", name="More", exact=True).click()
    page.get_by_role("button", name=name, exact=True).click()


def scene_options(page):
    """Open the scene toolbar's options (private view, align faces)."""
    if not page.locator("#scene-options").evaluate("menu => menu.matches(':popover-open')"):
        page.get_by_role("button", name="Scene options").click()


def state(page):
    return page.evaluate("() => window.ensemble.state()")


def room_url(server, room, name=None, **params):
    """The room page's link. Analysis is off unless asked for: every peer here shares the
    same two cores, and tests of the call itself should not wait behind model start-up."""
    params.setdefault("analysis", "off")
    query = "&".join(f"{key}={value}" for key, value in ({"name": name} if name else {}).items() | params.items())
    return f"{server.url}/r/{room}" + (f"?{query}" if query else "")


def open_people(chromium, server, room, cameras, **params):
    """One Chromium per person, each with its own camera (`cameras`: name -> .y4m), on `room`'s page with
    `params` (analysis on, say), all connected: ({name: page}, [browsers to close])."""
    pages, browsers = {}, []
    for name, camera in cameras.items():
        browsers.append(chromium(chromium_flags(camera)))
        pages[name] = browsers[-1].new_page(viewport={"width": 1280, "height": 800})
        pages[name].goto(room_url(server, room, name, **params))
    for page in pages.values():
        wait_connected(page, len(cameras) - 1, timeout=30_000)
    return pages, browsers


def analysis_of(page, peer_id):
    return page.evaluate("id => window.ensemble.analysis(id)", peer_id)


def wait_for_analysis(page, peer_id, faces=True, timeout=ANALYSIS_START_MS):
    """Until the stream has a mask and (if asked) a face result newer than its arrival."""
    page.wait_for_function(
        """([id, faces]) => { const a = window.ensemble.analysis(id);
            return a && a.mask && a.hz.mask > 0 && (!faces || a.hz.faces > 0); }""",
        arg=[peer_id, faces],
        timeout=timeout,
    )
    return analysis_of(page, peer_id)


# The videos of a room page whose frames a test counts.
REMOTE_VIDEO = ".tile:not(.self) video:not(.backdrop)"
OWN_VIDEO = ".tile.self video:not(.backdrop)"


def start_frame_count(page, video=REMOTE_VIDEO):
    """Count the frames that `video` (the first remote one) presents from now on (requestVideoFrameCallback)."""
    page.evaluate(
        """selector => {
            const video = document.querySelector(selector);
            window.__presented = 0;
            const tick = () => { window.__presented += 1; video.requestVideoFrameCallback(tick); };
            video.requestVideoFrameCallback(tick);
        }""",
        video,
    )


def presented_frames(page):
    return page.evaluate("() => window.__presented")


def wait_frames(page, count, timeout=30_000):
    """Until the video counted by start_frame_count has presented `count` more frames: time
    measured in pictures that arrived, which is what the page had to work on meanwhile."""
    page.wait_for_function("target => window.__presented >= target", arg=presented_frames(page) + count, timeout=timeout)


def peer_ids(page):
    return {peer["name"]: peer["id"] for peer in state(page)["peers"]}


def wait_source(page, peer_id, source, timeout=ANALYSIS_START_MS):
    """Until the stream's results come from `source` (from the sender: at 4 masks a second or more);
    the analysis as it was then (read again later, a busy sender's share may have lapsed meanwhile)."""
    try:
        met = page.wait_for_function(
            """([id, source]) => { const a = window.ensemble.analysis(id);
                return a && a.source === source && (source === 'local' || a.hz.mask >= 4) && a; }""",
            arg=[peer_id, source],
            timeout=timeout,
        )
    except PlaywrightTimeoutError:
        seen = page.evaluate("id => ({ analysis: window.ensemble.analysis(id), sharing: window.ensemble.sharing() })", peer_id)
        raise AssertionError(f"not from {source} within {timeout} ms: {seen}") from None
    return met.json_value()


# A frame of the video `selector` picks, drawn at width x height, as a PNG data URL.
VIDEO_FRAME = """([selector, width, height]) => {
    const canvas = Object.assign(document.createElement('canvas'), { width, height });
    canvas.getContext('2d').drawImage(document.querySelector(selector), 0, 0, width, height);
    return canvas.toDataURL('image/png');
}"""


def png_picture(data_url):
    """The RGB picture a `data:image/png;base64,…` URL holds (what VIDEO_FRAME and the page's canvases give)."""
    kind, _, data = data_url.partition(";base64,")
    assert kind == "data:image/png", kind
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def slot_box(slot):
    """A scene placement's (`window.ensemble.scene().placements`) box in the picture, for PIL's crop."""
    return tuple(round(value) for value in (slot["x"], slot["y"], slot["x"] + slot["width"], slot["y"] + slot["height"]))


def mean_difference(first, second):
    """Mean absolute difference of two same-sized RGB pictures, per channel (0-255), on a grid of points."""
    a, b = first.load(), second.load()
    points = [(x, y) for x in range(0, first.width, 4) for y in range(0, first.height, 4)]
    return sum(abs(p - q) for x, y in points for p, q in zip(a[x, y], b[x, y])) / (3 * len(points))
