"""Face detection quality: precision, recall and "exactly one face" per detector, input and threshold.

    .venv/bin/python bench/faces.py [--frames 4] [--sizes 160 224 320 416 512] [--no-ssd]

Runs the app's faces engine (static/js/analysis/engines/faces.js, in its worker,
WASM backend, the detector alone) in real Chromium, off the app's own server, on
pictures made here with Pillow from the face-api demo photos, whose faces are
marked by hand in harness/browsers.py:

- group: the six demo photos (3–5 faces each); smaller: the same photos in the
  middle of a frame half as big again (faces two thirds as big); mirrored;
  darker (45 % of the light); brighter (160 %);
- close-up: the three CLOSE_UPS; single, close / single: a 4:3 crop around each
  marked face, 400 / 720 px of the 1920 px original wide (a face close to the
  camera, one further away; a neighbour's face may show at the edge); single,
  dark: the 720 px crops at 45 % of the light;
- no face: eleven 4:3 crops of backgrounds and hair picked by eye, 4:3 crops
  that keep 220 px away from every marked face (clothes, arms, hands,
  furniture), and three of the test patterns the
  tests use as cameras (ffmpeg's testsrc2, mandelbrot, life).

Each picture becomes `--frames` frames, as a camera would give a still scene:
the first as made, the others moved by up to 1.5 % of the width, scaled by up to
±2 %, lit ±4 % and with camera noise. Every frame goes to TinyFaceDetector at
each input width of `--sizes` (the frame resized to that width, its proportions
kept, as FaceInputSizer does) and to SSD MobileNet at 512; detections down to
0.3 are kept and the thresholds applied here.

A detection is right when its box holds a marked centre (one detection per
centre); a centre within 100 px (of the original) of a crop's edge, or outside
it, may be found or not: a detection there counts neither way. Precision =
right / detections, recall = right / marked. "Exactly one": of the frames of a
single-person picture (one marked face, none at an edge), the share with one
detection, the right one (and how many of the others missed the face, how
many had a wrong detection besides). Then each picture's frames go, a quarter of a second
apart, through FaceTracker (static/js/analysis/face-tracks.js) and the same
figures are taken of what it shows from its second result on, against the
detector's own results on those frames.
"""

import argparse
import io
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageChops, ImageEnhance, ImageOps  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from harness.browsers import CAMERA_SOURCES, CHROMIUM, CLOSE_UPS, DEMO_PHOTOS, PHOTO_FACES, chromium_flags  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
EDGE = 100  # px of the 1920 px originals: a face centred this close to a crop's edge is half cut off
CLEAR_OF_FACES = 220  # px: a crop this far from every marked centre shows no face
SURE_SCORES = (0.8, 0.9, None)  # FaceTracker's bar for showing a face at once (None: never)


@dataclass(frozen=True)
class Picture:
    """What a camera sees: `box` (x, y, width, height in `source` pixels; it may reach past the
    source, which is then framed in grey), shown 640 px wide, maybe mirrored or lit differently."""

    name: str
    kind: str
    source: str
    box: tuple
    mirror: bool = False
    light: float = 1.0
    close_up: tuple | None = None  # a CLOSE_UPS crop's hand-marked centre, in source pixels


def source_image(source, patterns):
    return Image.open(patterns.get(source) or DEMO_PHOTOS / f"{source}.jpg").convert("RGB")


def marked_centres(picture, size):
    """[(x, y, required)] in fractions of the picture: every marked face in it or just past its
    edge, `required` unless within EDGE of the edge (a face cut in half) or past it. A centre past
    the edge is moved onto it, so that the box of the half face still holds it."""
    if picture.source not in PHOTO_FACES:
        return []
    x0, y0, width, height = picture.box
    points = [(fx * size[0], fy * size[1]) for fx, fy in PHOTO_FACES[picture.source]]
    if picture.close_up:  # the crop's own hand-marked centre replaces the one read off the whole photo
        nearest = min(points, key=lambda p: (p[0] - picture.close_up[0]) ** 2 + (p[1] - picture.close_up[1]) ** 2)
        points[points.index(nearest)] = picture.close_up
    centres = []
    for px, py in points:
        if not (x0 - EDGE < px < x0 + width + EDGE and y0 - EDGE < py < y0 + height + EDGE):
            continue
        required = x0 + EDGE <= px <= x0 + width - EDGE and y0 + EDGE <= py <= y0 + height - EDGE
        x, y = (min(max((px - x0) / width, 0.01), 0.99), min(max((py - y0) / height, 0.01), 0.99))
        centres.append((1 - x if picture.mirror else x, y, required))
    return centres


