"""Frames per second of the composed scene with 2, 3 and 5 participants.

    .venv/bin/python bench/scene.py [--people 2 3 5] [--seconds 8]

One viewing browser (a demo photo as camera, analysis on) and N-1 other
members (bench/relay.py: ready-made VP8 video of other demo photos over real
WebRTC, at almost no cost to this machine, standing in for the other people's
machines) in one room. The viewer opens the scene, waits until every stream
has a mask (the analysis engines are warm), and for each participant count
measures three drawings of it: every picture whole (no background removal),
everyone cut out with their masks, and cut out on canvases kept in memory
(`?canvas=cpu`) instead of the browser's accelerated ones. It reports the
scene's own frames per second and median draw time, the page's frames per
second and its longest main-thread task.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.analysis import BACKENDS_CHOSEN, MEASURE  # noqa: E402
from bench.relay import relay_members  # noqa: E402
from harness.browsers import CHROMIUM, PHOTO_FACES, chromium_flags, make_photo_camera  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

EVERYONE_MASKED = "() => ['self', ...window.ensemble.state().peers.map(p => p.id)].every(id => window.ensemble.analysis(id)?.mask)"


def measure(page, seconds):
    page.wait_for_timeout(2000)
    measured = page.evaluate(MEASURE, seconds)
    scene = page.evaluate("() => window.ensemble.scene()")
    return f"{scene['fps']:.0f} | {scene['drawMs']:.0f} ms | {measured['fps']:.0f} | {measured['longest']:.0f} ms"


def set_removal(page, on):
    names = [peer["name"] for peer in page.evaluate("() => window.ensemble.state().peers")] + ["Viewer"]
    scene = {"arrange": "row", "participants": [{"name": name, "effects": {"removeBackground": on}} for name in names]}
    page.fill("textarea[data-scene=text]", json.dumps(scene))
    page.wait_for_function("on => window.ensemble.scene().scene.participants?.[0]?.effects.removeBackground === on", arg=on)


def open_viewer(browser, server, room, count, canvas):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{server.url}/r/{room}?name=Viewer" + ("&canvas=cpu" if canvas == "cpu" else ""))
    connected = "() => (window.ensemble?.state().peers ?? []).filter(p => p.connectionState === 'connected').length"
    page.wait_for_function(f"{connected} >= {count - 1}", timeout=120_000)
    page.click("button[data-action=toggle-scene]")
    page.click("button[data-scene=json]")
    return page


def row(driver, server, folder, count, seconds):
    photos = sorted(PHOTO_FACES)
    room = f"scene-{count}"
    with relay_members(server.url, room, [photos[1 + index % (len(photos) - 1)] for index in range(count - 1)]):
        viewer = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(make_photo_camera(folder, photos[0])))
        try:
            page = open_viewer(viewer, server, room, count, "accelerated")
            # Engines warm first (they compile at start), so every variant is measured with analysis running.
            page.wait_for_function(EVERYONE_MASKED, timeout=180_000)
            page.wait_for_function(BACKENDS_CHOSEN, timeout=180_000)
            set_removal(page, False)
            whole = measure(page, seconds)
            set_removal(page, True)
            cut = measure(page, seconds)
            page.close()
            page = open_viewer(viewer, server, room, count, "cpu")
            page.wait_for_function(EVERYONE_MASKED, timeout=180_000)
            cpu = measure(page, seconds)
        finally:
            viewer.close()
    return f"| {count} | {whole} | {cut} | {cpu} |"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[2, 3, 5])
    parser.add_argument("--seconds", type=float, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        with ServerProcess(folder, mesh_max=max(options.people) + 1) as server:
            print("| people | whole pictures: scene fps | draw | page fps | longest task "
                  "| cut out: scene fps | draw | page fps | longest task "
                  "| cut out, canvas in memory: scene fps | draw | page fps | longest task |\n"
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
            for count in options.people:
                try:
                    print(row(driver, server, folder, count, options.seconds), flush=True)
                except Exception as error:  # a row that cannot finish on this machine is a result too
                    print(f"| {count} | did not finish: {str(error).splitlines()[0][:100]} |", flush=True)


if __name__ == "__main__":
    main()
