"""Analysis speed: per model and backend, then per stream with 1–N remote streams.

    .venv/bin/python bench/analysis.py [--streams 1 2 3 5] [--seconds 10]

Part 1 times each engine in a worker on a face-api demo photo: selfie
segmentation (landscape, general) on CPU and GPU delegates, face-api
(TinyFaceDetector 224/320/416, SSD MobileNet) with landmarks and expressions
on WASM and WebGL. Part 2 puts one analysing browser in a room with N other members and reads
the analysis rate per stream, the page's frames per second, its longest
main-thread task and the frame rate it receives, first with Ensemble's
scheduler, then with the naive approach in the same browser: every frame of
every stream analysed on the main thread, one after the other.

In a real room every other member is another person's machine. Here they are
bench/relay.py's members: each sends a picture as ready-made VP8 video (640
px, 15 fps, camera noise) over real WebRTC, at almost no cost to this
machine, so the two cores measure the one browser. `--pictures close-ups`:
one person close to the camera in each stream, as webcams show people
(harness/browsers.py CLOSE_UPS); `groups`: the whole demo photos, three to
five small faces each. The viewer uses the default face preset (224) for both.
"""

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.relay import relay_members  # noqa: E402
from harness.browsers import CHROMIUM, CLOSE_UPS, PHOTO_FACES, chromium_flags, make_camera  # noqa: E402

PICTURES = {"close-ups": sorted(CLOSE_UPS), "groups": sorted(PHOTO_FACES)}
from harness.servers import ServerProcess  # noqa: E402

ENGINE_TIMES = """async ([engine, options, runs, wanted]) => {
    const { startEngine } = await import('/static/js/effects/runner.js');
    const { runner, info } = await startEngine(engine, options);
    const photo = await (await fetch('/bench-photo.jpg')).blob();
    const times = [];
    for (let i = 0; i < runs + 1; i++) {
        const frame = await createImageBitmap(photo, { resizeWidth: info.input.width, resizeHeight: info.input.height });
        const { ms } = await runner.run(frame, info.input, wanted);
        if (i > 0) times.push(ms);
    }
    runner.terminate();
    times.sort((a, b) => a - b);
    return { backend: info.backend, median: times[Math.floor(times.length / 2)] };
}"""

MEASURE = """async seconds => {
    const videos = [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')];
    const decoded = () => videos.map(video => video.getVideoPlaybackQuality().totalVideoFrames);
    const before = decoded();
    let longest = 0;
    const observer = new PerformanceObserver(list => { for (const e of list.getEntries()) longest = Math.max(longest, e.duration); });
    observer.observe({ type: 'longtask' });
    let frames = 0;
    const start = performance.now();
    await new Promise(resolve => { const tick = now => { frames++; if (now - start < seconds * 1000) requestAnimationFrame(tick); else resolve(); }; requestAnimationFrame(tick); });
    observer.disconnect();
    const received = decoded().map((count, index) => (count - before[index]) / seconds).sort((a, b) => a - b);
    return { fps: frames / seconds, longest, received: received.length ? received[Math.floor(received.length / 2)] : 0 };
}"""

# The first visit times every backend in the background (seconds of software WebGL that slow
# everything else down); a user's later visits start on the winner. Measure after that.
BACKENDS_CHOSEN = "() => ['mask', 'faces'].every(model => ['measured', 'remembered'].includes(window.ensemble.engines()[model]?.choice))"

# The naive way: on the main thread, for every displayed frame, segment and find faces in every stream in turn.
NAIVE = """async () => {
    const { InlineRunner } = await import('/static/js/effects/runner.js');
    const mask = new InlineRunner('selfie'), faces = new InlineRunner('faces');
    const maskInfo = await mask.init({ delegate: 'CPU' });
    const faceInfo = await faces.init({ detector: 'tiny', inputSize: 224, backend: 'wasm' });
    window.__naive = { done: new Map() };
    const loop = async () => {
        for (const video of document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')) {
            if (!video.videoWidth) continue;
            await mask.run(await createImageBitmap(video, { resizeWidth: maskInfo.input.width, resizeHeight: maskInfo.input.height }));
            await faces.run(await createImageBitmap(video, { resizeWidth: faceInfo.input.width, resizeHeight: faceInfo.input.height }));
            window.__naive.done.set(video, (window.__naive.done.get(video) ?? 0) + 1);
        }
        requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
}"""