def render(picture, source, frame, rng):
    """Frame `frame` of `picture` as JPEG bytes and its marked centres; frames after the first are jittered."""
    x0, y0, width, height = picture.box
    light = picture.light
    if frame:
        scale = rng.uniform(0.98, 1.02)
        x0 += rng.uniform(-0.015, 0.015) * width + width * (1 - scale) / 2
        y0 += rng.uniform(-0.015, 0.015) * width + height * (1 - scale) / 2
        width, height = width * scale, height * scale
        light *= rng.uniform(0.96, 1.04)
    moved = Picture(picture.name, picture.kind, picture.source, (x0, y0, width, height), picture.mirror, light, picture.close_up)
    out = (640, round(640 * height / width))
    canvas = Image.new("RGB", (round(width), round(height)), (118, 118, 118))
    canvas.paste(source, (round(-x0), round(-y0)))
    image = canvas.resize(out, Image.Resampling.BILINEAR)
    if picture.mirror:
        image = ImageOps.mirror(image)
    if light != 1:
        image = ImageEnhance.Brightness(image).enhance(light)
    if frame:
        noise = Image.effect_noise(out, 4).convert("RGB")
        image = ImageChops.add(image, noise, offset=-128)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue(), marked_centres(moved, source.size)


def around(face, size, crop_width):
    """A 4:3 crop `crop_width` wide with the face a little above its middle, kept inside the photo."""
    crop_height = crop_width * 3 / 4
    x = min(max(face[0] * size[0] - crop_width / 2, 0), size[0] - crop_width)
    y = min(max(face[1] * size[1] - crop_height * 0.42, 0), size[1] - crop_height)
    return (x, y, crop_width, crop_height)


# Backgrounds and hair, picked by eye: (photo, x, y, width) in fractions of the photo, 4:3.
BACKGROUNDS = [
    ("sample1", 0.0, 0.0, 0.2), ("sample1", 0.3, 0.0, 0.25), ("sample1", 0.88, 0.3, 0.12), ("sample2", 0.0, 0.0, 0.15),
    ("sample3", 0.0, 0.0, 0.25), ("sample4", 0.0, 0.3, 0.12), ("sample4", 0.8, 0.0, 0.2), ("sample5", 0.0, 0.0, 0.22),
    ("sample5", 0.75, 0.0, 0.25), ("sample6", 0.2, 0.0, 0.2), ("sample6", 0.6, 0.0, 0.2),
]


def faceless_crops(sizes, count, rng):
    """BACKGROUNDS, and `count` crops of the demo photos at least CLEAR_OF_FACES px from every marked face."""
    crops = []
    for index, (source, x, y, width) in enumerate(BACKGROUNDS):
        crop_width = width * sizes[source][0]
        box = (x * sizes[source][0], y * sizes[source][1], crop_width, crop_width * 3 / 4)
        crops.append(Picture(f"{source}-background-{index}", "no face", source, box))
    while len(crops) < len(BACKGROUNDS) + count:
        source = rng.choice(sorted(PHOTO_FACES))
        width, height = sizes[source]
        crop_width = rng.uniform(300, 800)
        box = (rng.uniform(0, width - crop_width), rng.uniform(0, height - crop_width * 3 / 4), crop_width, crop_width * 3 / 4)
        left, top = box[0] - CLEAR_OF_FACES, box[1] - CLEAR_OF_FACES
        right, bottom = box[0] + box[2] + CLEAR_OF_FACES, box[1] + box[3] + CLEAR_OF_FACES
        if not any(left < fx * width < right and top < fy * height < bottom for fx, fy in PHOTO_FACES[source]):
            crops.append(Picture(f"{source}-empty-{len(crops)}", "no face", source, box))
    return crops


