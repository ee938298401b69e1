"""Segmentation and face analysis of remote streams, in real Chromium with the face-api demo photos as cameras."""

import math

import pytest

from tests.browsers import CHROMIUM, PHOTO_FACES, chromium_flags, make_photo_camera
from tests.e2e.helpers import room_url, state, wait_connected
from tests.servers import ROOT

ANALYSIS_START_MS = 90_000  # two engines start (wasm compile, backend timing) on a busy 2-core machine


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


@pytest.fixture(scope="module")
def viewer(playwright_driver, server, cameras):
    """One browser that stays in room `photos` and analyses whoever joins (engines warm up once)."""
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(cameras["bars"]))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(room_url(server, "photos", "Viewer", faces="ssd", analysis="on"))
    yield page
    browser.close()


@pytest.mark.parametrize("photo", sorted(PHOTO_FACES))
def test_faces_and_people_are_found_where_a_person_sees_them(photo, viewer, server, playwright_driver, tmp_path_factory):
    camera = make_photo_camera(tmp_path_factory.getbasetemp(), photo)
    sender = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(camera))
    try:
        page = sender.new_page()
        page.goto(room_url(server, "photos", photo, analysis="off"))
        wait_connected(viewer, 1)
        sender_id = state(viewer)["peers"][0]["id"]
        wait_for_analysis(viewer, sender_id)
        menu = viewer.locator(".tile:not(.self) .tile-menu")
        menu.locator("summary").click()
        menu.get_by_label("Landmarks").check()
        menu.get_by_label("Expression").check()
        menu.locator("summary").click()
        # Landmarks and expressions are computed once something shows them.
        viewer.wait_for_function(
            "id => { const faces = window.ensemble.analysis(id).faces; return faces.length && faces.every(f => f.landmarks && f.expression); }",
            arg=sender_id,
            timeout=20_000,
        )
        result = analysis_of(viewer, sender_id)
        expected = PHOTO_FACES[photo]
        centres = [(face["x"] + face["width"] / 2, face["y"] + face["height"] / 2) for face in result["faces"]]
        assert len(centres) == len(expected), (photo, centres)
        for x, y in expected:
            nearest = min(math.dist((x, y), centre) for centre in centres)
            assert nearest < 0.09, (photo, (x, y), centres)
        mask = result["mask"]
        assert 0.15 < mask["coverage"] < 0.85, mask
        box = mask["box"]
        for x, y in expected:  # every face lies inside the people's outline
            assert box["x"] <= x <= box["x"] + box["width"] and box["y"] <= y <= box["y"] + box["height"], (mask, x, y)
        mean_x = sum(x for x, _ in expected) / len(expected)
        assert abs(mask["centroid"]["x"] - mean_x) < 0.2, (mask, mean_x)
        for face in result["faces"]:
            assert len(face["landmarks"]) == 68
            assert all(face["x"] - 0.05 < x < face["x"] + face["width"] + 0.05 for x, _ in face["landmarks"])
            assert face["expression"] in ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
        assert result["engine"] == {"mask": "selfie", "faces": "face-api"}
        assert result["where"] == {"mask": "worker", "faces": "worker"}
        assert result["backend"]["mask"] in ("cpu", "gpu") and result["backend"]["faces"].startswith(("wasm", "webgl"))
    finally:
        sender.close()
        viewer.wait_for_function("() => window.ensemble.state().peers.length === 0", timeout=5000)


def test_switching_analysis_off_for_a_tile_stops_it_and_the_page_switch_stops_all(viewer, server, open_page):
    sender = open_page(room_url(server, "photos", "Bars", analysis="off"), "mandel")
    wait_connected(viewer, 1)
    sender_id = state(viewer)["peers"][0]["id"]
    wait_for_analysis(viewer, sender_id, faces=False)
    menu = viewer.locator(".tile:not(.self) .tile-menu")
    menu.locator("summary").click()
    menu.get_by_label("Analyse this video").uncheck()
    assert analysis_of(viewer, sender_id)["enabled"] is False
    frozen = analysis_of(viewer, sender_id)["mask"]
    viewer.wait_for_timeout(1000)
    assert analysis_of(viewer, sender_id)["mask"] == frozen
    menu.get_by_label("Analyse this video").check()
    viewer.wait_for_function("id => window.ensemble.analysis(id).enabled", arg=sender_id)
    viewer.get_by_role("button", name="Analysis on").click()
    assert analysis_of(viewer, sender_id)["enabled"] is False
    viewer.get_by_role("button", name="Analysis off").click()
    menu.locator("summary").click()
    sender.close()
    viewer.wait_for_function("() => window.ensemble.state().peers.length === 0", timeout=5000)


def test_missing_bodypix_weights_fall_back_to_the_selfie_engine_and_say_so(server, open_page):
    sender = open_page(room_url(server, "bodypix", "Sender", analysis="off"), "mandel")
    viewer = open_page(room_url(server, "bodypix", "Viewer", segmentation="bodypix", analysis="on"))
    wait_connected(viewer, 1)
    notice = viewer.locator("#notice[data-code='analysis-mask']")
    notice.wait_for(timeout=ANALYSIS_START_MS)
    assert "BodyPix weights are not installed" in notice.inner_text()
    peer_id = state(viewer)["peers"][0]["id"]
    assert wait_for_analysis(viewer, peer_id, faces=False)["engine"]["mask"] == "selfie"
    assert sender.locator("#notice").is_hidden()


BODYPIX_WEIGHTS = ROOT / "static/models/bodypix/model-stride16.json"


@pytest.mark.skipif(not BODYPIX_WEIGHTS.exists(), reason="BodyPix weights are not installed (`make bodypix` downloads them once while online)")
def test_bodypix_segments_the_people_when_its_weights_are_installed(server, open_page, playwright_driver, tmp_path):
    camera = make_photo_camera(tmp_path, "sample3")
    launch = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(camera))
    launch.new_page().goto(room_url(server, "bodypix-on", "Sender", analysis="off"))
    viewer = open_page(room_url(server, "bodypix-on", "Viewer", segmentation="bodypix", analysis="on"))
    wait_connected(viewer, 1)
    result = wait_for_analysis(viewer, state(viewer)["peers"][0]["id"], faces=False)
    assert result["engine"]["mask"] == "bodypix"
    assert 0.15 < result["mask"]["coverage"] < 0.85
    launch.close()


def test_without_workers_the_same_analysis_runs_on_the_main_thread(server, open_page):
    open_page(room_url(server, "inline", "Sender", analysis="off"), "mandel")
    viewer = open_page(room_url(server, "inline", "Viewer", workers="off", analysis="on"))
    wait_connected(viewer, 1)
    result = wait_for_analysis(viewer, state(viewer)["peers"][0]["id"])
    assert result["where"] == {"mask": "main thread", "faces": "main thread"}
    assert result["engine"] == {"mask": "selfie", "faces": "face-api"}
    assert 0 <= result["mask"]["coverage"] <= 1
