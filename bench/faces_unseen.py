"""Face precision on pictures the project did not choose: negatives as well as positives.

    .venv/bin/python bench/faces_unseen.py [--frames 8] [--no-ssd] [--json FILE]

The pictures come from packages of the Python registry (harness/pictures.py: scikit-image's
and matplotlib's sample pictures, each pinned by version and SHA-256), with faces marked by
hand in tests/data/face-marks.json. Made from them with Pillow, each 640 × 480 like a camera:

- one person: the astronaut (a helmet beside her) and Grace Hopper (peaked cap, glasses),
  each whole and as a closer 4:3 crop, mirrored, darker (45 % of the light), further away
  (half as big), and with a surgical mask drawn over nose and mouth;
- turned aside: the cameraman (his face in profile, half hidden by the camera), whole and closer;
- several people: the three at three distances side by side on grass or bricks;
- no face: the cat, the coffee cup, the rocket, the horse, coins, bricks, grass, gravel, the
  Hubble deep field, printed text, and crops of the people pictures that hold no face
  (the helmet and shoulder, the flags, the uniform, the coat and tripod).

Each picture becomes `--frames` frames, as a camera gives a still scene: the first as made,
the others moved by up to 1.5 % of the width, scaled ±2 %, lit ±4 % and with camera noise.

Two ways through them, in the app's own code in Chromium (the faces engine in its worker,
WASM backend, off the app's server):

1. every detector configuration on every frame: TinyFaceDetector at each input width of
   `--sizes` (as FaceInputSizer sizes frames), SSD MobileNet at 512; detections down to 0.3,
   each with its 68 landmarks, then the thresholds and candidate checks applied here;
2. the page's own path with its default preset (224): each picture's frames a quarter of a
   second apart through FaceInputSizer (which picks each frame's width), the engine with the
   face check the page uses or none, and FaceTracker (what a viewer sees).

A detection is right when its box holds a marked face's centre and its centre lies in that
face's box (one detection a face); a face marked `profile` counts for "turned aside" recall
only. Per picture set: precision (right / detections), recall (right / marked faces), "exactly
right" (frames with as many detections as faces, all right), and frames with a false face.
"""

import argparse
import io
import json
import random
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageChops, ImageDraw, ImageEnhance  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from harness.browsers import CHROMIUM, CLOSE_UPS, DEMO_PHOTOS, PHOTO_FACES, chromium_flags  # noqa: E402
from harness.pictures import CAMERA, GREY, face_marks, finds, on_camera, picture, place  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
NEGATIVES = ("chelsea", "coffee", "rocket", "horse", "coins", "brick", "grass", "gravel", "hubble", "text")
# Crops of the people pictures that hold no face (x, y, width, height in the picture's pixels).
FACELESS_CROPS = {
    "astronaut-helmet": ("astronaut", (240, 250, 272, 262)),
    "astronaut-flag": ("astronaut", (0, 0, 130, 400)),
    "astronaut-suit": ("astronaut", (20, 200, 300, 312)),
    "hopper-uniform": ("grace_hopper", (0, 370, 512, 230)),
    "hopper-flag": ("grace_hopper", (0, 0, 160, 300)),
    "camera-tripod": ("camera", (220, 230, 292, 282)),
    "camera-coat": ("camera", (0, 200, 240, 312)),
}


@dataclass
class Scene:
    """One picture the camera sees: the image (640 × 480) and the marked faces in it, as
    (x, y, width, height, pose) in fractions of the frame."""

    name: str
    kind: str
    image: Image.Image
    faces: list = field(default_factory=list)


def crop(image, marks, box):
    """A crop of `image` and its marks moved into it (faces that leave it are dropped)."""
    x, y, width, height = box
    kept = [{**mark, "box": [mark["box"][0] - x, mark["box"][1] - y, *mark["box"][2:]]} for mark in marks]
    inside = [mark for mark in kept if 0 <= mark["box"][0] and mark["box"][0] + mark["box"][2] <= width]
    kept = [mark for mark in inside if 0 <= mark["box"][1] and mark["box"][1] + mark["box"][3] <= height]
    return image.crop((x, y, x + width, y + height)), kept


