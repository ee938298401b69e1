"""What a frame's fingerprint costs the page: static/js/sharing/fingerprint.js's
Fingerprinter.take on camera frames, on the main thread, in real Chromium: read from
the frame's luma plane (a VideoFrame, as the app takes them) and, for comparison, of
the same picture drawn into a canvas (the video element), with how far apart the two
fingerprints of one frame are.

    .venv/bin/python bench/fingerprint.py [--frames 300] [--width 640 --height 480]

A sender takes one of each frame it computes a mask on; a receiver showing the
scene one of most frames of each person it draws from shared masks (the frames
near the one a mask names, until the very frame turns up). Off the app's own
server, with a fake camera of harness/browsers.py's moving close-up.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from harness.browsers import CHROMIUM, chromium_flags, make_moving_camera  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

MEASURE = """async ([frames, width, height]) => {
    const { Fingerprinter, fingerprintDistance } = await import('/static/js/sharing/fingerprint.js');
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width, height } });
    const video = document.createElement('video');
    Object.assign(video, { muted: true, autoplay: true, playsInline: true, srcObject: stream });
    document.body.append(video);
    await new Promise((shown) => video.requestVideoFrameCallback(shown));
    const fingerprinter = new Fingerprinter();
    const ms = { planes: [], drawn: [] }, apart = [];
    let format = null;
    while (ms.planes.length < frames) {
        await new Promise((shown) => video.requestVideoFrameCallback(shown));
        const frame = new VideoFrame(video);
        format = frame.format;
        let start = performance.now();
        const fromPlanes = await fingerprinter.take(frame); // a camera frame: its luma plane
        ms.planes.push(performance.now() - start);
        start = performance.now();
        const fromDrawing = await fingerprinter.take(video); // the element: drawn into a canvas, converted to RGB
        ms.drawn.push(performance.now() - start);
        apart.push(fingerprintDistance(fromPlanes, fromDrawing));
        frame.close();
    }
    stream.getTracks().forEach((track) => track.stop());
    return { ms, apart, format, size: [video.videoWidth, video.videoHeight] };
}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, ServerProcess(folder) as server, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(make_moving_camera(folder)))
        page = browser.new_page()
        page.goto(server.url + "/")
        result = page.evaluate(MEASURE, [options.frames, options.width, options.height])
        browser.close()
    for way, ms in result["ms"].items():
        ms = sorted(ms)
        print(f"{way}: {len(ms)} fingerprints of {result['size'][0]}x{result['size'][1]} {result['format']} frames:", end=" ")
        print(f"median {statistics.median(ms):.2f} ms, p90 {ms[int(len(ms) * 0.9)]:.2f} ms, max {ms[-1]:.2f} ms")
    apart = sorted(result["apart"])
    print(f"planes against drawn, the same frame: median difference {statistics.median(apart):.2f}, max {apart[-1]:.2f}")


if __name__ == "__main__":
    main()
