"""Shared masks and a moving person: a sharing viewer draws each cut-out on the frame its mask
was computed on; a peer that does not understand the trailers still decodes the video.

Its own module: the three sharing browsers of test_sharing.py are closed before it starts."""

import statistics

from harness.browsers import MOVING_CODE, chromium_flags, make_moving_camera, make_photo_camera, moving_x
from tests.e2e.helpers import ANALYSIS_START_MS, peer_ids, room_url, wait_connected, wait_source

READ_FRAME_NUMBERS = """([id, code]) => {
    const video = document.querySelector(`.tile[data-peer-id="${id}"] video:not(.backdrop)`);
    const canvas = new OffscreenCanvas(code.step * code.bits, code.size);
    const context = canvas.getContext('2d', { willReadFrequently: true });
    window.__numbers = new Map();
    const seen = (now, metadata) => {
        video.requestVideoFrameCallback(seen);
        const scale = video.videoWidth / 640;
        context.drawImage(video, code.x * scale, code.y * scale, canvas.width * scale, canvas.height * scale, 0, 0, canvas.width, canvas.height);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let number = 0;
        for (let bit = 0; bit < code.bits; bit++) {
            const at = ((code.size >> 1) * canvas.width + bit * code.step + (code.size >> 1)) * 4;
            if (pixels[at] > 128) number += 1 << bit;
        }
        window.__numbers.set(metadata.rtpTimestamp, number);
    };
    video.requestVideoFrameCallback(seen);
}"""


# The cut-outs of one person drawn since a mark was set (the compositor keeps the last 300, the same
# objects each time it is asked): a window of the scene to measure.
MARK = "id => { window.__mark = window.ensemble.drawnFrames(id).at(-1); }"
SINCE_MARK = "id => { const drawn = window.ensemble.drawnFrames(id); return drawn.slice(drawn.indexOf(window.__mark) + 1); }"


# On the sharing viewer: `count` cut-outs of the mover drawn since the mark, all while its stream stayed
# with its sender. When it goes local (a loaded machine's sender can slow down for two seconds, and the
# viewer then analyses the stream itself for that while), the mark is set again once it is back.
SHARED_SINCE_MARK = f"""([id, count]) => {{
    const now = window.ensemble.analysis(id);
    if (!now || now.source !== 'sender' || now.sourceChanges !== window.__markChanges) {{
        window.__markChanges = now?.source === 'sender' ? now.sourceChanges : null;
        ({MARK})(id);
        return false;
    }}
    return ({SINCE_MARK})(id).length >= count;
}}"""


def drawn_window(viewers, mover_id, count=150):
    """Wait for `count` cut-outs of the mover on every viewer's scene, the sharing viewer's all drawn
    while the stream came from its sender."""
    wait_source(viewers["Shared"], mover_id, "sender")
    for page in viewers.values():
        page.evaluate(MARK, mover_id)
    viewers["Shared"].evaluate("id => { window.__markChanges = window.ensemble.analysis(id).sourceChanges; }", mover_id)
    viewers["Old"].wait_for_function(f"id => ({SINCE_MARK})(id).length >= {count}", arg=mover_id, timeout=30_000)
    viewers["Shared"].wait_for_function(SHARED_SINCE_MARK, arg=[mover_id, count], timeout=90_000)


def alignment(page, mover_id):
    """For each cut-out of the mover drawn in the window: how far the mask's centre is from the
    person's place in the frame drawn (fractions of the width), how many were drawn for a shared
    mask, and how often on the very frame its sender named."""
    drawn = page.evaluate(
        f"id => ({SINCE_MARK})(id).map(d => ({{ ...d, number: window.__numbers.get(d.frame) ?? null }}))", mover_id
    )
    known = [one for one in drawn if one["number"] is not None and one["centroid"]]
    offsets = [one["centroid"]["x"] - moving_x(one["number"]) / 640 for one in known]
    middle = statistics.median(offsets)
    spread = statistics.median(abs(offset - middle) for offset in offsets)
    named = [one for one in known if one["named"] is not None]
    same = sum(one["frame"] == one["named"] for one in named) / max(1, len(named))
    return {"draws": len(known), "spread": spread, "named": len(named), "same_as_named": same}


def test_shared_masks_follow_a_moving_person_frame_by_frame_and_a_peer_that_does_not_strip_them_still_decodes(
    server, chromium, tmp_path, page_errors
):
    """A person slides across the picture. The sharing viewer draws each cut-out from the frame
    its mask was computed on (the kept frame whose fingerprint is the mask's), so the mask follows
    the person more closely than the masks of a viewer with sharing off (an old-style peer: no
    transform, so the trailers reach its decoder), which analyses the stream itself and draws on
    the live frame."""
    mover_browser = chromium(chromium_flags(make_moving_camera(tmp_path)))
    mover = mover_browser.new_page()
    mover.goto(room_url(server, "moving", "Mover", analysis="on"))
    viewers = {}
    for name, share in (("Shared", "on"), ("Old", "off")):
        browser = chromium(chromium_flags(make_photo_camera(tmp_path, "sample3-middle")))
        viewers[name] = browser.new_page(viewport={"width": 1280, "height": 800})
        # Without cameras: the two cores go to the mover's analysis and the old peer's, as on separate machines.
        viewers[name].goto(room_url(server, "moving", name, analysis="on", share=share, camera="off"))
    try:
        for page in (mover, *viewers.values()):
            wait_connected(page, 2, timeout=30_000)
        mover_id = peer_ids(viewers["Shared"])["Mover"]
        wait_source(viewers["Shared"], mover_id, "sender")
        wait_source(viewers["Old"], mover_id, "local")
        viewers["Old"].wait_for_function(
            "id => window.ensemble.analysis(id).results.mask > 5", arg=mover_id, timeout=ANALYSIS_START_MS
        )
        # Trailers reach the old peer's decoder: it decodes on, without asking for key frames.
        before = viewers["Old"].evaluate("id => window.ensemble.connection(id)", mover_id)
        for page in viewers.values():
            page.evaluate(READ_FRAME_NUMBERS, [mover_id, MOVING_CODE])
            page.click("button[data-action=toggle-scene]")
        drawn_window(viewers, mover_id)
        after = viewers["Old"].evaluate("id => window.ensemble.connection(id)", mover_id)
        assert after["framesDecoded"] - before["framesDecoded"] >= 50, (before, after)
        assert after["keyFramesAsked"] - before["keyFramesAsked"] <= 2, (before, after)
        shared, old = alignment(viewers["Shared"], mover_id), alignment(viewers["Old"], mover_id)
        assert shared["draws"] >= 100 and old["draws"] >= 100, (shared, old)
        # The sharing viewer draws (nearly) every cut-out on a kept frame found for its shared mask; the old one on
        # the live frame.
        assert shared["named"] >= 0.9 * shared["draws"] and old["named"] == 0, (shared, old)
        # How far each mask's centre strays from the person (median deviation, fractions of the width; the person
        # moves up to 2 % a frame): measured 0.012 shared against 0.022 local, whose masks are a frame behind.
        assert shared["spread"] < old["spread"] and shared["spread"] <= 0.02, (shared, old)
    finally:
        mover_browser.close()
        for page in viewers.values():
            page.context.browser.close()