def closer(image, marks):
    """A 4:3 crop around the (only) face, the face a third of its height: as a webcam frames someone."""
    fx, fy, fw, fh = marks[0]["box"]
    height = min(fh * 3.2, image.height)
    width = min(height * 4 / 3, image.width)
    height = width * 3 / 4
    x = min(max(fx + fw / 2 - width / 2, 0), image.width - width)
    y = min(max(fy + fh / 2 - height * 0.45, 0), image.height - height)
    return crop(image, marks, (x, y, width, height))


def masked(image, marks):
    """A pale blue surgical mask drawn over the nose, mouth and chin of each marked face."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    for mark in marks:
        x, y, width, height = mark["box"]
        top, bottom = y + height * 0.5, y + height * 1.02
        draw.polygon([(x - width * 0.04, top + height * 0.05), (x + width * 0.5, top - height * 0.04), (x + width * 1.04, top + height * 0.05),
                      (x + width * 0.92, bottom), (x + width * 0.08, bottom)], fill=(168, 203, 228))
        for pleat in (0.3, 0.5, 0.7):
            draw.line([(x + width * 0.05, top + height * pleat * 0.5), (x + width * 0.95, top + height * pleat * 0.5)], fill=(140, 175, 205), width=2)
    return image


def camera_frame(image, marks, kind, name, **framing):
    return Scene(name, kind, *on_camera(image, marks, **framing))


def group(people, background, name):
    """The people at three distances (as tall as 95 %, 62 % and 40 % of the frame): the first at the
    left, the last at the right, the middle one between; a face another picture covers is not marked."""
    canvas = picture(background).resize(CAMERA, Image.Resampling.BILINEAR)
    faces = []
    sizes = [(image.width * CAMERA[1] * scale / image.height, CAMERA[1] * scale) for (image, _), scale in zip(people, (0.95, 0.62, 0.40))]
    for index, ((image, marks), (width, height)) in enumerate(zip(people, sizes)):
        # The second starts just right of the first's face, the third at the right edge.
        x = [0.0, (faces[0][0] + faces[0][2]) * CAMERA[0] + 6 if faces else 0.0, CAMERA[0] - width][index]
        into = (x, CAMERA[1] - height, width, height)
        faces = [face for face in faces if not covered(face, into)]
        faces += place(canvas, image, marks, into)
    return Scene(name, "several people", canvas, faces)


def covered(face, into):
    """Whether any of a face's box (fractions of the frame) is under a rectangle (pixels)."""
    x, y, width, height = into
    left, top = face[0] * CAMERA[0], face[1] * CAMERA[1]
    right, bottom = left + face[2] * CAMERA[0], top + face[3] * CAMERA[1]
    return left < x + width and x < right and top < y + height and y < bottom


def scenes():
    marks = face_marks()
    made = []
    for name in ("astronaut", "grace_hopper"):
        image, own = picture(name), marks[name]
        near, near_marks = closer(image, own)
        made += [
            camera_frame(image, own, "one person", name),
            camera_frame(near, near_marks, "one person", f"{name}-closer"),
            camera_frame(image, own, "one person", f"{name}-mirrored", mirror=True),
            camera_frame(image, own, "one person", f"{name}-darker", light=0.45),
            camera_frame(image, own, "one person, far", f"{name}-further", scale=0.5),
            camera_frame(masked(image, own), own, "one person, masked", f"{name}-masked"),
            camera_frame(masked(near, near_marks), near_marks, "one person, masked", f"{name}-closer-masked"),
        ]
    image, own = picture("camera"), marks["camera"]
    near, near_marks = closer(image, own)
    made += [camera_frame(image, own, "turned aside", "camera"), camera_frame(near, near_marks, "turned aside", "camera-closer")]
    people = {name: (picture(name), marks[name]) for name in ("astronaut", "grace_hopper", "camera")}
    made += [
        group([people["astronaut"], people["grace_hopper"], people["camera"]], "grass", "group-grass"),
        group([people["grace_hopper"], people["camera"], people["astronaut"]], "brick", "group-brick"),
        group([people["camera"], people["astronaut"], people["grace_hopper"]], "gravel", "group-gravel"),
    ]
    made += [camera_frame(picture(name), [], "no face", name) for name in NEGATIVES]
    for name, (source, box) in FACELESS_CROPS.items():
        cut, kept = crop(picture(source), marks.get(source, []), box)
        assert not kept, f"{name} holds a marked face"
        made.append(camera_frame(cut, [], "no face", name))
    return made