def pictures(patterns, faceless):
    sizes = {name: source_image(name, {}).size for name in PHOTO_FACES}
    made = []
    for name, (width, height) in sizes.items():
        whole = (0, 0, width, height)
        made += [
            Picture(name, "group", name, whole),
            Picture(f"{name}-smaller", "smaller", name, (-width / 4, -height / 4, width * 1.5, height * 1.5)),
            Picture(f"{name}-mirrored", "mirrored", name, whole, mirror=True),
            Picture(f"{name}-darker", "darker", name, whole, light=0.45),
            Picture(f"{name}-brighter", "brighter", name, whole, light=1.6),
        ]
    for name, (source, (x, y, width, height), (cx, cy)) in CLOSE_UPS.items():
        made.append(Picture(name, "close-up", source, (x, y, width, height), close_up=(x + cx * width, y + cy * height)))
    for name, faces in PHOTO_FACES.items():
        for index, face in enumerate(faces):
            made.append(Picture(f"{name}-face{index}-400", "single, close", name, around(face, sizes[name], 400)))
            made.append(Picture(f"{name}-face{index}-720", "single", name, around(face, sizes[name], 720)))
            made.append(Picture(f"{name}-face{index}-720-dark", "single, dark", name, around(face, sizes[name], 720), light=0.45))
    made += faceless_crops(sizes, faceless, random.Random(15))
    made += [Picture(f"pattern-{name}", "no face", name, (0, 0, 640, 480)) for name in patterns]
    return made


def make_patterns(folder):
    """One frame of each test-pattern camera, as a PNG."""
    paths = {}
    for name in ("bars", "mandel", "life"):
        path = Path(folder) / f"{name}.png"
        source = CAMERA_SOURCES[name].replace("320x240", "640x480")
        subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i", source, "-ss", "1", "-frames:v", "1", str(path)], check=True)
        paths[name] = path
    return paths


START = """async ([sizes, ssd]) => {
    const { startEngine } = await import('/static/js/analysis/runner.js');
    const quiet = { landmarks: false, expressions: false, backend: 'wasm', minScore: 0.3 };
    const engines = { tiny: await startEngine('faces', { ...quiet, detector: 'tiny', inputSize: Math.max(...sizes) }) };
    if (ssd) engines.ssd = await startEngine('faces', { ...quiet, detector: 'ssd' });
    window.__faces = { engines, sizes };
    return Object.fromEntries(Object.entries(engines).map(([name, { info }]) => [name, info.backend]));
}"""

# Every frame of one picture through every detector and width: {config: [[face, ...] per frame]}.
DETECT = """async ([urls]) => {
    const { engines, sizes } = window.__faces;
    const configs = [...sizes.map(width => ['tiny ' + width, engines.tiny, width]), ...(engines.ssd ? [['ssd 512', engines.ssd, 512]] : [])];
    const found = {}, ms = {};
    for (const url of urls) {
        const blob = await (await fetch(url)).blob();
        const bitmap = await createImageBitmap(blob);
        for (const [config, { runner }, width] of configs) {
            const size = { width, height: Math.round(width * bitmap.height / bitmap.width) };
            const frame = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'low' });
            const { result, ms: took } = await runner.run(frame, size, { landmarks: false, expressions: false });
            (found[config] ??= []).push(result.faces.map(({ x, y, width, height, score }) => ({ x, y, width, height, score })));
            (ms[config] ??= []).push(took);
        }
        bitmap.close();
    }
    return { found, ms };
}"""

# Each picture's frames through FaceTracker, a quarter of a second apart: what it shows after each.
TRACK = """async ([runs, sureScores]) => {
    const { FaceTracker } = await import('/static/js/analysis/face-tracks.js');
    return runs.map(frames => sureScores.map(sure => {
        const tracker = new FaceTracker({ sureScore: sure ?? Infinity });
        return frames.map((faces, index) => tracker.update(faces, index * 250));
    }));
}"""


