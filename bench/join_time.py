"""How long from joining until every remote video plays, and browser CPU per peer.

    .venv/bin/python bench/join_time.py [--sizes 2 3 4 6] [--runs 3]

Each peer is its own headless Chromium process (analysis off) with a fake camera (320x240,
15 fps), on loopback. All peers of a room click Join at the same instant; the
time is until the last of them has shown 3 frames of every remote video.
CPU is each peer's whole process tree over 5 s once the call is up.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from harness.browsers import CAMERA_SOURCES, CHROMIUM, chromium_flags, make_camera  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# Resolves with the page clock (ms since 1970) at which `count` remote videos had each shown 3 frames.
ALL_PLAYING = """count => new Promise((resolve, reject) => {
    const giveUp = Date.now() + 90000;
    const check = () => {
        if (Date.now() > giveUp) return reject(new Error(`not all ${count} remote videos played within 90 s`));
        const videos = [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')];
        const playing = videos.filter(video => video.readyState >= 2 && video.getVideoPlaybackQuality().totalVideoFrames >= 3);
        if (videos.length === count && playing.length === count) resolve(Date.now()); else setTimeout(check, 50);
    };
    check();
})"""


def process_tree_ticks(root_pid):
    """utime + stime of a process and all its descendants, in clock ticks."""
    children, ticks = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(entry))
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        total += ticks.get(pid, 0)
        pending.extend(children.get(pid, []))
    return total


def browser_pid(marker):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker.encode() in command and b"--type" not in b" ".join(command):
                return int(entry)
    raise RuntimeError(f"no Chromium process with {marker}")


def one_room(driver, server, size, run, cameras):
    names = list(cameras)
    browsers, pages, pids = [], [], []
    try:
        for index in range(size):
            marker = f"--ensemble-bench-peer={size}-{run}-{index}"
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, args=chromium_flags(cameras[names[index % len(names)]], extra=[marker])
            )
            browsers.append(browser)
            pids.append(browser_pid(marker))
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{server.url}/r/bench-{size}-{run}?analysis=off")
            page.get_by_label("Your name").fill(f"Peer {index + 1}")
            pages.append(page)
        start = pages[0].evaluate("() => Date.now() + 1000")
        for page in pages:
            page.evaluate("at => setTimeout(() => document.querySelector('#prejoin-form button').click(), at - Date.now())", start)
        playing = [page.evaluate_handle(ALL_PLAYING, size - 1) for page in pages]
        seconds = (max(handle.json_value() for handle in playing) - start) / 1000
        before = [process_tree_ticks(pid) for pid in pids]
        time.sleep(5)
        cpu = [100 * (process_tree_ticks(pid) - ticks) / CLOCK_TICKS / 5 for pid, ticks in zip(pids, before)]
        return seconds, statistics.mean(cpu)
    finally:
        for browser in browsers:
            browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4, 6])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        cameras = {name: make_camera(folder, name) for name in CAMERA_SOURCES}
        with ServerProcess(folder, max_peers_per_room=max(options.sizes)) as server:
            print("| peers | join → all videos playing, median (runs) | browser CPU per peer, median |")
            print("| --- | --- | --- |", flush=True)
            for size in options.sizes:
                try:
                    results = [one_room(driver, server, size, run, cameras) for run in range(options.runs)]
                except Exception as error:  # an overloaded machine is a result too: report it
                    print(f"| {size} | did not finish: {str(error).splitlines()[0][:90]} | |", flush=True)
                    continue
                times = [seconds for seconds, _ in results]
                cpu = [percent for _, percent in results]
                runs = ", ".join(f"{value:.2f}" for value in times)
                print(f"| {size} | {statistics.median(times):.2f} s ({runs}) | {statistics.median(cpu):.0f} % of one core |", flush=True)


if __name__ == "__main__":
    main()