def jittered(scene, frame, rng):
    """Frame `frame` of a still scene as JPEG bytes, and its faces moved with it."""
    image, faces = scene.image, scene.faces
    if frame:
        scale = rng.uniform(0.98, 1.02)
        dx, dy = rng.uniform(-0.015, 0.015), rng.uniform(-0.015, 0.015) * 4 / 3
        width, height = CAMERA[0] * scale, CAMERA[1] * scale
        x0 = (CAMERA[0] - width) / 2 - dx * CAMERA[0]
        y0 = (CAMERA[1] - height) / 2 - dy * CAMERA[1]
        image = image.transform(CAMERA, Image.Transform.EXTENT, (x0, y0, x0 + width, y0 + height), Image.Resampling.BILINEAR, fillcolor=GREY)
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.96, 1.04))
        image = ImageChops.add(image, Image.effect_noise(CAMERA, 4).convert("RGB"), offset=-128)
        faces = [((fx * CAMERA[0] - x0) / width, (fy * CAMERA[1] - y0) / height, fw / scale, fh / scale, pose) for fx, fy, fw, fh, pose in faces]
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue(), faces


START = """async ([largest, ssd]) => {
    const { startEngine } = await import('/static/js/analysis/runner.js');
    const options = { landmarks: true, expressions: false, backend: 'wasm', minScore: 0.3, check: 'none' };
    const engines = { tiny: await startEngine('faces', { ...options, detector: 'tiny', inputSize: largest }) };
    if (ssd) engines.ssd = await startEngine('faces', { ...options, detector: 'ssd' });
    engines.selfie = await startEngine('selfie', { delegate: 'CPU' });
    window.__faces = { engines, bitmaps: new Map(), masks: new Map() };
    return Object.fromEntries(Object.entries(engines).map(([name, { info }]) => [name, info.backend]));
}"""

LOAD = """async ([urls]) => {
    const { bitmaps, masks, engines: { selfie } } = window.__faces;
    for (const bitmap of bitmaps.values()) bitmap.close();
    bitmaps.clear();
    for (const url of urls) {
        const bitmap = await createImageBitmap(await (await fetch(url)).blob());
        bitmaps.set(url, bitmap);
        const input = selfie.info.input;
        const frame = await createImageBitmap(bitmap, { resizeWidth: input.width, resizeHeight: input.height });
        masks.set(url, (await selfie.runner.run(frame, input)).result.mask);
    }
}"""

# Each configuration's detections of one picture (each check, each threshold) through FaceTracker, a
# quarter of a second apart: what it shows after each frame: {check: {config: {threshold: frames}}}.
TRACK = """async ([checked, thresholds]) => {
    const { FaceTracker } = await import('/static/js/analysis/face-tracks.js');
    const follow = (frames, threshold) => {
        const tracker = new FaceTracker({ forgetMs: 10_000 });
        return frames.map((faces, index) => tracker.update(faces.filter(face => face.score >= threshold), index * 250));
    };
    return Object.fromEntries(Object.entries(checked).map(([check, configs]) => [check, Object.fromEntries(Object.entries(configs).map(
        ([config, frames]) => [config, Object.fromEntries(thresholds.map(threshold => [threshold, follow(frames, threshold)]))]))]));
}"""

