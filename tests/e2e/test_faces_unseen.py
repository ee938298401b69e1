"""Faces on a picture the project did not choose: the astronaut of scikit-image's sample pictures,
her helmet beside her (harness/pictures.py, marked by hand in tests/data/face-marks.json). With
TinyFaceDetector at the page's default preset her body also looked like a face to it: every
viewer saw two. Now each viewer sees exactly one, at the marked place, whether her own browser
analyses her camera and shares the result or the viewer analyses her stream itself."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from harness.browsers import make_photo_camera, make_still_camera
from harness.pictures import face_marks, finds, on_camera, picture
from tests.e2e.helpers import ANALYSIS_START_MS, analysis_of, choose_from_more, open_people, peer_ids, wait_source

RESULTS = 12  # face results of her stream, a quarter of a second apart: three seconds

# The faces of each new face result of one stream from `source`, from the first new one that shows a face
# on (what the stream showed when the source changed may have come from the other source), until `count`
# are in; a change of source starts again.
COLLECT = """([id, source, count]) => {
    const now = window.ensemble.analysis(id);
    const seen = (window.__faceResults ??= {});
    const run = seen[id];
    if (!now || now.source !== source || (run && run.sourceChanges !== now.sourceChanges)) {
        delete seen[id];
        return false;
    }
    if (!run) {
        seen[id] = { sourceChanges: now.sourceChanges, last: now.results.faces, faces: [] };
        return false;
    }
    if (now.results.faces !== run.last) {
        run.last = now.results.faces;
        if (run.faces.length || now.faces.length) run.faces.push(now.faces);
    }
    return run.faces.length >= count ? run.faces : false;
}"""


def face_results(page, peer_id, source, count=RESULTS, timeout=ANALYSIS_START_MS):
    page.evaluate("id => { delete window.__faceResults?.[id]; }", peer_id)
    try:
        return page.wait_for_function(COLLECT, arg=[peer_id, source, count], timeout=timeout, polling=50).json_value()
    except PlaywrightTimeoutError:
        raise AssertionError(f"no {count} face results from {source} within {timeout} ms: {analysis_of(page, peer_id)}") from None


@pytest.fixture(scope="module")
def astronaut():
    frame, [face] = on_camera(picture("astronaut"), face_marks()["astronaut"])
    return frame, face


@pytest.fixture(scope="module")
def room(chromium, server, tmp_path_factory, astronaut):
    """Eileen, whose camera shows the astronaut picture, and Ada, who watches; both analyse and share."""
    folder = tmp_path_factory.mktemp("unseen-cameras")
    cameras = {"Eileen": make_still_camera(folder, "astronaut", astronaut[0]), "Ada": make_photo_camera(folder, "sample1-left")}
    pages, browsers = open_people(chromium, server, "unseen", cameras, analysis="on")
    yield pages
    for browser in browsers:
        browser.close()


def assert_one_face_at_the_mark(results, mark):
    for index, faces in enumerate(results):
        assert len(faces) == 1, (index, faces, mark)
        assert finds(faces[0], mark), (index, faces[0], mark)


def test_her_own_browser_finds_one_face_and_every_viewer_gets_that_one(room, astronaut):
    eileen_id = peer_ids(room["Ada"])["Eileen"]
    wait_source(room["Ada"], eileen_id, "sender")
    assert_one_face_at_the_mark(face_results(room["Ada"], eileen_id, "sender"), astronaut[1])


def test_a_viewer_analysing_her_stream_itself_finds_one_face_too(room, astronaut):
    eileen_id = peer_ids(room["Ada"])["Eileen"]
    choose_from_more(room["Eileen"], "Analysis on")  # she switches analysis off: Ada analyses her stream
    try:
        wait_source(room["Ada"], eileen_id, "local", timeout=10_000)
        assert_one_face_at_the_mark(face_results(room["Ada"], eileen_id, "local"), astronaut[1])
    finally:
        choose_from_more(room["Eileen"], "Analysis off")
