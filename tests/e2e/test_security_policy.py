"""The room page under its Content-Security-Policy in real Chromium: analysis (WASM, workers),
the scene, a recording and uploads run, and nothing is blocked. Violations are caught twice:
the page's `securitypolicyviolation` events, and the reports browsers post to /api/csp-reports
for the page and its workers alike (the server logs each)."""

import io

import requests
from PIL import Image

from ensemble_client import EnsembleClient
from harness.servers import ServerProcess
from tests.e2e.helpers import (
    ANALYSIS_START_MS,
    BACKENDS_MEASURED,
    OWN_VIDEO,
    room_url,
    start_frame_count,
    state,
    wait_connected,
    wait_for_analysis,
    wait_frames,
)
from tests.waiting import eventually

# Recorded from the first script on, before any of the page's own.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => window.__violations.push({
  directive: event.effectiveDirective, blocked: event.blockedURI, source: event.sourceFile, line: event.lineNumber,
}));
"""
VIOLATIONS = "() => window.__violations"
INLINE_SCRIPT = "() => { document.head.append(Object.assign(document.createElement('script'), {textContent: 'window.__inlineRan = 1'})); }"
# MediaPipe's tasks-vision posts usage logs to Google from its worker; the policy blocks that,
# as it should (nothing leaves for elsewhere), and the browser reports it: the one expected report.
TELEMETRY = "blocked-uri=https://odml.pa.googleapis.com/"


def csp_lines(server):
    return [line for line in server.log().splitlines() if "csp violation" in line]


def picture(colour):
    out = io.BytesIO()
    Image.new("RGB", (320, 180), colour).save(out, "PNG")
    return out.getvalue()


def test_the_room_page_runs_analysis_scene_recording_and_uploads_without_a_violation(launch, tmp_path):
    server = ServerProcess(tmp_path, async_mode="gevent", upload_folder=tmp_path / "uploads")
    with server:
        viewer_browser = launch("bars")
        viewer = viewer_browser.new_page(viewport={"width": 1280, "height": 800})
        viewer.add_init_script(RECORD_VIOLATIONS)
        viewer.goto(room_url(server, "policy", "Ada", analysis="on"))
        other = launch("mandel").new_page(viewport={"width": 1280, "height": 800})
        other.add_init_script(RECORD_VIOLATIONS)
        other.goto(room_url(server, "policy", "Bea"))
        wait_connected(viewer, 1, timeout=30_000)

        # Analysis: both models start in their workers (WASM compiled, backends timed) and
        # find Bea's mask and face.
        viewer.wait_for_function(BACKENDS_MEASURED, timeout=ANALYSIS_START_MS)
        wait_for_analysis(viewer, state(viewer)["peers"][0]["id"])

        # The scene, with a background uploaded the way a person does it.
        viewer.click("button[data-action=toggle-scene]")
        viewer.wait_for_function("() => window.ensemble.scene().shown")
        with viewer.expect_response("**/api/backgrounds") as response:
            viewer.set_input_files(
                "input[data-scene=upload]", files=[{"name": "green.png", "mimeType": "image/png", "buffer": picture((0, 200, 0))}]
            )
        # The page proves its membership with its join reply (SceneRoom.setMember, as it joins),
        # so the picture is taken and put behind everyone.
        assert response.value.status == 201
        viewer.wait_for_function("() => window.ensemble.scene().scene?.background?.image?.startsWith('/uploads/')")

        # A picture a member uploads over HTTP and puts behind everyone: drawn from /uploads/.
        with EnsembleClient(server.url) as member:
            member.join("policy", "Cy")
            uploaded = requests.post(
                server.url + "/api/backgrounds", files={"image": ("blue.png", picture((0, 0, 200)), "image/png")},
                headers=member.member_header, timeout=10,
            ).json()
            version = viewer.evaluate("() => window.ensemble.scene().version")
            member.scene({"background": {"image": uploaded["url"]}}, version)
            viewer.wait_for_function("url => window.ensemble.scene().scene?.background?.image === url", arg=uploaded["url"])

        # A recording, downloaded as a blob.
        viewer.click("button[data-scene=record]")
        viewer.wait_for_function("() => document.querySelector('button[data-scene=record]').getAttribute('aria-pressed') === 'true'")
        start_frame_count(viewer, OWN_VIDEO)
        wait_frames(viewer, 20)  # over a second of Ada's camera in the recording
        with viewer.expect_download() as download:
            viewer.click("button[data-scene=record]")
        assert download.value.suggested_filename.endswith(".webm")

        # A group photo (a blob, a canvas read back).
        with viewer.expect_download() as photo:
            viewer.click("button[data-scene=photo]")
        assert photo.value.suggested_filename.endswith(".png")

        # The control: an inline script, which the policy blocks, is seen both ways. Reports come
        # in the order their violations happened, so once this one is logged, any earlier one is too.
        viewer.evaluate(INLINE_SCRIPT)
        viewer.wait_for_function("() => window.__violations.some((v) => v.blocked === 'inline')")
        assert viewer.evaluate("() => window.__inlineRan") is None
        eventually(lambda: any("blocked-uri=inline" in line for line in csp_lines(server)), timeout=10, what="the inline script's report logged")
        violations = [v for v in viewer.evaluate(VIOLATIONS) if v["blocked"] != "inline"] + other.evaluate(VIOLATIONS)
        assert violations == []
        assert [line for line in csp_lines(server) if "blocked-uri=inline" not in line and TELEMETRY not in line] == []
        assert len([line for line in csp_lines(server) if "blocked-uri=inline" in line]) == 1
