"""Glass-to-glass delay of a broadcast in Chromium (bench/broadcast.py --glass).

Ada and Bea (fake cameras, a Chromium each) are in a room; Ada's page broadcasts the scene.
The benchmark draws Ada's wall clock (Date.now(), ms modulo 2**24) on her scene canvas
every animation frame, after the scene's own drawing, as a row of black and white blocks
at the bottom (CLOCK); the recording carries it. A third Chromium plays the watch link;
at every frame it presents (requestVideoFrameCallback) it reads the blocks out of the
<video> and compares them with its own Date.now(). Both browsers run on this machine: one
clock serves both.

Where the delay is: the benchmark reads each segment's first frame out of the shared folder
as soon as ffmpeg lists it (the clock again), so the delay splits into drawn → listed (the
recorder's chunk, the upload, ffmpeg closing the segment at the next keyframe) and listed →
shown (hls.js finding the segment in the playlist and playing `liveSyncDuration` behind the
newest one). Ada's chunk POSTs are timed too: sent one at a time, they fall behind the
recorder when their answers take longer than a chunk lasts. The load average is printed with
each run: on a shared machine the figures follow it.

`chunk_ms`, `live_sync` and `segment` rewrite constants in the JS the browsers are served
(static/js/scene/broadcaster.js CHUNK_MS and KEYFRAME_MS, static/js/watch.js
liveSyncDuration) and, for `segment`, ensemble/broadcast/encoder.py's SEGMENT_SECONDS in
the server process (SEGMENTED_SERVER), to see what they move; the product is unchanged.
"""

import os
import queue
import re
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.browsers import CHROMIUM, chromium_flags, make_camera
from harness.servers import ROOT, ServerProcess

# 2 marker blocks (white, black), then each bit as a pair (bit, not bit): 50 blocks of 24×24 px
# at the bottom of the 1280×720 scene, on the 8 px grid of the encoder's blocks.
CLOCK = {"x": 40, "y": 688, "size": 24, "bits": 24}
MODULO = 2 ** CLOCK["bits"]

DRAW_CLOCK = """(code) => {
  const canvas = document.querySelector('canvas[data-scene=canvas]');
  const context = canvas.getContext('2d');
  const draw = () => {
    requestAnimationFrame(draw);
    const now = Date.now() % (2 ** code.bits);
    const blocks = [true, false];
    for (let bit = 0; bit < code.bits; bit += 1) {
      const one = Math.floor(now / 2 ** bit) % 2 === 1;
      blocks.push(one, !one);
    }
    blocks.forEach((white, index) => {
      context.fillStyle = white ? '#fff' : '#000';
      context.fillRect(code.x + index * code.size, code.y, code.size, code.size);
    });
  };
  requestAnimationFrame(draw);  // registered after the scene's own frame callback: drawn on top of it
}"""

# On the viewer: at every presented frame, the clock read out of the video and the wall
# clock when the frame is shown: window.glass = [[shown, drawn, presentedFrames], ...].
READ_CLOCK = """(code) => {
  const video = document.querySelector(code.selector);
  const blocks = 2 + 2 * code.bits;
  const canvas = Object.assign(document.createElement('canvas'), { width: blocks * code.size, height: code.size });
  const context = canvas.getContext('2d', { willReadFrequently: true });
  window.glass = [];
  window.glassUnread = 0;
  const light = (data, index) => {
    const middle = (Math.floor(code.size / 2) * canvas.width + index * code.size + Math.floor(code.size / 2)) * 4;
    return (data[middle] + data[middle + 1] + data[middle + 2]) / 3;
  };
  const read = () => {
    const scale = video.videoWidth / 1280;
    context.drawImage(video, code.x * scale, code.y * scale, canvas.width * scale, code.size * scale, 0, 0, canvas.width, canvas.height);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    if (light(data, 0) - light(data, 1) < 80) return null;
    let value = 0;
    for (let bit = 0; bit < code.bits; bit += 1) {
      const difference = light(data, 2 + 2 * bit) - light(data, 3 + 2 * bit);
      if (Math.abs(difference) < 80) return null;
      if (difference > 0) value += 2 ** bit;
    }
    return value;
  };
  const step = (now, frame) => {
    video.requestVideoFrameCallback(step);
    const drawn = read();
    const shown = Date.now() + (frame.expectedDisplayTime - performance.now());
    if (drawn === null) window.glassUnread += 1;
    else window.glass.push([shown, drawn, frame.presentedFrames]);
  };
  video.requestVideoFrameCallback(step);
}"""


