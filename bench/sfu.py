"""Mesh against Janus: upload per sender, CPU per browser, Janus's CPU, and how long a room
takes to move from the mesh to Janus.

    .venv/bin/python bench/sfu.py [--sizes 4 6 8] [--settle 15] [--seconds 10] [--json FILE]
    .venv/bin/python bench/sfu.py --pages [--sizes 3 4] …

Needs root (Janus runs in a network namespace of its own: it offers no loopback candidates;
harness/janus.py). For each size N, two rooms: "mesh" with MESH_MAX=N (every sender sends
N-1 copies) and "sfu" with MESH_MAX=N-1, where the N-th join moves the room to Janus.

By default one Chromium page is measured (a 640x480 15 fps camera of a person moving, analysis
off) among N-1 stand-ins (bench/relay.py at SCHED_IDLE: aiortc sending a looped 640 px VP8
video, in the mesh and on Janus as a page does). On real laptops each person has their own
machine, so the stand-ins only link to the page, not to each other (`--pages-only`). The page
joins last: its click on Join (pre-join form, a real mouse click) starts the clock, which stops
when it plays every stand-in's video (carried by Janus for "sfu") and, on Janus, every
stand-in has subscribed to its feed. In the "sfu" rooms that join is the move.

`--pages`: every member a real Chromium page (fake 320x240 15 fps cameras): the move is timed
from the N-th page's click until every page lists every other as carried by Janus,
connected, with each remote video showing new frames. Every browser runs on this machine.

Then, `--settle` seconds later (bandwidth estimates ramp up; simulcast's upper layers start
once they allow), over `--seconds`: each page's upload (bytes sent by all its RTCPeerConnections, from an
init script that keeps them; audio and video, RTP payload and headers as getStats counts
them), each browser's CPU (its whole process tree, /proc), and Janus's CPU divided by the
streams it forwards (audio and video counted as one): with stand-ins 2(N-1) (the page's to
each stand-in, each stand-in's to the page), with `--pages` N(N-1).
"""

import argparse
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.join_time import CLOCK_TICKS, browser_pid, process_tree_ticks  # noqa: E402
from bench.relay import relay_members  # noqa: E402
from harness.browsers import CHROMIUM, chromium_flags, make_camera, make_moving_camera  # noqa: E402
from harness.janus import JanusProcess, NetworkNamespace  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

CAMERAS = ["bars", "mandel", "life"]
STAND_IN_PHOTOS = ["sample1", "sample2", "sample3", "sample4", "sample5", "sample6"]