# Every frame through every configuration, detections with their landmarks: {config: [[face, ...] per frame]}.
DETECT = """async ([urls, sizes]) => {
    const { engines, bitmaps } = window.__faces;
    const configs = [...sizes.map(width => ['tiny ' + width, engines.tiny, width]), ...(engines.ssd ? [['ssd 512', engines.ssd, 512]] : [])];
    const found = {}, ms = {};
    for (const url of urls) {
        const bitmap = bitmaps.get(url);
        for (const [config, { runner }, width] of configs) {
            const size = { width, height: Math.round(width * bitmap.height / bitmap.width) };
            const frame = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'low' });
            const { result, ms: took } = await runner.run(frame, size, { landmarks: true, expressions: false });
            (found[config] ??= []).push(result.faces.map(({ x, y, width, height, score, landmarks }) => ({ x, y, width, height, score, landmarks })));
            (ms[config] ??= []).push(took);
        }
    }
    return { found, ms };
}"""

# The page's path: FaceInputSizer picks each frame's width, the engine (with `check`) finds faces,
# FaceTracker says what shows. Frames a quarter of a second apart, `rounds` times through the still scene.
PAGE = """async ([urls, largest, check, rounds]) => {
    const { engines, bitmaps, masks } = window.__faces;
    const { FaceInputSizer } = await import('/static/js/analysis/sizers.js');
    const { FaceTracker } = await import('/static/js/analysis/face-tracks.js');
    const { keepFaces } = await import('/static/js/analysis/face-checks.js');
    const sizer = new FaceInputSizer({ largest });
    const tracker = new FaceTracker({ forgetMs: 10_000 });
    const first = bitmaps.get(urls[0]);
    const stream = { video: { videoWidth: first.width, videoHeight: first.height }, results: {} };
    const shown = [], found = [], widths = [], ms = [], checkMs = [];
    for (let index = 0; index < urls.length * rounds; index++) {
        const now = index * 250;
        const url = urls[index % urls.length];
        const bitmap = bitmaps.get(url);
        const size = sizer.size(stream, now);
        const frame = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'low' });
        const { result, ms: took } = await engines.tiny.runner.run(frame, size, { landmarks: false, expressions: false });
        found.push(result.faces.map(({ x, y, width, height, score }) => ({ x, y, width, height, score })));
        const checkStart = performance.now();
        result.faces = keepFaces(result.faces, check, masks.get(url), tracker.shown);
        checkMs.push(performance.now() - checkStart);
        sizer.seen(stream, size, result, now);
        result.faces = tracker.update(result.faces, now);
        stream.results.faces = result;
        shown.push(result.faces.map(({ x, y, width, height, score }) => ({ x, y, width, height, score })));
        widths.push(size.width);
        ms.push(took);
    }
    return { shown, found, widths, ms, checkMs };
}"""

# Detections of every configuration, put through each check as the engine would: {check: {config: frames}}.
CHECK = """async ([found, checks, urls]) => {
    const { keepFaces } = await import('/static/js/analysis/face-checks.js');
    const { masks } = window.__faces;
    const kept = (faces, check, index) => keepFaces(faces, check, masks.get(urls[index])).map(({ landmarks, ...face }) => face);
    return Object.fromEntries(checks.map(check => [check, Object.fromEntries(Object.entries(found).map(
        ([config, frames]) => [config, frames.map((faces, index) => kept(faces, check, index))]))]));
}"""


def score_frame(faces, marks):
    """(right frontal, right profile, wrong) for one frame, each mark taken by one detection at most."""
    left = list(marks)
    right = {"frontal": 0, "profile": 0}
    wrong = 0
    for face in sorted(faces, key=lambda f: -f["score"]):
        mark = next((m for m in left if finds(face, m)), None)
        if mark is None:
            wrong += 1
            continue
        left.remove(mark)
        right[mark[4]] += 1
    return right["frontal"], right["profile"], wrong


def tally(frames_by_scene, truths, kinds, threshold=0.0, skip=0):
    """Per kind of picture: detections, right, marked (frontal / profile), frames, exactly right, frames with a
    false face; the first `skip` frames of each picture left out."""
    counts = defaultdict(lambda: defaultdict(int))
    for name, frames in frames_by_scene.items():
        total = counts[kinds[name]]
        for faces, marks in list(zip(frames, truths[name]))[skip:]:
            faces = [f for f in faces if f["score"] >= threshold]
            frontal, profile, wrong = score_frame(faces, marks)
            total["detections"] += len(faces)
            total["right"] += frontal + profile
            total["frontal"] += frontal
            total["profile"] += profile
            total["marked frontal"] += sum(m[4] == "frontal" for m in marks)
            total["marked profile"] += sum(m[4] == "profile" for m in marks)
            total["frames"] += 1
            total["exactly"] += wrong == 0 and frontal + profile == len(marks)
            total["false"] += wrong > 0
    return counts