# The method's own delay: Ada's canvas played in a <video> on her page (no recorder, no network).
CALIBRATION_VIDEO = """async () => {
  const video = Object.assign(document.createElement('video'), { id: 'glass-calibration', muted: true });
  video.srcObject = document.querySelector('canvas[data-scene=canvas]').captureStream(30);
  document.body.append(video);
  await video.play();
}"""
STOP_CALIBRATION = """() => {
  const video = document.getElementById('glass-calibration');
  for (const track of video.srcObject.getTracks()) track.stop();
  video.remove();
  return window.glass;
}"""


def decode_row(pixels, width):
    """The clock in one grey row through the middle of the blocks (bytes, `width` px), or None."""
    size = CLOCK["size"]

    def light(index):
        return pixels[index * size + size // 2]

    if light(0) - light(1) < 80:
        return None
    value = 0
    for bit in range(CLOCK["bits"]):
        difference = light(2 + 2 * bit) - light(3 + 2 * bit)
        if abs(difference) < 80:
            return None
        value += 2 ** bit if difference > 0 else 0
    return value


def first_clock(segment):
    """The clock drawn on a segment's first frame (MPEG-TS bytes; ffmpeg reads the blocks' middle row), or None."""
    width = (2 + 2 * CLOCK["bits"]) * CLOCK["size"]
    crop = f"format=gray,crop={width}:1:{CLOCK['x']}:{CLOCK['y'] + CLOCK['size'] // 2}"
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "mpegts", "-i", "pipe:0", "-frames:v", "1", "-vf", crop,
         "-f", "rawvideo", "-"], input=segment, capture_output=True, check=False,
    )
    return decode_row(done.stdout, width) if len(done.stdout) == width else None


def since(drawn, now_ms):
    """ms from a drawn clock (ms modulo 2**24) to `now_ms` (Unix ms)."""
    return (int(now_ms) - drawn) % MODULO


class Listings:
    """Watches a broadcast's folder: when each segment is first listed (Unix ms) and the clock on its
    first frame (read by another thread from a copy, so that reading never delays noticing the next)."""

    def __init__(self, stream):
        self.stream = stream
        self.listed, self.first = {}, {}
        self._copies = queue.Queue()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._watch, daemon=True), threading.Thread(target=self._read, daemon=True)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._copies.put(None)
        for thread in self._threads:
            thread.join()

    def _watch(self):
        while not self._stop.is_set():
            try:
                text = (self.stream / "index.m3u8").read_text()
            except FileNotFoundError:
                text = ""
            for number in map(int, re.findall(r"s(\d+)\.ts", text)):
                if number not in self.listed:
                    self.listed[number] = time.time() * 1000
                    try:
                        self._copies.put((number, (self.stream / f"s{number:05d}.ts").read_bytes()))
                    except FileNotFoundError:
                        pass  # already deleted (the playlist moved on while we slept): its clock stays unknown
            time.sleep(0.02)

    def _read(self):
        while (item := self._copies.get()) is not None:
            number, segment = item
            self.first[number] = first_clock(segment)


# server.py with HLS segments of another length (gevent patches first, as server.py would).
SEGMENTED_SERVER = """import runpy, sys
sys.path.insert(0, {root!r})
from gevent import monkey
monkey.patch_all()
from ensemble.broadcast import encoder
encoder.SEGMENT_SECONDS = {seconds}
runpy.run_path({server!r}, run_name="__main__")
"""