# Keeps every RTCPeerConnection of the page, for its outbound statistics.
KEEP_CONNECTIONS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); window.__pcs.push(this); }
  };
})()"""

BYTES_SENT = """async () => {
  let bytes = 0;
  for (const pc of window.__pcs) {
    if (pc.connectionState === 'closed') continue;
    (await pc.getStats()).forEach((stat) => { if (stat.type === 'outbound-rtp') bytes += (stat.bytesSent ?? 0) + (stat.headerBytesSent ?? 0); });
  }
  return bytes;
}"""

# Every remote peer listed, connected, carried by `transport`, each remote video showing new frames.
SETTLED = """([count, transport]) => {
  const peers = window.ensemble?.state().peers ?? [];
  const videos = [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')];
  const frames = videos.map((video) => video.getVideoPlaybackQuality().totalVideoFrames);
  const last = window.__settledFrames ?? [];
  window.__settledFrames = frames;
  return peers.length === count && peers.every((p) => p.connectionState === 'connected' && p.transport === transport)
    && videos.length === count && frames.every((n, i) => n > (last[i] ?? Infinity));
}"""


def janus_settings(janus, mesh_max):
    return {
        "janus_urls": janus.url, "janus_api_secret": janus.secrets.api, "janus_admin_key": janus.secrets.admin_key,
        "janus_token_secret": janus.secrets.token, "mesh_max": mesh_max,
    }


def open_person(driver, cameras, server, room, number, name=True):
    marker = f"--ensemble-bench-sfu={room}-{number}"
    browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(cameras[CAMERAS[number % len(CAMERAS)]], extra=[marker]))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.add_init_script(KEEP_CONNECTIONS)
    page.goto(f"{server.url}/r/{room}?analysis=off" + (f"&name=p{number}" if name else ""))
    return browser, page, browser_pid(marker)


def one_room(driver, cameras, janus, folder, size, mode, seconds, settle):
    """One room of `size` pages: (move seconds or None, kbit/s sent per page, CPU % per browser, Janus CPU %)."""
    room = f"{mode}-{size}"
    mesh_max = size if mode == "mesh" else size - 1
    transport = "mesh" if mode == "mesh" else "sfu"
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ServerProcess(folder, async_mode="gevent", **janus_settings(janus, mesh_max)))
        people = []
        for number in range(size - 1):
            people.append(open_person(driver, cameras, server, room, number))
            stack.callback(people[-1][0].close)
        for _, page, _ in people:
            page.wait_for_function(SETTLED, arg=[size - 2, "mesh"], polling=500, timeout=60_000)
        last = open_person(driver, cameras, server, room, size - 1, name=False)
        stack.callback(last[0].close)
        people.append(last)
        clicked = click_join(last[1], f"p{size - 1}")
        pending = [page for _, page, _ in people]
        while pending:
            pending = [page for page in pending if not page.evaluate(SETTLED, [size - 1, transport])]
            if time.monotonic() - clicked > 60:
                raise RuntimeError(f"{room}: not every video through {transport} within 60 s")
            time.sleep(0.2)
        moved = time.monotonic() - clicked
        figures = measure(people, janus, seconds, settle)
    return {"people": size, "mode": mode, "stand_ins": False, "move_s": round(moved, 2) if mode == "sfu" else None, "join_s": round(moved, 2),
            **figures}


def measure(people, janus, seconds, settle):
    """After `settle` s, over `seconds`: kbit/s sent by each page, CPU % of each browser, Janus's CPU %."""
    time.sleep(settle)  # the bandwidth estimates ramp up (simulcast's upper layers start once they allow)
    sent = [page.evaluate(BYTES_SENT) for _, page, _ in people]
    ticks = [process_tree_ticks(pid) for _, _, pid in people]
    janus_ticks = process_tree_ticks(janus.pid)
    time.sleep(seconds)
    kbps = [8 * (page.evaluate(BYTES_SENT) - before) / seconds / 1000 for (_, page, _), before in zip(people, sent)]
    cpu = [100 * (process_tree_ticks(pid) - before) / CLOCK_TICKS / seconds for (_, _, pid), before in zip(people, ticks)]
    janus_cpu = 100 * (process_tree_ticks(janus.pid) - janus_ticks) / CLOCK_TICKS / seconds
    return {"kbps": [round(value) for value in kbps], "cpu": [round(value, 1) for value in cpu], "janus_cpu": round(janus_cpu, 1)}


def click_join(page, name):
    """Fill the pre-join form once the camera shows, click Join; returns when it was clicked (monotonic)."""
    page.wait_for_function("() => document.querySelector('#prejoin-video')?.getVideoPlaybackQuality().totalVideoFrames > 0")
    page.get_by_label("Your name").fill(name)
    clicked = time.monotonic()
    page.click("#prejoin-form button[type=submit]")
    return clicked


def one_room_with_stand_ins(driver, camera, janus, folder, size, mode, seconds, settle):
    """The measured page joining `size - 1` stand-ins: as one_room, the lists of one page."""
    room = f"{mode}-{size}-stand-ins"
    transport = "mesh" if mode == "mesh" else "sfu"
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ServerProcess(folder, async_mode="gevent", **janus_settings(janus, size if mode == "mesh" else size - 1)))
        photos = [STAND_IN_PHOTOS[number % len(STAND_IN_PHOTOS)] for number in range(size - 1)]
        relay = stack.enter_context(relay_members(server.url, room, photos, pages_only=True))
        marker = f"--ensemble-bench-sfu={room}"
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(camera, extra=[marker]))
        stack.callback(browser.close)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.add_init_script(KEEP_CONNECTIONS)
        page.goto(f"{server.url}/r/{room}?analysis=off")
        clicked = click_join(page, "Page")
        while not page.evaluate(SETTLED, [size - 1, transport]):
            if time.monotonic() - clicked > 60:
                raise RuntimeError(f"{room}: not every video through {transport} within 60 s: {page.evaluate('() => window.ensemble.state()')}")
            time.sleep(0.1)
        if mode == "sfu":
            own = page.evaluate("() => window.ensemble.state().self.id")
            for number in range(size - 1):
                relay.wait_for("subscribed", f"R{number + 1}", timeout=max(1, 60 - (time.monotonic() - clicked)), peer=own)
        joined = time.monotonic() - clicked
        figures = measure([(browser, page, browser_pid(marker))], janus, seconds, settle)
    return {"people": size, "mode": mode, "stand_ins": True, "move_s": round(joined, 2) if mode == "sfu" else None, "join_s": round(joined, 2),
            **figures}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", help="people per room (default: 4 6 8; with --pages 3 4)")
    parser.add_argument("--pages", action="store_true", help="every member a real Chromium page, no stand-ins")
    parser.add_argument("--rounds", type=int, default=1, help="rooms of each size and mode, taken in turn")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--settle", type=float, default=15, help="seconds between every video playing and the measurement")
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    if not NetworkNamespace.available():
        sys.exit("bench/sfu.py needs root and iproute2 (Janus runs in a network namespace)")
    results = []
    with tempfile.TemporaryDirectory() as temporary, sync_playwright() as driver, contextlib.ExitStack() as stack:
        folder = Path(temporary)
        cameras = {name: make_camera(folder, name) for name in CAMERAS}
        moving = make_moving_camera(folder)
        namespace = stack.enter_context(NetworkNamespace())
        janus = stack.enter_context(JanusProcess(folder / "janus", namespace))
        sizes = options.sizes or ([3, 4] if options.pages else [4, 6, 8])
        for size, _, mode in itertools.product(sizes, range(options.rounds), ("mesh", "sfu")):
            if options.pages:
                result = one_room(driver, cameras, janus, folder, size, mode, options.seconds, options.settle)
            else:
                result = one_room_with_stand_ins(driver, moving, janus, folder, size, mode, options.seconds, options.settle)
            results.append(result)
            line = f"{size} people, {mode:4}: join {result['join_s']:.2f} s; upload per page {sorted(result['kbps'])} kbit/s; "
            line += f"CPU per browser {sorted(result['cpu'])} %; Janus {result['janus_cpu']} %"
            if mode == "sfu":
                forwarded = size * (size - 1) if options.pages else 2 * (size - 1)
                line += f" ({result['janus_cpu'] / forwarded:.2f} % per forwarded stream)"
            print(line, flush=True)
    for size, mode in itertools.product(sizes, ("mesh", "sfu")):
        rows = [result for result in results if (result["people"], result["mode"]) == (size, mode)]
        def median(key, rows=rows):
            return statistics.median(statistics.median(r[key]) if isinstance(r[key], list) else r[key] for r in rows)

        print(f"median of {len(rows)}, {size} people, {mode:4}: join {median('join_s'):.2f} s; upload {median('kbps'):.0f} kbit/s; "
              f"CPU {median('cpu'):.1f} %; Janus {median('janus_cpu'):.1f} %")
    if options.json:
        options.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