KIND_ORDER = ("one person", "one person, far", "one person, masked", "turned aside", "several people", "no face")


def cells(counts):
    """precision · recall (frontal) · exactly right · frames with a false face, per kind of picture."""
    out = []
    for kind in KIND_ORDER:
        c = counts.get(kind)
        if not c:
            out.append("–")
            continue
        precision = c["right"] / c["detections"] if c["detections"] else 1.0
        if kind == "no face":
            out.append(f"{c['false']}/{c['frames']} frames")
            continue
        recall = (c["profile"] / c["marked profile"]) if kind == "turned aside" else (c["frontal"] / c["marked frontal"])
        out.append(f"{precision:.2f} · {recall:.2f} · {c['exactly'] / c['frames']:.2f} · {c['false']}/{c['frames']}")
    return out


def table(title, rows):
    print(f"\n{title}\n")
    print("| configuration | ms a search | " + " | ".join(KIND_ORDER) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in KIND_ORDER) + " |")
    for label, ms, counts in rows:
        print(f"| {label} | {ms} | " + " | ".join(cells(counts)) + " |")


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def tuning_pictures():
    """face-api's demo photos (the pictures the detector was tuned on), 640 px wide as the tests' cameras show
    them, with their hand-marked face centres: {name: (JPEG bytes, [(x, y)], largest input of the page's preset)}."""
    made = {}
    for name, centres in PHOTO_FACES.items():
        made[name] = (Image.open(DEMO_PHOTOS / f"{name}.jpg").convert("RGB"), centres, 416)
    for name, (source, (x, y, width, height), centre) in CLOSE_UPS.items():
        made[name] = (Image.open(DEMO_PHOTOS / f"{source}.jpg").convert("RGB").crop((x, y, x + width, y + height)), [centre], 224)
    served = {}
    for name, (image, centres, largest) in made.items():
        image = image.resize((640, round(640 * image.height / image.width)), Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        served[name] = (buffer.getvalue(), centres, largest)
    return served


def holds(face, point):
    """Whether a detection's box holds a point (x, y), both in fractions of the frame."""
    return face["x"] <= point[0] <= face["x"] + face["width"] and face["y"] <= point[1] <= face["y"] + face["height"]


def tuning_report(page, served, checks, rounds):
    """The page's path on the tuning pictures (group photos at the 416 preset, close-ups at 224): marked faces shown
    (a shown box holding a marked centre) and boxes shown that hold none, from the third result on."""
    print("\nThe tuning pictures (face-api's demo photos), the page's path: faces shown of those marked / boxes holding no mark\n")
    print("| picture | preset | " + " | ".join(f"`{check}`" for check in checks) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in checks) + " |")
    for name, (_, centres, largest) in served.items():
        url = f"/bench-faces/tuning/{name}.jpg"
        page.evaluate(LOAD, [[url]])
        cells = []
        for check in checks:
            shown = page.evaluate(PAGE, [[url], largest, check, rounds * 4])["shown"][2:]
            found = wrong = 0
            for faces in shown:
                left = list(centres)
                for face in faces:
                    hit = next((c for c in left if holds(face, c)), None)
                    if hit:
                        left.remove(hit)
                        found += 1
                    else:
                        wrong += 1
            cells.append(f"{found}/{len(centres) * len(shown)} / {wrong}")
        print(f"| {name} | {largest} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=8, help="frames per picture (the first as made, the others jittered)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[96, 128, 160, 192, 224, 320, 416, 512], help="TinyFaceDetector input widths")
    parser.add_argument("--checks", nargs="+", default=["none", "body", "mask", "body+mask"], help="face checks of static/js/analysis/face-checks.js")
    parser.add_argument("--rounds", type=int, default=2, help="times each picture's frames go through the page's path")
    parser.add_argument("--no-ssd", action="store_true")
    parser.add_argument("--json", help="write every detection here (with landmarks)")
    options = parser.parse_args()
    made = scenes()
    tuning = tuning_pictures()
    served, truths, kinds = {}, {}, {}
    for scene in made:
        rng = random.Random(scene.name)
        truths[scene.name] = []
        for frame in range(options.frames):
            body, faces = jittered(scene, frame, rng)
            served[f"{scene.name}/{frame}.jpg"] = body
            truths[scene.name].append(faces)
        kinds[scene.name] = scene.kind
    served.update({f"tuning/{name}.jpg": body for name, (body, _, _) in tuning.items()})
    counted = ", ".join(f"{kind} {list(kinds.values()).count(kind)}" for kind in KIND_ORDER)
    print(f"{len(made)} pictures × {options.frames} frames; {counted}", flush=True)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver, ServerProcess(folder) as server:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags())
        page = browser.new_page()
        page.route("**/bench-faces/**", lambda route: route.fulfill(body=served[route.request.url.split("/bench-faces/")[1]]))
        page.goto(server.url + "/")
        print("backends:", page.evaluate(START, [max(options.sizes), not options.no_ssd]), flush=True)
        found, checked, tracked, times = {}, {}, {}, defaultdict(list)
        paths = {check: {} for check in options.checks}
        page_ms, check_ms = defaultdict(list), defaultdict(list)
        page_widths = defaultdict(list)
        for index, scene in enumerate(made):
            urls = [f"/bench-faces/{scene.name}/{frame}.jpg" for frame in range(options.frames)]
            page.evaluate(LOAD, [urls])
            result = page.evaluate(DETECT, [urls, options.sizes])
            found[scene.name] = result["found"]
            checked[scene.name] = page.evaluate(CHECK, [result["found"], options.checks, urls])
            tracked[scene.name] = page.evaluate(TRACK, [checked[scene.name], list(THRESHOLDS)])
            for config, ms in result["ms"].items():
                times[config] += ms
            for check in options.checks:
                walked = page.evaluate(PAGE, [urls, 224, check, options.rounds])
                paths[check][scene.name] = walked["shown"]
                page_ms[check] += walked["ms"]
                page_widths[check] += walked["widths"]
                check_ms[check] += walked["checkMs"]
            if index % 10 == 9:
                print(f"  {index + 1} pictures done", flush=True)
        tuning_report(page, tuning, options.checks, options.rounds)
        browser.close()
    if options.json:
        Path(options.json).write_text(json.dumps({"truths": truths, "kinds": kinds, "found": found}))
    report(options, times, (checked, tracked), truths, kinds, paths, (page_ms, check_ms, page_widths), found)