def rewritten(page, path, replacements):
    """Serve `path` to `page` with each (old, new) of `replacements` made (old must be there)."""

    def handle(route):
        response = route.fetch()
        body = response.text()
        for old, new in replacements:
            assert old in body, (path, old)
            body = body.replace(old, new)
        route.fulfill(response=response, body=body)

    page.route(f"**{path}", handle)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def start_broadcast(browsers, server, room, chunk_ms, segment):
    """Ada and Bea in `room` (a browser each: two pages of one Chromium share its fake camera, and
    the second one's picture stays black), Ada's scene broadcast with the clock on it: (Ada's page,
    the watch link)."""
    pages = {}
    for name, browser in zip(("Ada", "Bea"), browsers):
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        replacements = [("const CHUNK_MS = 500;", f"const CHUNK_MS = {chunk_ms};")] if chunk_ms else []
        if segment:
            replacements.append(("const KEYFRAME_MS = 1000;", f"const KEYFRAME_MS = {round(segment * 1000)};"))
        if replacements and name == "Ada":
            rewritten(page, "/static/js/scene/broadcaster.js", replacements)
        page.goto(f"{server.url}/r/{room}?name={name}&analysis=off")
        pages[name] = page
    ada = pages["Ada"]
    connected = "() => (window.ensemble?.state().peers ?? []).filter(p => p.connectionState === 'connected').length === 1"
    for page in pages.values():
        page.wait_for_function(connected, timeout=60_000)
    ada.click("button[data-action=toggle-scene]")
    ada.wait_for_function("() => window.ensemble.scene().placements.length === 2", timeout=30_000)
    ada.evaluate(DRAW_CLOCK, CLOCK)
    # CDP grants exactly the permissions listed and refuses the others: the camera and microphone too
    ada.context.grant_permissions(["clipboard-read", "clipboard-write", "camera", "microphone"])
    ada.click("button[data-scene=broadcast]")
    ada.wait_for_selector("button[data-scene=copy-watch]:not([hidden])", timeout=30_000)
    ada.click("button[data-scene=copy-watch]")
    return ada, ada.evaluate("() => navigator.clipboard.readText()")


def calibration(ada, seconds=3):
    """Median ms from drawing the clock to showing it in a <video> on the same page: the method's own share."""
    ada.evaluate(CALIBRATION_VIDEO)
    ada.evaluate(READ_CLOCK, {**CLOCK, "selector": "#glass-calibration"})
    ada.wait_for_timeout(seconds * 1000)
    samples = ada.evaluate(STOP_CALIBRATION)
    return round(statistics.median(since(drawn, shown) for shown, drawn, _ in samples)) if samples else None


def stream_folder(folder):
    """The one broadcast's folder of segments, once it exists."""
    live = Path(folder) / "live"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        streams = list(live.glob("*")) if live.exists() else []
        if streams:
            return streams[0]
        time.sleep(0.1)
    raise TimeoutError("no broadcast folder")


def chunk_figures(posts, since_ms, until_ms, chunk_ms):
    """Ada's chunk POSTs in the window: their round trip, and how far their sending fell behind
    the recorder's pace (each is sent when the one before is answered)."""
    kept = sorted((seq, start, took) for seq, start, took in posts if since_ms <= start <= until_ms)
    if not kept:
        return {}
    behind = [start - kept[0][1] - (seq - kept[0][0]) * chunk_ms for seq, start, _ in kept]
    took = [entry[2] for entry in kept]
    return {"chunk_post_ms_median": round(statistics.median(took)), "chunk_post_ms_p90": round(percentile(took, 0.9)),
            "chunk_sending_behind_ms_max": round(max(behind) - min(behind))}


def summary(samples, unread, listings, fetched, seconds):
    """The figures of one run from the viewer's samples and the folder's listings."""
    delays = [since(drawn, shown) for shown, drawn, _ in samples]
    drawn_times = [drawn for _, drawn, _ in samples]
    shown_span = (samples[-1][0] - samples[0][0]) / 1000
    # broadcast time the viewer showed: steps between consecutive frames of under 0.5 s (a
    # skipped segment is a jump of a second or more); stalls: the viewer showed nothing new for 0.5 s
    steps = [(later - earlier) % MODULO for earlier, later in zip(drawn_times, drawn_times[1:])]
    walls = [later[0] - earlier[0] for earlier, later in zip(samples, samples[1:])]
    played = sum(step for step in steps if step < 500) / 1000
    span = sum(steps) / 1000
    numbers = sorted(number for number in listings.listed if samples[0][0] <= listings.listed[number] <= samples[-1][0])
    to_listed = [since(listings.first[n + 1], listings.listed[n]) for n in numbers if listings.first.get(n + 1) is not None]
    first_listed = [since(listings.first[n], listings.listed[n]) for n in numbers if listings.first.get(n) is not None]
    return {
        "glass_to_glass_ms_median": round(statistics.median(delays)),
        "glass_to_glass_ms_p90": round(percentile(delays, 0.9)),
        "glass_to_glass_ms_min": round(min(delays)), "glass_to_glass_ms_max": round(max(delays)),
        "frames_read": len(samples), "frames_unreadable": unread, "seconds_measured": round(shown_span, 1),
        "viewer_fps_read": round(len(samples) / shown_span, 1),
        "viewer_fps_presented": round((samples[-1][2] - samples[0][2]) / shown_span, 1),
        "broadcast_time_shown_share": round(played / span, 3) if span else None,
        "jumps_over_0_9_s": sum(1 for step in steps if step >= 900),
        "stalls_over_0_5_s": sum(1 for wall in walls if wall >= 500),
        "segments_listed": len(numbers), "segments_fetched_of_listed": len(set(numbers) & fetched),
        # drawn → listed: from the last frame of segment n (just before n+1's first) to n being listed
        "segment_end_drawn_to_listed_ms_median": round(statistics.median(to_listed)) if to_listed else None,
        "segment_start_drawn_to_listed_ms_median": round(statistics.median(first_listed)) if first_listed else None,
        "hls_latency_s": None,
    }


