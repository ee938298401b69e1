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

`--shared` (issue 15) measures shared analysis instead, in one run. Receiver:
one browser with 1, 3 and 5 stand-ins whose frames carry the picture's mask and
faces (prepared once per picture with the page's own engines and packet.js,
checked to split back exactly from a frame Python appended them to), once using
them and once with `share=off` (everything analysed locally): results a second
per stream, page fps, longest task, the browser's CPU (its process tree, % of
one core) and the inferences it ran itself. Sender: one browser with a
close-up as camera and 1 and 5 stand-ins that only receive, sharing and with
`share=off`: its own analysis rate, CPU, and the bytes the metadata adds.
With `--scene` the receiver shows the room as one scene, everyone cut out, and
the rows add the scene's frame rate, its draw time and how many cut-outs were
drawn on the very frame their shared mask was computed on (the prepared masks
carry their picture's fingerprint, as a browser sender's do).
"""

import argparse
import base64
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.join_time import CLOCK_TICKS, browser_pid, process_tree_ticks  # noqa: E402
from bench.relay import make_video, read_frames, relay_members, with_trailer  # noqa: E402
from harness.browsers import CHROMIUM, CLOSE_UPS, PHOTO_FACES, chromium_flags, make_camera, make_photo_camera  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

PICTURES = {"close-ups": sorted(CLOSE_UPS), "groups": sorted(PHOTO_FACES)}

ENGINE_TIMES = """async ([engine, options, runs, wanted]) => {
    const { startEngine } = await import('/static/js/analysis/runner.js');
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
    await new Promise(resolve => {
        const tick = now => { frames++; if (now - start < seconds * 1000) requestAnimationFrame(tick); else resolve(); };
        requestAnimationFrame(tick);
    });
    observer.disconnect();
    const received = decoded().map((count, index) => (count - before[index]) / seconds).sort((a, b) => a - b);
    return { fps: frames / seconds, longest, received: received.length ? received[Math.floor(received.length / 2)] : 0 };
}"""

# Every remote stream's connection up; every remote stream analysed by both models.
CONNECTED = "count => window.ensemble.state().peers.filter(p => p.connectionState === 'connected').length >= count"
ANALYSED = "() => window.ensemble.state().peers.every(p => { const a = window.ensemble.analysis(p.id); return a?.hz.mask > 0 && a.hz.faces > 0; })"

# The first visit times every backend in the background (seconds of software WebGL that slow
# everything else down); a user's later visits start on the winner. Measure after that.
BACKENDS_CHOSEN = "() => ['mask', 'faces'].every(model => ['measured', 'remembered'].includes(window.ensemble.engines()[model]?.choice))"

# The naive way: on the main thread, for every displayed frame, segment and find faces in every stream in turn.
NAIVE = """async () => {
    const { InlineRunner } = await import('/static/js/analysis/runner.js');
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
    cases = [("selfie", {"model": model, "delegate": delegate}, None, f"selfie {model}")
             for model in ("landscape", "general") for delegate in ("CPU", "GPU")]
    # What the room runs unless a tile shows landmarks or expressions: the detector alone.
    cases += [("faces", {"detector": "tiny", "inputSize": size, "backend": "wasm"}, faces_only, f"face-api tiny {size}, faces only")
              for size in (160, 224, 416)]
    cases += [("faces", {"detector": "tiny", "inputSize": size, "backend": backend}, everything, f"face-api tiny {size} + landmarks + expressions")
              for size in (224, 320, 416) for backend in ("wasm", "webgl")]
    cases += [("faces", {"detector": "ssd", "backend": backend}, everything, "face-api SSD MobileNet + landmarks + expressions")
              for backend in ("wasm", "webgl")]
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
        page.wait_for_function(CONNECTED, arg=count, timeout=120_000)
        if mode == "scheduled":
            page.wait_for_function(ANALYSED, timeout=180_000)
            page.wait_for_function(BACKENDS_CHOSEN, timeout=180_000)
            page.wait_for_timeout(3000)
            measured = page.evaluate(MEASURE, seconds)
            peers = page.evaluate("() => window.ensemble.state().peers")
            rates = [page.evaluate("id => window.ensemble.analysis(id).hz", peer["id"]) for peer in peers]
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


# Shared analysis (--shared). The page's own engines on each picture a stand-in sends, fed as a
# sender's scheduler feeds them (the mask model at its input, faces at the preset's width and the
# picture's shape); each result becomes a packet of its own (age 0) with its trailer's tail.
PREPARE = """async ([pictures, faceOptions]) => {
    const { startEngine } = await import('/static/js/analysis/runner.js');
    const { appendTrailer, encodePacket } = await import('/static/js/sharing/packet.js');
    const { Fingerprinter } = await import('/static/js/sharing/fingerprint.js');
    const fingerprints = new Fingerprinter();
    const masks = await startEngine('selfie', { delegate: 'CPU' });
    const faces = await startEngine('faces', faceOptions);
    const trailer = packet => btoa(String.fromCharCode(...new Uint8Array(appendTrailer(new ArrayBuffer(0), packet))));
    const prepared = {};
    for (const name of pictures) {
        const picture = await createImageBitmap(await (await fetch(`/bench-picture/${name}.png`)).blob());
        const scaled = size => createImageBitmap(picture, { resizeWidth: size.width, resizeHeight: size.height });
        const { result: { mask } } = await masks.runner.run(await scaled(masks.info.input), masks.info.input);
        const input = { width: faces.info.inputSize, height: Math.round(faces.info.inputSize * picture.height / picture.width) };
        const { result: { faces: found } } = await faces.runner.run(await scaled(input), input, { landmarks: false, expressions: false });
        prepared[name] = {
            mask: trailer(encodePacket({ age: 0, mask, faces: null, fingerprint: await fingerprints.take(picture) })),
            faces: trailer(encodePacket({ age: 0, mask: null, faces: found })),
            coverage: mask.coverage,
            found: found.length,
        };
    }
    masks.runner.terminate();
    faces.runner.terminate();
    return prepared;
}"""

# A frame as a stand-in sends it, split as a receiver splits it: its video, its trailers (in the
# order appended), and how many frames the VP8 decoder gave for it with the trailers left on.
SPLIT = """async sent => {
    const { appendTrailer, decodePacket, splitTrailers } = await import('/static/js/sharing/packet.js');
    const base64 = bytes => btoa(String.fromCharCode(...new Uint8Array(bytes)));
    const bytes = Uint8Array.from(atob(sent), c => c.charCodeAt(0));
    const { video, packets, damage } = splitTrailers(bytes.buffer);
    if (damage) throw new Error(damage);
    packets.forEach(decodePacket);
    const trailers = packets.map(packet => base64(appendTrailer(new ArrayBuffer(0), packet)));
    let decoded = 0;
    const decoder = new VideoDecoder({ output: frame => { decoded++; frame.close(); }, error: () => {} });
    decoder.configure({ codec: 'vp8' });
    decoder.decode(new EncodedVideoChunk({ type: 'key', timestamp: 0, data: bytes }));
    await decoder.flush().catch(() => {}); // a frame it refused counts as none decoded
    return { video: base64(video), trailers, decoded };
}"""

# The scene shown, and of the cut-outs it drew of each remote person lately, how many on the frame
# their mask was computed on (a shared mask matched to a kept frame by its fingerprint).
SCENE_DRAWN = """() => {
    const scene = window.ensemble.scene();
    const drawn = window.ensemble.state().peers.flatMap(peer => window.ensemble.drawnFrames(peer.id));
    return { fps: scene.fps, drawMs: scene.drawMs, cutOuts: drawn.length, matched: drawn.filter(one => one.named !== null).length };
}"""
SCENE_DRAWING = "count => { const s = window.ensemble.scene(); return s.shown && s.fps > 0 && s.placements.length === count + 1; }"

# Per remote stream: where its results come from, results so far and the inferences this browser ran on it.
STREAMS = """() => Object.fromEntries(window.ensemble.state().peers.map(peer => {
    const a = window.ensemble.analysis(peer.id);
    return [peer.id, { source: a?.source ?? null, results: a?.results ?? { mask: 0, faces: 0 }, local: a?.local ?? null }];
}))"""

# Runs before the page's scripts: keeps its connections, so VIDEO_SENT can ask them for statistics.
KEEP_CONNECTIONS = """(() => {
    const connections = (window.__connections = []);
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native { constructor(...args) { super(...args); connections.push(this); } };
})()"""
VIDEO_SENT = """async () => {
    let bytes = 0, frames = 0;
    for (const connection of window.__connections.filter(one => one.connectionState === 'connected')) {
        (await connection.getStats()).forEach(stat => {
            if (stat.type === 'outbound-rtp' && stat.kind === 'video') { bytes += stat.bytesSent; frames += stat.framesEncoded; }
        });
    }
    return { bytes, frames };
}"""

SHARED_SOURCES = "count => Object.values((" + STREAMS + ")()).filter(s => s.source === 'sender' && s.results.mask && s.results.faces).length >= count"
# A sender analysing its own camera for its peers, and its packets going out.
SHARING = "() => { const s = window.ensemble.sharing(); return s.hz.mask > 0 && s.hz.faces > 0 && s.packetsPerSecond > 0; }"


def shared_trailers(browser, server, folder, photos, fps, mask_every, faces_every):
    """Prepare each picture's trailers (PREPARE), check that a frame sent with them splits back
    exactly and decodes (SPLIT), and write relay.py's `--share` file: masks on every `mask_every`-th
    frame, faces on every `faces_every`-th. Returns its path and, per photo, (faces found, mask
    coverage, mask trailer bytes, faces trailer bytes)."""
    pictures = {}
    for photo in photos:
        picture = Path(folder) / f"{photo}-{fps}fps.png"
        subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-y", "-i", str(make_video(folder, photo, fps)),
                        "-frames:v", "1", str(picture)], check=True)
        pictures[photo] = picture.read_bytes()
    page = browser.new_page()
    try:
        page.route("**/bench-picture/*.png", lambda route: route.fulfill(body=pictures[Path(route.request.url).stem], content_type="image/png"))
        page.goto(server.url + "/")
        prepared = page.evaluate(PREPARE, [photos, {"detector": "tiny", "inputSize": 224, "backend": "wasm"}])
        trailers = {photo: [base64.b64decode(prepared[photo][model]) for model in ("mask", "faces")] for photo in photos}
        for photo in photos:
            frame = read_frames(make_video(folder, photo, fps))[0]
            split = page.evaluate(SPLIT, base64.b64encode(with_trailer(frame, [b"".join(trailers[photo])], 0)).decode())
            back = [base64.b64decode(one) for one in split["trailers"]]
            if base64.b64decode(split["video"]) != frame or back != trailers[photo] or split["decoded"] != 1:
                raise RuntimeError(f"{photo}: a frame sent with trailers does not split back exactly or does not decode")
    finally:
        page.close()
    turns = {photo: [(mask if index % mask_every == 0 else b"") + (faces if index % faces_every == 0 else b"")
                     for index in range(math.lcm(mask_every, faces_every))] for photo, (mask, faces) in trailers.items()}
    path = Path(folder) / "shared.json"
    path.write_text(json.dumps({photo: [base64.b64encode(turn).decode() for turn in cycle] for photo, cycle in turns.items()}))
    return path, {photo: (prepared[photo]["found"], prepared[photo]["coverage"], *map(len, trailers[photo])) for photo in photos}