def score(frames, truths, threshold):
    """Counts over frames: right, wrong, marked, and single-person frames with exactly the one right face."""
    right = wrong = marked = singles = exactly_one = missed = extra = 0
    for faces, centres in zip(frames, truths):
        faces = sorted((f for f in faces if f["score"] >= threshold), key=lambda f: -f["score"])
        left = list(centres)
        hits = 0
        for face in faces:
            inside = [c for c in left if face["x"] <= c[0] <= face["x"] + face["width"] and face["y"] <= c[1] <= face["y"] + face["height"]]
            if not inside:
                wrong += 1
                continue
            centre = min(inside, key=lambda c: (c[0] - face["x"] - face["width"] / 2) ** 2 + (c[1] - face["y"] - face["height"] / 2) ** 2)
            left.remove(centre)
            hits += centre[2]
        right += hits
        marked += sum(c[2] for c in centres)
        if len(centres) == 1 and centres[0][2]:
            singles += 1
            exactly_one += len(faces) == 1 and hits == 1
            missed += hits == 0
            extra += len(faces) > hits
    return {"right": right, "wrong": wrong, "marked": marked, "singles": singles, "one": exactly_one, "missed": missed, "extra": extra}


def figures(counts):
    found = counts["right"] + counts["wrong"]
    precision = counts["right"] / found if found else 1.0
    recall = counts["right"] / counts["marked"] if counts["marked"] else 1.0
    one = counts["one"] / counts["singles"] if counts["singles"] else 0.0
    return precision, recall, one


def add(total, counts):
    for key, value in counts.items():
        total[key] += value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=4, help="frames per picture (the first as made, the others jittered)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[160, 224, 320, 416, 512], help="TinyFaceDetector input widths")
    parser.add_argument("--no-ssd", action="store_true")
    parser.add_argument("--faceless", type=int, default=30, help="crops with no face")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        patterns = make_patterns(folder)
        made = pictures(patterns, options.faceless)
        served, truths, kinds = {}, {}, {}
        for picture in made:
            source, rng = source_image(picture.source, patterns), random.Random(picture.name)
            truths[picture.name] = []
            for frame in range(options.frames):
                body, centres = render(picture, source, frame, rng)
                served[f"{picture.name}/{frame}.jpg"] = body
                truths[picture.name].append(centres)
            kinds[picture.name] = picture.kind
        counted = ", ".join(f"{kind} {list(kinds.values()).count(kind)}" for kind in dict.fromkeys(kinds.values()))
        print(f"{len(made)} pictures × {options.frames} frames; {counted}", flush=True)
        with ServerProcess(folder) as server:
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags())
            page = browser.new_page()
            page.route("**/bench-faces/**", lambda route: route.fulfill(body=served[route.request.url.split("/bench-faces/")[1]]))
            page.goto(server.url + "/")
            print("backends:", page.evaluate(START, [options.sizes, not options.no_ssd]), flush=True)
            found, times = {}, defaultdict(list)
            for index, picture in enumerate(made):
                urls = [f"/bench-faces/{picture.name}/{frame}.jpg" for frame in range(options.frames)]
                result = page.evaluate(DETECT, [urls])
                found[picture.name] = result["found"]
                for config, ms in result["ms"].items():
                    times[config] += ms
                if index % 20 == 19:
                    print(f"  {index + 1} pictures done", flush=True)
            configs = list(times)
            runs = [(name, config, threshold) for name in found for config in configs for threshold in THRESHOLDS]
            kept = [[[f for f in frame if f["score"] >= t] for frame in found[n][c]] for n, c, t in runs]
            tracked = page.evaluate(TRACK, [kept, list(SURE_SCORES)])
            browser.close()
    report(configs, times, found, truths, kinds, dict(zip(runs, tracked)))