def server_process(folder, broadcasts, segment):
    if not segment:
        return ServerProcess(folder, broadcast_folder=broadcasts)
    script = Path(folder) / "segmented_server.py"
    script.write_text(SEGMENTED_SERVER.format(root=str(ROOT), seconds=segment, server=str(ROOT / "server.py")))
    return ServerProcess(folder, script=script, broadcast_folder=broadcasts)


def glass_to_glass(seconds, chunk_ms=None, live_sync=None, segment=None, warm_seconds=8):
    """One run: a broadcast watched for `seconds` after `warm_seconds` of playing; its figures."""
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        cameras = [make_camera(folder, "bars"), make_camera(folder, "mandel")]
        broadcasts = Path(folder) / "broadcasts"
        with server_process(folder, broadcasts, segment) as server:
            senders = [driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(camera)) for camera in cameras]
            watcher = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags())
            try:
                ada, watch = start_broadcast(senders, server, "glass", chunk_ms, segment)
                posts = []
                ada.on("requestfinished", lambda request: posts.extend(
                    (int(seq), request.timing["startTime"], request.timing["responseEnd"])
                    for seq in re.findall(r"/chunks/(\d+)$", request.url)))
                calibrated = calibration(ada)
                with Listings(stream_folder(broadcasts)) as listings:
                    viewer = watcher.new_page(viewport={"width": 1280, "height": 800})
                    if live_sync is not None:
                        rewritten(viewer, "/static/js/watch.js", [("liveSyncDuration: 1.5", f"liveSyncDuration: {live_sync}")])
                    fetched = set()
                    viewer.on("response", lambda response: fetched.update(
                        int(number) for number in re.findall(r"/s(\d+)\.ts$", response.url) if response.ok))
                    viewer.goto(watch)
                    viewer.wait_for_function("() => document.querySelector('video').currentTime > 0.5", timeout=60_000)
                    viewer.wait_for_timeout(warm_seconds * 1000)
                    viewer.evaluate(READ_CLOCK, {**CLOCK, "selector": "video"})
                    viewer.wait_for_timeout(seconds * 1000)
                    samples = viewer.evaluate("() => window.glass")
                    unread = viewer.evaluate("() => window.glassUnread")
                    latency = viewer.evaluate("() => window.ensembleWatch.latency()")
                    ada.click("button[data-action=leave]")
                if not samples:
                    raise RuntimeError(f"no clock read on the viewer ({unread} frames unreadable)")
                figures = summary(samples, unread, listings, fetched, seconds)
                figures["hls_latency_s"] = round(latency, 2) if latency is not None else None
                figures["same_page_drawn_to_shown_ms_median"] = calibrated
                figures.update(chunk_figures(posts, samples[0][0] - 5000, samples[-1][0], chunk_ms or 500))
                figures["load_average_1_min"] = round(os.getloadavg()[0], 1)
            finally:
                for sender in senders:
                    sender.close()
                watcher.close()
    return {"chunk_ms": chunk_ms or 500, "live_sync_s": live_sync if live_sync is not None else 1.5,
            "segment_s": segment or 1, **figures}
