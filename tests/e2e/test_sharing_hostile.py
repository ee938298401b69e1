"""A hostile peer: one whose page stacks thousands of analysis trailers on each of its video
frames. The page it sends them to keeps showing its other peers' videos at their frame rate,
and stops taking the hostile peer's analysis: that stream is analysed here.

The hostile page runs this project's page with its shared-analysis worker (static/js/sharing/
transform.js) swapped, by the test's route, for the script below: a peer's page is whatever
its owner makes it, so nothing of the hostile behaviour lives in the project's code."""

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.helpers import ANALYSIS_START_MS, BACKENDS_MEASURED, peer_ids, room_url, wait_connected, wait_videos_playing

# Served as the hostile page's transform.js: its receivers pass frames on untouched; its senders append
# `stack` trailers (the page's own version, each a valid packet: a 1×1 mask that is all person, no faces)
# to every VP8/VP9 frame once the test says how many, on a BroadcastChannel, and none before.
HOSTILE_WORKER = """
import { MAGIC, VERSION } from "./packet.js";
let stack = 0;
new BroadcastChannel("hostile").onmessage = ({ data }) => { stack = data; };
const packet = [0, 0, 0, 0, 3, 1, 1, 2, 0, 0, 1, 0];
const trailer = Uint8Array.from([...packet, packet.length, 0, VERSION, ...MAGIC]);
self.onrtctransform = ({ transformer }) => {
  const sends = transformer.options.side === "send";
  transformer.readable.pipeThrough(new TransformStream({ transform(frame, controller) {
    if (sends && stack && /VP[89]/.test(frame.getMetadata().mimeType)) {
      const video = new Uint8Array(frame.data);
      const stacked = new Uint8Array(video.length + stack * trailer.length);
      stacked.set(video);
      for (let at = video.length; at < stacked.length; at += trailer.length) stacked.set(trailer, at);
      frame.data = stacked.buffer;
    }
    controller.enqueue(frame);
  } })).pipeTo(transformer.writable);
};
"""

STACK = 1000  # trailers a frame: 19 kB of them on each frame of a 320×240 video (a few kB of video)

COUNT_FRAMES = """id => {
    const video = document.querySelector(`.tile[data-peer-id="${id}"] video:not(.backdrop)`);
    window.__frames = 0;
    const tick = () => { window.__frames += 1; video.requestVideoFrameCallback(tick); };
    video.requestVideoFrameCallback(tick);
}"""
WINDOW_MS = 8000
RECEIVED = "() => window.ensemble.sharing().received"


def serve_hostile_worker(route):
    """The hostile script, with the headers the real one comes with (a worker without the page's
    Cross-Origin-Embedder-Policy is refused)."""
    route.fulfill(response=route.fetch(), body=HOSTILE_WORKER)


def frame_rate(page):
    """Frames a second the counted video presented over the next WINDOW_MS (the page's own clock)."""
    frames, start = page.evaluate("() => [window.__frames, performance.now()]")
    try:
        page.wait_for_function("end => performance.now() >= end", arg=start + WINDOW_MS, polling=250, timeout=WINDOW_MS + 30_000)
    except PlaywrightTimeoutError:
        return 0.0  # the page did not answer for half a minute: no frame rate to speak of
    frames_after, end = page.evaluate("() => [window.__frames, performance.now()]")
    return (frames_after - frames) * 1000 / (end - start)


def test_a_peer_stacking_trailers_neither_slows_the_other_videos_nor_keeps_its_analysis_shared(launch, server):
    pages = {}
    for name, camera, analysis in [("Vic", "bars", "on"), ("Hon", "mandel", "off"), ("Mal", "life", "off")]:
        page = launch(camera).new_page(viewport={"width": 1280, "height": 800})
        if name == "Mal":
            page.route("**/sharing/transform.js*", serve_hostile_worker)
        page.goto(room_url(server, "hostile", name, analysis=analysis))
        pages[name] = page
    for page in pages.values():
        wait_connected(page, 2, timeout=30_000)
    victim = pages["Vic"]
    ids = peer_ids(victim)
    victim.wait_for_function(BACKENDS_MEASURED, timeout=ANALYSIS_START_MS)  # the steady state: engines started and timed
    wait_videos_playing(victim, 2, timeout=30_000)
    victim.evaluate(COUNT_FRAMES, ids["Hon"])

    before = frame_rate(victim)
    received = victim.evaluate(RECEIVED)
    pages["Mal"].evaluate("stack => new BroadcastChannel('hostile').postMessage(stack)", STACK)
    victim.wait_for_function(  # the stacked frames arrive
        "n => { const r = window.ensemble.sharing().received; return r.packets + r.damaged >= n; }",
        arg=received["packets"] + received["damaged"] + 10,
        timeout=30_000,
    )
    during = frame_rate(victim)
    assert during >= 0.8 * before, (before, during)

    # Mal's shared analysis is dropped: its stream is analysed here, and the page says why.
    victim.wait_for_function(
        "id => { const a = window.ensemble.analysis(id); return a.source === 'local' && a.dropped === 'damaged'; }",
        arg=ids["Mal"],
        timeout=10_000,
    )
    dropped = victim.evaluate("id => window.ensemble.analysis(id)", ids["Mal"])
    victim.wait_for_function(
        "([id, n]) => window.ensemble.analysis(id).local.mask >= n + 3", arg=[ids["Mal"], dropped["local"]["mask"]], timeout=30_000
    )
    after = victim.evaluate(RECEIVED)
    assert after["damaged"] > received["damaged"], (received, after)
    # Each frame was one verdict, not thousands of packets.
    assert after["packets"] - received["packets"] < 1000, (received, after)