def report(options, times, detections, truths, kinds, paths, page_costs, checked_raw):
    checked, tracked = detections
    page_ms, check_ms, page_widths = page_costs
    configs = list(times)
    print("\nEach cell: precision · recall · exactly right · frames with a false face (no face: frames with a face). "
          "Recall counts frontal faces; turned aside: the profile faces.")
    for check in options.checks:
        rows = []
        for config in configs:
            for threshold in THRESHOLDS:
                frames = {name: by_check[check][config] for name, by_check in checked.items()}
                rows.append((f"{config} ≥ {threshold}", f"{median(times[config]):.0f} ms", tally(frames, truths, kinds, threshold)))
        table(f"Every detector configuration, check `{check}`, every frame (ms a search: the detector and the landmarks of what it found):", rows)
        rows = []
        for config in configs:
            for threshold in THRESHOLDS:
                frames = {name: by_check[check][config][str(threshold)] for name, by_check in tracked.items()}
                rows.append((f"{config} ≥ {threshold}, tracked", f"{median(times[config]):.0f} ms", tally(frames, truths, kinds, skip=2)))
        table(f"The same with FaceTracker (a frame every 250 ms), check `{check}`, from each picture's third frame on:", rows)
    rows = []
    for check in options.checks:
        repeated = {name: truths[name] * options.rounds for name in truths}
        widths = page_widths[check]
        share = {w: widths.count(w) / len(widths) for w in sorted(set(widths))}
        label = f"page (224 preset), check `{check}`"
        rows.append((label, f"{median(page_ms[check]):.1f} ms", tally(paths[check], repeated, kinds, skip=2)))
        checks = sorted(check_ms[check])
        print(f"{label}: input widths " + ", ".join(f"{w} px {s:.0%}" for w, s in share.items())
              + f"; the check itself: median {median(checks) * 1000:.0f} µs, slowest {checks[-1] * 1000:.0f} µs")
    table("The page's path (FaceInputSizer, engine, FaceTracker): what a viewer sees from the third result on "
          "(half a second), ms a search without landmarks:", rows)
    picture_report(options, paths, truths, kinds)
    landmark_report(checked_raw, truths)


