"""Mesh against Janus: upload per sender, CPU per browser, Janus's CPU, and how long a room
takes to move from the mesh to Janus.

    .venv/bin/python bench/sfu.py [--sizes 3 4] [--settle 15] [--seconds 10] [--json FILE]

Needs root (Janus runs in a network namespace of its own: it offers no loopback candidates;
harness/janus.py). For each size N, two rooms of N real Chromium pages (fake 320x240 15 fps
cameras, analysis off): "mesh" with MESH_MAX=N (every page sends N-1 copies), "sfu" with
MESH_MAX=N-1, where the N-th join moves the room to Janus. The move is timed from the N-th
page's click on Join (pre-join form, a real mouse click) until every page lists every other
as carried by Janus, connected, with each remote video showing new frames.

Then, `--settle` seconds later (bandwidth estimates ramp up; simulcast's upper layers start
once they allow), over `--seconds`: each page's upload (bytes sent by all its RTCPeerConnections, from an
init script that keeps them; audio and video, RTP payload and headers as getStats counts
them), each browser's CPU (its whole process tree, /proc), and Janus's CPU divided by the
streams it forwards (N publishers x (N-1) subscribers, audio and video counted as one).
Every browser runs on this machine, so CPU figures are of a machine N times as busy as any
one person's.
"""

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.join_time import CLOCK_TICKS, browser_pid, process_tree_ticks  # noqa: E402
from harness.browsers import CHROMIUM, chromium_flags, make_camera  # noqa: E402
from harness.janus import JanusProcess, NetworkNamespace  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

CAMERAS = ["bars", "mandel", "life"]

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
        page = last[1]
        page.wait_for_function("() => document.querySelector('#prejoin-video')?.getVideoPlaybackQuality().totalVideoFrames > 0")
        page.get_by_label("Your name").fill(f"p{size - 1}")
        people.append(last)
        clicked = time.monotonic()
        page.click("#prejoin-form button[type=submit]")
        pending = [page for _, page, _ in people]
        while pending:
            pending = [page for page in pending if not page.evaluate(SETTLED, [size - 1, transport])]
            if time.monotonic() - clicked > 60:
                raise RuntimeError(f"{room}: not every video through {transport} within 60 s")
            time.sleep(0.2)
        moved = time.monotonic() - clicked
        time.sleep(settle)  # the bandwidth estimates ramp up (simulcast's upper layers start once they allow)
        sent = [page.evaluate(BYTES_SENT) for _, page, _ in people]
        ticks = [process_tree_ticks(pid) for _, _, pid in people]
        janus_ticks = process_tree_ticks(janus.pid)
        time.sleep(seconds)
        kbps = [8 * (page.evaluate(BYTES_SENT) - before) / seconds / 1000 for (_, page, _), before in zip(people, sent)]
        cpu = [100 * (process_tree_ticks(pid) - before) / CLOCK_TICKS / seconds for (_, _, pid), before in zip(people, ticks)]
        janus_cpu = 100 * (process_tree_ticks(janus.pid) - janus_ticks) / CLOCK_TICKS / seconds
    return {"people": size, "mode": mode, "move_s": round(moved, 2) if mode == "sfu" else None, "join_s": round(moved, 2),
            "kbps": [round(value) for value in kbps], "cpu": [round(value, 1) for value in cpu], "janus_cpu": round(janus_cpu, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 4])
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
        namespace = stack.enter_context(NetworkNamespace())
        janus = stack.enter_context(JanusProcess(folder / "janus", namespace))
        for size in options.sizes:
            for mode in ("mesh", "sfu"):
                result = one_room(driver, cameras, janus, folder, size, mode, options.seconds, options.settle)
                results.append(result)
                forwarded = size * (size - 1)
                print(
                    f"{size} people, {mode:4}: join {result['join_s']:.2f} s; upload per page {sorted(result['kbps'])} kbit/s; "
                    f"CPU per browser {sorted(result['cpu'])} %; Janus {result['janus_cpu']} % "
                    f"({result['janus_cpu'] / forwarded:.2f} % per forwarded stream)" if mode == "sfu" else
                    f"{size} people, {mode:4}: join {result['join_s']:.2f} s; upload per page {sorted(result['kbps'])} kbit/s; "
                    f"CPU per browser {sorted(result['cpu'])} %",
                    flush=True,
                )
    if options.json:
        options.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