def measured_window(page, pid, seconds, read):
    """MEASURE over `seconds`, with the browser's CPU (% of one core) and `read(page)` before and after."""
    before, ticks = read(page), process_tree_ticks(pid)
    measured = page.evaluate(MEASURE, seconds)
    cpu = 100 * (process_tree_ticks(pid) - ticks) / CLOCK_TICKS / seconds
    return measured, cpu, before, read(page)


def receiver_row(browser, pid, server, room, count, mode, seconds, scene=False):
    """One viewer of `count` sharing stand-ins, using what they share (`shared`) or not (`local`);
    with `scene`, showing them all in the composed scene."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(f"{server.url}/r/{room}?name=Viewer-{mode}" + ("&share=off" if mode == "local" else ""))
        page.wait_for_function(CONNECTED, arg=count, timeout=120_000)
        if mode == "shared":
            page.wait_for_function(SHARED_SOURCES, arg=count, timeout=60_000)
        else:
            page.wait_for_function(ANALYSED, timeout=180_000)
            page.wait_for_function(BACKENDS_CHOSEN, timeout=180_000)
        if scene:
            page.click("button[data-action=toggle-scene]")
            page.wait_for_function(SCENE_DRAWING, arg=count, timeout=30_000)
        page.wait_for_timeout(3000)
        measured, cpu, before, after = measured_window(page, pid, seconds, lambda page: page.evaluate(STREAMS))
        drawn = page.evaluate(SCENE_DRAWN) if scene else None
    finally:
        page.close()
    rate = {model: statistics.median((after[id]["results"][model] - before[id]["results"][model]) / seconds for id in after)
            for model in ("mask", "faces")}
    counted = [id for id in after if after[id]["local"] is not None]
    local = sum(sum(after[id]["local"].values()) - sum(before[id]["local"].values()) for id in counted) / seconds
    sources = sum(stream["source"] == "sender" for stream in after.values())
    scene_columns = ""
    if drawn:
        on_their_frame = f"{100 * drawn['matched'] / drawn['cutOuts']:.0f} %" if drawn["cutOuts"] else "none drawn"
        scene_columns = f" {drawn['fps']:.0f} | {drawn['drawMs']:.0f} ms | {on_their_frame} |"
    return (f"| {count} | {mode} | {sources} of {len(after)} | {measured['received']:.0f} | {rate['mask']:.1f} / {rate['faces']:.1f} "
            f"| {measured['fps']:.0f} | {measured['longest']:.0f} ms | {cpu:.0f} % | " + (f"{local:.1f} |" if counted else "not reported |")
            + scene_columns)


def receiver_table(driver, server, folder, counts, seconds, fps, pictures, mask_every, faces_every, scene=False):
    photos = PICTURES[pictures]
    marker = "--ensemble-bench-shared-receiver"
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(make_camera(folder, "bars"), extra=[marker]))
    try:
        shared, summary = shared_trailers(browser, server, folder, photos, fps, mask_every, faces_every)
        print("\nprepared (faces found, mask coverage, mask / faces trailer bytes):", summary, flush=True)
        scene_columns = (" scene fps | scene draw | cut-outs on their mask's frame |", " --- | --- | --- |") if scene else ("", "")
        print("\n| remote streams | analysis | streams from their sender | received fps | masks / faces per s per stream | page fps "
              "| longest task | browser CPU (of one core) | its own inferences per s, all streams |" + scene_columns[0] + "\n"
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |" + scene_columns[1], flush=True)
        for count in counts:
            with relay_members(server.url, f"shared-{pictures}-{count}", [photos[index % len(photos)] for index in range(count)], fps, shared=shared):
                for mode in ("local", "shared"):  # local first: its start-up measures the backends, the shared page then remembers them
                    try:
                        row = receiver_row(browser, browser_pid(marker), server, f"shared-{pictures}-{count}", count, mode, seconds, scene)
                        print(row, flush=True)
                    except Exception as error:  # a row that cannot finish is reported, not hidden
                        print(f"| {count} | {mode} | did not finish: {str(error).splitlines()[0][:100]} |", flush=True)
    finally:
        browser.close()


def sender_row(browser, pid, server, room, peers, mode, seconds):
    """One browser with a camera, sharing (`shared`) or not (`off`) with `peers` stand-ins that only receive."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(KEEP_CONNECTIONS)
    try:
        page.goto(f"{server.url}/r/{room}?name=Sender-{mode}" + ("&share=off" if mode == "off" else ""))
        page.wait_for_function(CONNECTED, arg=peers, timeout=120_000)
        if mode == "shared":
            page.wait_for_function(SHARING, timeout=120_000)
            page.wait_for_function(BACKENDS_CHOSEN, timeout=180_000)
        page.wait_for_timeout(3000)
        measured, cpu, before, after = measured_window(page, pid, seconds, lambda page: {**page.evaluate(VIDEO_SENT), "at": time.monotonic()})
        sharing = page.evaluate("() => window.ensemble.sharing()")
    finally:
        page.close()
    elapsed = after["at"] - before["at"]
    video = 8 * (after["bytes"] - before["bytes"]) / elapsed / 1000 / peers
    fps = (after["frames"] - before["frames"]) / elapsed / peers
    metadata = f"{8 * sharing['bytesPerSecond'] / 1000 / peers:.1f} kbps, {sharing['packetsPerSecond'] / peers:.1f} packets/s"
    hz, ms = sharing["hz"], sharing["inferenceMs"]
    return (f"| {peers} | {mode} | {hz['mask'] or 0:.1f} / {hz['faces'] or 0:.1f} | {ms['mask'] or 0:.0f} / {ms['faces'] or 0:.0f} ms "
            f"| {cpu:.0f} % | {measured['fps']:.0f} | {measured['longest']:.0f} ms | {video:.0f} kbps at {fps:.0f} fps | {metadata} |")


