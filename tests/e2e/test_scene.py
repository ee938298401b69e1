"""The composed scene in real Chromium: layout, cut-outs, shared editing, photo, recording, sharing."""

import io
import json
import shutil
import subprocess
import time

import pytest
from PIL import Image

from ensemble_client import EnsembleClient
from harness.browsers import DEMO_PHOTOS, PHOTO_FACES, chromium_flags, make_photo_camera, make_slideshow_camera
from tests.e2e.helpers import (
    ANALYSIS_START_MS,
    OWN_VIDEO,
    VIDEO_FRAME,
    choose_from_more,
    mean_difference,
    png_picture,
    room_url,
    scene_options,
    slot_box,
    start_frame_count,
    wait_connected,
    wait_frames,
)

MAGENTA = (255, 0, 255)  # a background colour none of the photos has


def scene_of(page):
    return page.evaluate("() => window.ensemble.scene()")


def open_scene(page):
    page.click("button[data-action=toggle-scene]")
    page.wait_for_function("() => window.ensemble.scene().shown")


def two_in_scene(server, open_page, room):
    """Ada and Bea connected in `room`, each with the scene open and showing both of them."""
    ada = open_page(room_url(server, room, "Ada"))
    bea = open_page(room_url(server, room, "Bea"), camera="mandel")
    for page in (ada, bea):
        wait_connected(page, 1)
        open_scene(page)
        page.wait_for_function("() => window.ensemble.scene().placements.length === 2")
    return ada, bea


def on_screen(page, x, y):
    """Where canvas pixel (x, y) of the scene is on the page, and the page pixels per canvas pixel."""
    box = page.locator("canvas[data-scene=canvas]").bounding_box()
    ratio = box["width"] / scene_of(page)["scene"]["canvas"]["width"]
    return box["x"] + x * ratio, box["y"] + y * ratio, ratio


def write_json(page, scene):
    """Type a scene into the JSON editor as a person would (the editor checks it as they type)."""
    if page.get_attribute("button[data-scene=json]", "aria-pressed") != "true":
        page.click("button[data-scene=json]")
    page.fill("textarea[data-scene=text]", json.dumps(scene, indent=2))


def placement(page, name):
    return next(p for p in scene_of(page)["placements"] if p["name"] == name)


def say_and_wait(sender, text, *others):
    """`sender` says `text` in the chat; returns once the server has passed it back to `sender`
    and on to `others`. Whatever `sender` had sent before has been carried out by then."""
    sender.get_by_label("Message").fill(text)
    sender.get_by_role("button", name="Send", exact=True).click()
    for page in (sender, *others):
        page.locator(".chat-log li:not(.note) .text", has_text=text).wait_for(timeout=5000)


def snapshot_png(page):
    """The group photo, as a data URL: a megabyte as an array of numbers took 80 s to come across here."""
    url = page.evaluate(
        """async () => {
            const reader = new FileReader();
            reader.readAsDataURL(await window.ensemble.snapshot());
            return new Promise(done => { reader.onload = () => done(reader.result); });
        }"""
    )
    return png_picture(url)


@pytest.fixture
def photo_page(chromium, tmp_path_factory):
    """A person whose camera shows one of the demo photos."""
    browsers = []

    def open_(server, photo, name, **params):
        camera = make_photo_camera(tmp_path_factory.getbasetemp(), photo)
        browser = chromium(chromium_flags(camera))
        browsers.append(browser)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        page.goto(room_url(server, params.pop("room", "scene"), name, **params))
        return page

    yield open_
    for browser in browsers:
        browser.close()


def person_pixels(snapshot, box):
    """(x, y) of the pixels in `box` that are not the magenta background."""
    x0, y0, x1, y1 = box
    pixels = snapshot.load()
    return [(x, y) for y in range(y0, y1, 3) for x in range(x0, x1, 3) if sum(abs(a - b) for a, b in zip(pixels[x, y], MAGENTA)) > 120]