def tally(found, truths, kinds, config, threshold, frames=slice(None)):
    """Counts over every picture (`frames` of each), per kind of picture, and the no-face frames with a detection."""
    total, per_kind = defaultdict(int), defaultdict(lambda: defaultdict(int))
    empty = [0, 0]
    for name, results in found.items():
        shown = results[config][frames]
        counts = score(shown, truths[name][frames], threshold)
        add(total, counts)
        add(per_kind[kinds[name]], counts)
        if kinds[name] == "no face":
            empty[0] += sum(any(f["score"] >= threshold for f in faces) for faces in shown)
            empty[1] += len(shown)
    return total, per_kind, empty


def row(total, empty):
    """precision | recall | exactly one | no-face frames with a face | wrong / right"""
    precision, recall, one = figures(total)
    return (f"{precision:.3f} | {recall:.3f} ({total['right']}/{total['marked']}) "
            f"| {one:.2f} ({total['one']}/{total['singles']}; missed {total['missed']}, extra {total['extra']}) "
            f"| {empty[0]}/{empty[1]} | {total['wrong']} / {total['right']} |")


def report(configs, times, found, truths, kinds, tracked):
    order = list(dict.fromkeys(kinds.values()))
    print("\n| detector, input | ms a frame | threshold | precision | recall | exactly one (single person) "
          "| no-face frames with a face | wrong / right |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    by_kind = {}
    for config in configs:
        median = sorted(times[config])[len(times[config]) // 2]
        for threshold in THRESHOLDS:
            total, by_kind[config, threshold], empty = tally(found, truths, kinds, config, threshold)
            print(f"| {config} | {median:.0f} ms | {threshold} | " + row(total, empty))
    print("\nRecall (wrong detections) by kind of picture:\n")
    print("| detector, input | threshold | " + " | ".join(order) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in order) + " |")
    for (config, threshold), per_kind in by_kind.items():
        cells = [(f"{figures(per_kind[k])[1]:.2f}" if per_kind[k]["marked"] else "–") + f" ({per_kind[k]['wrong']})" for k in order]
        print(f"| {config} | {threshold} | " + " | ".join(cells) + " |")
    scores_report(configs, found, truths)
    tracker_report(configs, found, truths, kinds, tracked)


def scores_report(configs, found, truths):
    """How high wrong detections score, against right ones: where a bar for 'sure' could go."""
    print("\n| detector, input | highest scores of wrong detections (of all ≥ 0.3) | right ones ≥ 0.7 / ≥ 0.8 / ≥ 0.9 |")
    print("| --- | --- | --- |")
    for config in configs:
        wrong, right = [], []
        for name, frames in found.items():
            for faces, centres in zip(frames[config], truths[name]):
                for f in faces:
                    hit = any(f["x"] <= x <= f["x"] + f["width"] and f["y"] <= y <= f["y"] + f["height"] for x, y, _ in centres)
                    (right if hit else wrong).append(f["score"])
        wrong.sort(reverse=True)
        shares = " / ".join(f"{sum(s >= bar for s in right) / max(len(right), 1):.2f}" for bar in (0.7, 0.8, 0.9))
        print(f"| {config} | {', '.join(f'{s:.2f}' for s in wrong[:6])} (of {len(wrong)}) | {shares} (of {len(right)}) |")


def tracker_report(configs, found, truths, kinds, tracked):
    print("\nFrom each picture's second frame on: every result of the detector, then what FaceTracker shows "
          "(sure: shown at once from that score).\n")
    print("| detector, input | threshold | shown | precision | recall | exactly one | no-face frames with a face | wrong / right |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for config in configs:
        for threshold in THRESHOLDS[:4]:
            total, _, empty = tally(found, truths, kinds, config, threshold, slice(1, None))
            print(f"| {config} | {threshold} | every result | " + row(total, empty))
            for index, sure in enumerate(SURE_SCORES):
                shown = {name: {config: tracked[name, config, threshold][index]} for name in found}
                total, _, empty = tally(shown, truths, kinds, config, threshold, slice(1, None))
                print(f"| {config} | {threshold} | tracker, {f'sure ≥ {sure}' if sure else 'never at once'} | " + row(total, empty))


if __name__ == "__main__":
    main()