def picture_report(options, paths, truths, kinds):
    """Per picture with a face, the page's path: frames with a false face and frames that miss a marked face."""
    print("\nThe page's path per picture (from the third result on): frames with a false face / frames missing a face\n")
    print("| picture | kind | " + " | ".join(f"`{check}`" for check in options.checks) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in options.checks) + " |")
    for name, kind in kinds.items():
        cells = []
        for check in options.checks:
            frames = list(zip(paths[check][name], truths[name] * options.rounds))[2:]
            scored = [score_frame(faces, marks) for faces, marks in frames]
            false = sum(wrong > 0 for _, _, wrong in scored)
            missing = sum(frontal + profile < len(marks) for (frontal, profile, _), (_, marks) in zip(scored, frames))
            cells.append(f"{false} / {missing}")
        if kind != "no face" or any(cell[0] != "0" for cell in cells):
            print(f"| {name} | {kind} | " + " | ".join(cells) + " |")


def landmark_report(found, truths):
    """Whether the 68 landmarks tell a face from a false one: for right and wrong detections of the tiny
    detector up to 224 px, the spread (5th, 50th, 95th percentile) of what a landmark check would test."""
    measures = {True: defaultdict(list), False: defaultdict(list)}
    for name, configs in found.items():
        for config, frames in configs.items():
            if config.startswith("ssd") or int(config.split()[1]) > 224:
                continue
            for faces, marks in zip(frames, truths[name]):
                for face in faces:
                    if face.get("landmarks"):
                        for key, value in landmark_measures(face).items():
                            measures[any(finds(face, mark) for mark in marks)][key].append(value)
    print("\nThe 68 landmarks of right and wrong detections (tiny ≤ 224 px), 5th / 50th / 95th percentile:\n")
    print("| measure | right | wrong |")
    print("| --- | --- | --- |")
    for key in measures[True]:
        spread = [percentiles(measures[ok][key]) for ok in (True, False)]
        print(f"| {key} | {spread[0]} (of {len(measures[True][key])}) | {spread[1]} (of {len(measures[False][key])}) |")


def percentiles(values):
    """The 5th, 50th and 95th percentile, or a dash for none."""
    ordered = sorted(values)
    return " / ".join(f"{ordered[int(q * (len(ordered) - 1))]:.2f}" for q in (0.05, 0.5, 0.95)) if ordered else "–"


def landmark_measures(face):
    """What a landmark check could test: eye distance over box width, share of points inside the box,
    and whether eyes, nose tip, mouth and chin come in that order from the top."""
    points = face["landmarks"]

    def centre(start, end):
        part = points[start:end]
        return sum(p[0] for p in part) / len(part), sum(p[1] for p in part) / len(part)

    right_eye, left_eye, mouth = centre(36, 42), centre(42, 48), centre(48, 68)
    eyes = ((right_eye[0] - left_eye[0]) ** 2 + ((right_eye[1] - left_eye[1]) * 3 / 4) ** 2) ** 0.5
    inside = sum(face["x"] <= x <= face["x"] + face["width"] and face["y"] <= y <= face["y"] + face["height"] for x, y in points)
    ordered = (right_eye[1] + left_eye[1]) / 2 < points[30][1] < mouth[1] < points[8][1]
    return {"eye distance / box width": eyes / face["width"], "points inside the box": inside / len(points),
            "eyes, nose, mouth, chin in order": float(ordered)}


if __name__ == "__main__":
    main()