def difference_to_photo(snapshot, points, slot, photo):
    """Mean colour difference between the scene's person pixels and the same places of `photo` drawn in `slot`."""
    x, y, width, height = slot
    source = Image.open(DEMO_PHOTOS / f"{photo}.jpg").convert("RGB").resize((width, height)).load()
    pixels = snapshot.load()
    return sum(sum(abs(a - b) for a, b in zip(pixels[px, py], source[px - x, py - y])) for px, py in points) / (3 * len(points))


def test_everyone_is_cut_out_into_their_slot_over_the_background(server, photo_page, artifacts):
    people = {"Ada": "sample4", "Bea": "sample6", "Cy": "sample3"}
    viewer = photo_page(server, "sample4", "Ada", analysis="on")
    for name in ("Bea", "Cy"):
        photo_page(server, people[name], name)
    wait_connected(viewer, 2, timeout=30_000)
    open_scene(viewer)

    # A known colour as the background picture, uploaded the way a person does it.
    plain = io.BytesIO()
    Image.new("RGB", (320, 180), MAGENTA).save(plain, "PNG")
    viewer.set_input_files("input[data-scene=upload]", files=[{"name": "magenta.png", "mimeType": "image/png", "buffer": plain.getvalue()}])
    viewer.wait_for_function("() => window.ensemble.scene().scene.background?.image?.startsWith('/uploads/')")
    background = scene_of(viewer)["scene"]["background"]["image"]

    scene = {
        "canvas": {"width": 1280, "height": 720},
        "background": {"image": background, "color": "#000000", "fit": "stretch"},
        "arrange": "none",
        "participants": [
            {"name": "Ada", "x": 0.01, "y": 0.05, "scale": 0.44, "z": 1},
            {"name": "Bea", "x": 0.55, "y": 0.05, "scale": 0.44, "z": 1},
            {"name": "Cy", "x": 0.36, "y": 0.52, "scale": 0.28, "z": 5},
        ],
    }
    write_json(viewer, scene)
    viewer.wait_for_function("() => window.ensemble.scene().scene.arrange === 'none' && window.ensemble.scene().version >= 2")
    ids = {p["name"]: p["id"] for p in scene_of(viewer)["placements"]}
    assert sorted(ids) == ["Ada", "Bea", "Cy"]
    viewer.wait_for_function(
        "ids => ids.every(id => window.ensemble.analysis(id)?.mask)", arg=list(ids.values()), timeout=ANALYSIS_START_MS
    )
    snapshot = snapshot_png(viewer)
    snapshot.save(artifacts / "scene-three-people.png")
    assert snapshot.size == (1280, 720)

    slots = {name: placement(viewer, name) for name in people}
    boxes = {name: (round(s["x"]), round(s["y"]), round(s["x"] + s["width"]), round(s["y"] + s["height"])) for name, s in slots.items()}
    front = boxes["Cy"]
    pixels = snapshot.load()
    # Outside every slot there is only the background picture.
    outside = [(x, y) for x in range(0, 1280, 16) for y in range(0, 720, 16)
               if not any(b[0] - 2 <= x <= b[2] + 2 and b[1] - 2 <= y <= b[3] + 2 for b in boxes.values())]
    assert len(outside) > 300 and all(pixels[point] == MAGENTA for point in outside)

    for name, photo in people.items():
        box = boxes[name]
        points = person_pixels(snapshot, box)
        if name != "Cy":  # the front person covers part of the others
            points = [(x, y) for x, y in points if not (front[0] <= x <= front[2] and front[1] <= y <= front[3])]
        slot = (box[0], box[1], box[2] - box[0], box[3] - box[1])
        area = (slot[2] // 3) * (slot[3] // 3)
        # Cut out: the people cover part of their slot, the background shows through the rest.
        assert 0.15 < len(person_pixels(snapshot, box)) / area < 0.92, name
        # Every face a person sees in the photo is person pixels in the scene (not background).
        for fx, fy in PHOTO_FACES[photo]:
            at = (round(slot[0] + fx * slot[2]), round(slot[1] + fy * slot[3]))
            if name == "Cy" or not (front[0] <= at[0] <= front[2] and front[1] <= at[1] <= front[3]):
                assert sum(abs(a - b) for a, b in zip(pixels[at], MAGENTA)) > 120, (name, fx, fy)
        # And those pixels are this person's picture, not someone else's.
        differences = {other: difference_to_photo(snapshot, points, slot, other) for other in people.values()}
        best = min(differences, key=differences.get)
        assert best == photo, (name, differences)
        assert differences[photo] < 0.75 * min(d for other, d in differences.items() if other != photo), (name, differences)


# The mean red, green and blue of the scene canvas inside box (x0, y0, x1, y1).
MEAN_COLOUR = """([x0, y0, x1, y1]) => {
    const region = document.createElement('canvas');
    Object.assign(region, { width: x1 - x0, height: y1 - y0 });
    const context = region.getContext('2d');
    context.drawImage(document.querySelector('canvas[data-scene=canvas]'), -x0, -y0);
    const { data } = context.getImageData(0, 0, region.width, region.height);
    const sums = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sums[c] += data[i + c];
    return sums.map(sum => sum / (data.length / 4));
}"""


@pytest.mark.parametrize("analysis", ["paused", "off"])
def test_people_in_the_scene_keep_moving_with_their_video(analysis, server, chromium, open_page, tmp_path):
    """Cut out with analysis paused (the last mask stays) or whole with analysis off,
    the scene shows each person's live video, not a picture kept from earlier."""
    camera = make_slideshow_camera(tmp_path, ["sample1-left", "sample3-middle"], seconds=1)
    sender = chromium(chromium_flags(camera))
    try:
        sender.new_page().goto(room_url(server, f"moving-{analysis}", "Cy"))
        viewer = open_page(room_url(server, f"moving-{analysis}", "Ada", analysis="on" if analysis == "paused" else "off"))
        wait_connected(viewer, 1)
        open_scene(viewer)
        cy = viewer.evaluate("() => window.ensemble.state().peers[0].id")
        if analysis == "paused":
            viewer.wait_for_function("id => window.ensemble.analysis(id)?.mask", arg=cy, timeout=ANALYSIS_START_MS)
            choose_from_more(viewer, "Analysis on")
            viewer.wait_for_function("id => !window.ensemble.analysis(id).enabled", arg=cy)
        mask = viewer.evaluate("id => window.ensemble.analysis(id)?.results.mask ?? null", cy)
        assert (mask is None) == (analysis == "off")
        slot = placement(viewer, "Cy")
        box = slot_box(slot)
        first = viewer.evaluate(MEAN_COLOUR, box)
        # The slideshow turns every second: within three turns the slot shows the other picture,
        # through the same mask.
        viewer.wait_for_function(
            f"([box, first]) => ({MEAN_COLOUR})(box).some((mean, channel) => Math.abs(mean - first[channel]) > 8)",
            arg=[box, first],
            polling=100,
            timeout=6000,
        )
        assert viewer.evaluate("id => window.ensemble.analysis(id)?.results.mask ?? null", cy) == mask  # no new mask meanwhile
    finally:
        sender.close()


# Bea's own placement as her page draws it, each change with the time it was first drawn.
WATCH_BEA = """() => {
    window.__bea = [];
    const watch = () => {
        const p = window.ensemble.scene().placements.find(p => p.name === 'Bea');
        const last = window.__bea.at(-1);
        const same = last && last.x === p.x && last.width === p.width && last.z === p.z;
        if (p && !same) window.__bea.push({ at: Date.now(), x: p.x, width: p.width, z: p.z });
        requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
}"""


def drawn_after(page, condition, since, timeout=3000):
    """Milliseconds from `since` (the pages' shared clock) until Bea's page first drew her placement
    meeting `condition` (a JS predicate of {x, width, z}). Measured in the page, so the promise is
    held to the drawing itself, not to how often a busy machine lets the test look."""
    seen = page.wait_for_function(f"() => window.__bea.find({condition}) ?? false", timeout=timeout).json_value()
    return seen["at"] - since


def test_an_edit_shows_on_everyone_elses_canvas_within_a_second(server, open_page):
    ada, bea = two_in_scene(server, open_page, "shared")
    before = placement(bea, "Bea")
    bea.evaluate(WATCH_BEA)

    # Ada drags Bea's picture 200 canvas pixels to the left.
    target = placement(ada, "Bea")
    *start, ratio = on_screen(ada, target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)
    ada.mouse.move(*start)
    ada.mouse.down()
    ada.mouse.move(start[0] - 100 * ratio, start[1], steps=4)
    dragged = ada.evaluate("() => Date.now()")  # the others follow the drag as it goes: its last stretch starts now
    ada.mouse.move(start[0] - 200 * ratio, start[1], steps=4)
    ada.mouse.up()
    # Ada's own canvas follows at once (placements are those of the next frame drawn).
    ada.wait_for_function(
        "x => Math.abs(window.ensemble.scene().placements.find(p => p.name === 'Bea').x - x) < 3", arg=before["x"] - 200, timeout=2000
    )
    moved = placement(ada, "Bea")
    # Bea's page draws her there within a second (through the server).
    moved_in = drawn_after(bea, f"p => Math.abs(p.x - {moved['x']}) < 3", dragged)
    assert moved_in < 1000, moved_in
    entry = next(p for p in scene_of(bea)["scene"]["participants"] if p["name"] == "Bea")
    assert entry["x"] == pytest.approx(moved["x"] / 1280, abs=0.003)

    # The wheel over a person scales them, the keys restack them; both reach the others too.
    ada.mouse.move(start[0] - 200 * ratio, start[1])
    scaled = ada.evaluate("() => Date.now()")
    ada.mouse.wheel(0, -300)
    ada.keyboard.press("]")
    scaled_in = drawn_after(bea, f"p => p.width > {moved['width']} * 1.2 && p.z >= 1", scaled)
    assert scaled_in < 1000, scaled_in
    assert scene_of(bea)["placements"][-1]["name"] == "Bea"  # drawn last: in front


def test_quick_edits_in_a_row_build_on_each_other(server, open_page):
    ada, bea = two_in_scene(server, open_page, "quick")
    target = placement(ada, "Bea")
    ada.mouse.click(*on_screen(ada, target["x"] + target["width"] / 2, target["y"] + target["height"] / 2)[:2])  # selects Bea
    x, scale = target["x"] / 1280, target["width"] / 1280
    # Four keys within one task, so no frame is drawn between them: each must start from the one before.
    ada.evaluate(
        """() => { const canvas = document.querySelector('canvas[data-scene=canvas]');
            for (const key of ['+', '+', ']', 'ArrowRight'])
                canvas.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true })); }"""
    )
    expected = {"scale": scale * 1.21, "x": x - (scale * 1.21 - scale) / 2 + 0.01}
    bea.wait_for_function(
        """e => { const bea = window.ensemble.scene().scene.participants?.find(p => p.name === 'Bea');
            return bea && Math.abs(bea.scale - e.scale) < 0.002 && Math.abs(bea.x - e.x) < 0.002 && bea.z >= 1; }""",
        arg=expected,
        timeout=5000,
    )


def test_two_people_editing_at_once_both_keep_their_change(server, open_page):
    ada, bea = two_in_scene(server, open_page, "together")
    # Both edit from version 0 at the same moment: one of them gets a version conflict and applies theirs again on top.
    ada.evaluate("() => document.querySelector('canvas[data-scene=canvas]').focus()")
    edits = [
        (ada, {"name": "Ada", "x": 0.1, "y": 0.1, "scale": 0.3}),
        (bea, {"name": "Bea", "x": 0.6, "y": 0.3, "scale": 0.35}),
    ]
    for page, entry in edits:
        page.evaluate(
            """entry => {
                const text = document.querySelector('textarea[data-scene=text]');
                const scene = window.ensemble.scene().scene;
                text.value = JSON.stringify({...scene, participants: [...scene.participants, entry]});
                text.dispatchEvent(new Event('input'));
            }""",
            entry,
        )
    # The JSON editor replaces the whole scene: the later one wins, and both browsers agree on it.
    for page in (ada, bea):
        page.wait_for_function("() => window.ensemble.scene().version === 2", timeout=5000)
    assert scene_of(ada)["scene"] == scene_of(bea)["scene"]

    # Dragging only changes the person dragged, so simultaneous drags of different people both survive.
    drags = [(ada, "Ada", 120), (bea, "Bea", -120)]
    expected, starts = {}, {}
    for page, name, dx in drags:
        target = placement(page, name)
        expected[name] = (target["x"] + dx) / 1280
        x, y, ratio = on_screen(page, target["x"] + 20, target["y"] + 20)
        starts[name] = (x, y, dx * ratio)
        page.mouse.move(*starts[name][:2])
        page.mouse.down()
    for page, name, _ in drags:
        x, y, dx = starts[name]
        page.mouse.move(x + dx, y, steps=3)
        page.mouse.up()
    for page in (ada, bea):
        page.wait_for_function(
            """expected => { const ps = window.ensemble.scene().scene.participants;
                const x = n => ps.find(p => p.name === n)?.x;
                return Math.abs(x('Ada') - expected.Ada) < 0.005 && Math.abs(x('Bea') - expected.Bea) < 0.005; }""",
            arg=expected,
            timeout=5000,
        )
    assert scene_of(ada)["scene"] == scene_of(bea)["scene"]


def test_an_invalid_scene_names_the_field_and_the_last_valid_one_stays(server, open_page):
    ada = open_page(room_url(server, "strict", "Ada"))
    open_scene(ada)
    good = {"arrange": "grid", "participants": [{"name": "Ada", "x": 0.2, "y": 0.2, "scale": 0.5}]}
    write_json(ada, good)
    # Stored as version 1 and drawn (placements are those of the last frame drawn).
    ada.wait_for_function("() => { const s = window.ensemble.scene(); return s.version === 1 && s.placements[0]?.x === 256; }")
    shown = placement(ada, "Ada")

    write_json(ada, {"arrange": "grid", "participants": [{"name": "Ada", "x": 0.2, "y": 0.2, "scale": 9}]})
    error = ada.locator("[data-scene=error]")
    error.filter(has_text="participants[0].scale").wait_for()
    assert "4" in error.text_content() and error.get_attribute("data-state") == "invalid"
    ada.fill("textarea[data-scene=text]", '{"arrange": "grid",')
    error.filter(has_text="Not JSON").wait_for()
    say_and_wait(ada, "after two refused edits")  # an edit sent before this would have come back by now
    assert scene_of(ada)["version"] == 1 and placement(ada, "Ada") == shown

    # Edits that skip the browser's checks: the server refuses them and nothing changes.
    with EnsembleClient(server.url) as probe:
        probe.join("strict", "Probe")
        stale = probe.call("scene", {"scene": good, "version": 0})
        invalid = probe.call("scene", {"scene": {"participants": [{"name": "Ada", "x": "left"}]}, "version": 1})
    assert stale["error"]["code"] == "version_conflict" and stale["scene"] == good
    assert invalid["error"]["code"] == "bad_request" and invalid["error"]["field"] == "participants[0].x"
    assert scene_of(ada)["version"] == 1 and placement(ada, "Ada") == shown


def test_a_private_view_changes_nothing_for_the_others(server, open_page):
    ada, bea = two_in_scene(server, open_page, "private")
    scene_options(ada)
    ada.check("input[data-scene=private]")
    write_json(ada, {"arrange": "grid", "background": {"color": "#ff8800"}})
    ada.wait_for_function("() => window.ensemble.scene().scene.background.color === '#ff8800'")
    say_and_wait(ada, "after a private edit", bea)  # an edit sent before this would have reached Bea by now
    assert scene_of(bea)["version"] == 0 and scene_of(bea)["scene"].get("arrange") == "row"
    # Back to the room's scene: the private edit is gone from view.
    scene_options(ada)
    ada.uncheck("input[data-scene=private]")
    ada.wait_for_function("() => window.ensemble.scene().scene.arrange === 'row'")


def test_group_photo_downloads_a_png_of_the_people_in_the_scene(server, open_page):
    ada = open_page(room_url(server, "photo", "Ada"))
    bea = open_page(room_url(server, "photo", "Bea"), camera="mandel")
    wait_connected(ada, 1)
    open_scene(ada)
    ada.wait_for_function("() => window.ensemble.scene().placements.length === 2")
    with ada.expect_download() as download:
        ada.click("button[data-scene=photo]")
    assert download.value.suggested_filename.endswith(".png")
    picture = Image.open(download.value.path())
    assert picture.format == "PNG" and picture.size == (1280, 720)
    picture = picture.convert("RGB")
    # Each person's slot shows their own camera (analysis is off: the whole picture), not someone else's.
    cameras = {"Ada": OWN_VIDEO, "Bea": ".tile:not(.self) video:not(.backdrop)"}
    slots = {name: placement(ada, name) for name in cameras}
    for name, slot in slots.items():
        box = slot_box(slot)
        shown = picture.crop(box)
        differences = {}
        for camera_of, selector in cameras.items():
            url = ada.evaluate(VIDEO_FRAME, [selector, shown.width, shown.height])
            camera = png_picture(url)
            differences[camera_of] = mean_difference(shown, camera)
        # (Here: about 10-15 against about 130; the cameras move between the photo and the frame drawn.)
        assert differences[name] < 35 and differences[name] < 0.3 * min(d for other, d in differences.items() if other != name), (
            name,
            differences,
        )
    bea.close()


def test_record_makes_a_playable_webm(server, open_page, tmp_path):
    ada = open_page(room_url(server, "record", "Ada"))
    open_scene(ada)
    ada.click("button[data-scene=record]")
    started = time.monotonic()
    assert ada.get_attribute("button[data-scene=record]", "aria-pressed") == "true"
    start_frame_count(ada, OWN_VIDEO)
    wait_frames(ada, 45)  # three seconds of Ada's camera (15 frames a second) in the scene
    with ada.expect_download() as download:
        ada.click("button[data-scene=record]")
    recorded = time.monotonic() - started
    assert download.value.suggested_filename.endswith(".webm")
    path = tmp_path / "scene.webm"
    download.value.save_as(path)
    probe = subprocess.run(
        [shutil.which("ffprobe") or "ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True, check=True,
    )
    info = json.loads(probe.stdout)
    video = info["streams"][0]
    assert info["format"]["format_name"].startswith("matroska,webm")
    assert video["codec_name"] in ("vp8", "vp9") and (video["width"], video["height"]) == (1280, 720)
    # As long as the recording ran (three seconds here, longer on a busy machine), not a stray frame or an hour.
    assert 2.0 < float(info["format"]["duration"]) < recorded + 1.0, (info["format"]["duration"], recorded)
    assert int(info["format"]["size"]) > 10_000


def test_sharing_the_scene_sends_it_into_the_call(server, open_page):
    ada = open_page(room_url(server, "share", "Ada"))
    bea = open_page(room_url(server, "share", "Bea"), camera="mandel")
    wait_connected(bea, 1)
    aspect = "() => { const v = document.querySelector('.tile:not(.self) video:not(.backdrop)'); return v.videoWidth / v.videoHeight; }"
    bea.wait_for_function(f"() => ({aspect})() > 0")
    assert bea.evaluate(aspect) == pytest.approx(4 / 3, abs=0.05)  # Ada's camera
    open_scene(ada)
    ada.click("button[data-scene=share]")
    bea.wait_for_function(f"() => Math.abs(({aspect})() - 16 / 9) < 0.05", timeout=10_000)  # now Ada's scene
    # Ada's own tile still shows her camera.
    own = "() => { const v = document.querySelector('.tile.self video:not(.backdrop)'); return v.videoWidth / v.videoHeight; }"
    assert ada.evaluate(own) == pytest.approx(4 / 3, abs=0.05)
    ada.click("button[data-scene=share]")
    bea.wait_for_function(f"() => Math.abs(({aspect})() - 4 / 3) < 0.05", timeout=10_000)


def test_an_upload_that_is_not_a_picture_is_refused_in_the_toolbar(server, open_page):
    ada = open_page(room_url(server, "upload", "Ada"))
    open_scene(ada)
    ada.set_input_files("input[data-scene=upload]", files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture"}])
    ada.locator("[data-scene=status]").filter(has_text="not a PNG, JPEG or WebP").wait_for()
    assert scene_of(ada)["version"] == 0