def engine_table(page, runs):
    rows = []
    everything = {"landmarks": True, "expressions": True}
    faces_only = {"landmarks": False, "expressions": False}
    cases = [("selfie", {"model": model, "delegate": delegate}, None, f"selfie {model}") for model in ("landscape", "general") for delegate in ("CPU", "GPU")]
    # What the room runs unless a tile shows landmarks or expressions: the detector alone.
    cases += [("faces", {"detector": "tiny", "inputSize": size, "backend": "wasm"}, faces_only, f"face-api tiny {size}, faces only") for size in (160, 224, 416)]
    cases += [("faces", {"detector": "tiny", "inputSize": size, "backend": backend}, everything, f"face-api tiny {size} + landmarks + expressions")
              for size in (224, 320, 416) for backend in ("wasm", "webgl")]
    cases += [("faces", {"detector": "ssd", "backend": backend}, everything, "face-api SSD MobileNet + landmarks + expressions") for backend in ("wasm", "webgl")]
    for engine, options, wanted, label in cases:
        try:
            result = page.evaluate(ENGINE_TIMES, [engine, options, runs, wanted])
            rows.append(f"| {label} | {result['backend']} | {result['median']:.0f} ms |")
        except Exception as error:  # one engine failing to start is a result too
            rows.append(f"| {label} | {options.get('delegate', options.get('backend'))} | failed: {str(error).splitlines()[0][:80]} |")
        print(rows[-1], flush=True)
    return rows


def measure_viewer(browser, server, room, count, mode, seconds):
    """One viewing page in `room`: (masks per s, faces per s, MEASURE's figures) per stream, by `mode`."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{server.url}/r/{room}?name=Viewer-{mode}" + ("" if mode == "scheduled" else "&analysis=off"))
        page.wait_for_function(f"() => window.ensemble.state().peers.filter(p => p.connectionState === 'connected').length >= {count}", timeout=120_000)
        if mode == "scheduled":
            page.wait_for_function("() => window.ensemble.state().peers.every(p => { const a = window.ensemble.analysis(p.id); return a && a.hz.mask > 0 && a.hz.faces > 0; })", timeout=180_000)
            page.wait_for_function(BACKENDS_CHOSEN, timeout=180_000)
            page.wait_for_timeout(3000)
            measured = page.evaluate(MEASURE, seconds)
            rates = [page.evaluate("id => window.ensemble.analysis(id).hz", peer["id"]) for peer in page.evaluate("() => window.ensemble.state().peers")]
            return statistics.median(rate["mask"] for rate in rates), statistics.median(rate["faces"] for rate in rates), measured
        page.evaluate(NAIVE)
        page.wait_for_timeout(5000)
        done = "() => [...window.__naive.done.values()].reduce((a, b) => a + b, 0)"
        before = page.evaluate(done)
        measured = page.evaluate(MEASURE, seconds)
        rate = (page.evaluate(done) - before) / seconds / count
        return rate, rate, measured
    finally:
        page.close()


def streams_row(driver, server, folder, count, seconds, fps, pictures):
    photos = PICTURES[pictures]
    room = f"streams-{pictures}-{count}"
    with relay_members(server.url, room, [photos[index % len(photos)] for index in range(count)], fps):
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(make_camera(folder, "bars")))
        try:
            (m1, f1, s1), (m2, f2, s2) = (measure_viewer(browser, server, room, count, mode, seconds) for mode in ("scheduled", "naive"))
        finally:
            browser.close()
    return (f"| {pictures} | {count} | {s1['received']:.0f} | {m1:.1f} / {f1:.1f} | {s1['fps']:.0f} | {s1['longest']:.0f} ms "
            f"| {s2['received']:.0f} | {m2:.1f} / {f2:.1f} | {s2['fps']:.0f} | {s2['longest']:.0f} ms |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, nargs="*", default=[1, 2, 3, 5], help="remote stream counts (none: only the engine table)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fps", type=int, default=15, help="the senders' camera frame rate")
    parser.add_argument("--pictures", nargs="+", choices=sorted(PICTURES), default=["close-ups", "groups"], help="what the streams show")
    parser.add_argument("--skip-engines", action="store_true", help="only the table with remote streams")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        with ServerProcess(folder, max_peers_per_room=max(options.streams, default=0) + 2) as server:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(make_camera(folder, "bars")))
            page = browser.new_page()
            photo = (Path(__file__).resolve().parent.parent / "node_modules/@vladmandic/face-api/demo/sample1.jpg").read_bytes()
            page.route("**/bench-photo.jpg", lambda route: route.fulfill(body=photo, content_type="image/jpeg"))
            page.goto(server.url + "/")
            if not options.skip_engines:
                print("| model | backend | median per inference |\n| --- | --- | --- |", flush=True)
                engine_table(page, options.runs)
            browser.close()
            if not options.streams:
                return
            print("\n| streams show | remote streams | scheduled: received fps | masks / faces per s per stream | page fps | longest task "
                  "| naive: received fps | masks / faces per s per stream | page fps | longest task |\n"
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
            for pictures in options.pictures:
                for count in options.streams:
                    try:
                        print(streams_row(driver, server, folder, count, options.seconds, options.fps, pictures), flush=True)
                    except Exception as error:  # an overloaded run is reported, not hidden
                        print(f"| {pictures} | {count} | did not finish: {str(error).splitlines()[0][:100]} |", flush=True)


if __name__ == "__main__":
    main()