def sender_table(driver, server, folder, counts, seconds, picture):
    marker = "--ensemble-bench-shared-sender"
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(make_photo_camera(folder, picture), extra=[marker]))
    print("\n| stand-ins receiving | sharing | own masks / faces per s | per inference (mask / faces) | browser CPU (of one core) | page fps "
          "| longest task | video sent per peer (outbound-rtp) | metadata per peer (ensemble.sharing()) |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    try:
        for peers in counts:
            with relay_members(server.url, f"sender-{peers}", [picture] * peers, send=False, wants=("mask", "faces")):
                for mode in ("off", "shared"):
                    try:
                        print(sender_row(browser, browser_pid(marker), server, f"sender-{peers}", peers, mode, seconds), flush=True)
                    except Exception as error:  # as above
                        print(f"| {peers} | {mode} | did not finish: {str(error).splitlines()[0][:100]} |", flush=True)
    finally:
        browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, nargs="*", default=[1, 2, 3, 5], help="remote stream counts (none: only the engine table)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--fps", type=int, default=15, help="the senders' camera frame rate")
    parser.add_argument("--pictures", nargs="+", choices=sorted(PICTURES), default=["close-ups", "groups"], help="what the streams show")
    parser.add_argument("--skip-engines", action="store_true", help="only the table with remote streams")
    parser.add_argument("--shared", action="store_true", help="shared analysis against local (streams 1 3 5 unless given), then the sender's side")
    parser.add_argument("--mask-every", type=int, default=1, help="--shared: a stand-in's frames carry a mask every this many frames")
    parser.add_argument("--faces-every", type=int, default=2, help="--shared: and faces every this many")
    parser.add_argument("--senders", type=int, nargs="*", default=[1, 5], help="--shared: stand-ins receiving from the measured sender")
    parser.add_argument("--scene", action="store_true", help="--shared: the receiver shows everyone cut out in the composed scene")
    options = parser.parse_args()
    if options.shared:
        return shared_main(options)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        with ServerProcess(folder, mesh_max=max(options.streams, default=0) + 2) as server:
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



def shared_main(options):
    counts = options.streams if "--streams" in sys.argv else [1, 3, 5]
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        with ServerProcess(folder, mesh_max=max([*counts, *options.senders]) + 2) as server:
            for pictures in options.pictures if "--pictures" in sys.argv else ["close-ups"]:
                receiver_table(
                    driver, server, folder, counts, options.seconds, options.fps, pictures, options.mask_every, options.faces_every, options.scene
                )
            if options.senders:
                sender_table(driver, server, folder, options.senders, options.seconds, sorted(CLOSE_UPS)[0])


if __name__ == "__main__":
    main()
