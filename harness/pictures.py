"""Pictures the project did not choose: sample pictures shipped by packages of the Python registry.

Each comes out of one pinned wheel (downloaded once with pip into PICTURES_CACHE, never
installed) and is checked against its SHA-256, so the marks in tests/data/face-marks.json
(faces marked by hand) keep pointing at the same pixels. Licences, as scikit-image's
skimage/data/_fetchers.py gives them: astronaut and hubble_deep_field (NASA), rocket (SpaceX)
and text are public domain; camera, chelsea, coffee, horse, brick, grass and gravel are CC0;
coins has no known copyright restrictions. matplotlib's grace_hopper is a U.S. Navy photograph
(public domain). Pictures without a stated licence (moon, page, logo) are left out.
"""

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps

ROOT = Path(__file__).resolve().parent.parent
PICTURES_CACHE = ROOT / ".cache/pictures"
FACE_MARKS = ROOT / "tests/data/face-marks.json"
# The wheels are CPython 3.11 builds for x86-64 Linux whatever runs this: only their data is used.
WHEEL_TAGS = ["--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
              "--platform", "manylinux_2_17_x86_64"]
PACKAGES = {"scikit-image": "0.26.0", "matplotlib": "3.11.2"}
CAMERA = (640, 480)
GREY = (118, 118, 118)

# name: (package, file inside its wheel, SHA-256 of that file)
PICTURES = {
    "astronaut": ("scikit-image", "skimage/data/astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    "camera": ("scikit-image", "skimage/data/camera.png", "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"),
    "grace_hopper": ("matplotlib", "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
                     "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130"),
    "chelsea": ("scikit-image", "skimage/data/chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    "coffee": ("scikit-image", "skimage/data/coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    "rocket": ("scikit-image", "skimage/data/rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c"),
    "horse": ("scikit-image", "skimage/data/horse.png", "c7fb60789fe394c485f842291ea3b21e50d140f39d6dcb5fb9917cc178225455"),
    "coins": ("scikit-image", "skimage/data/coins.png", "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba"),
    "brick": ("scikit-image", "skimage/data/brick.png", "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf"),
    "grass": ("scikit-image", "skimage/data/grass.png", "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89"),
    "gravel": ("scikit-image", "skimage/data/gravel.png", "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12"),
    "hubble": ("scikit-image", "skimage/data/hubble_deep_field.jpg", "3a19c5dd8a927a9334bb1229a6d63711b1c0c767fb27e2286e7c84a3e2c2f5f4"),
    "text": ("scikit-image", "skimage/data/text.png", "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1"),
}


class PictureUnavailable(RuntimeError):
    """The wheel could not be fetched, or the file in it is not the one the marks were made on."""


def picture_path(name):
    """The picture's file in the cache, fetched from its wheel on first use."""
    package, member, digest = PICTURES[name]
    path = PICTURES_CACHE / name / Path(member).name
    if path.exists() and _sha256(path.read_bytes()) == digest:
        return path
    data = _member(_wheel(package), member)
    if _sha256(data) != digest:
        raise PictureUnavailable(f"{member} in {package} {PACKAGES[package]} is not the picture the marks were made on")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def picture(name):
    """The picture as RGB, transparency flattened on white."""
    image = Image.open(picture_path(name))
    if image.mode in ("RGBA", "LA", "P"):
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return flat
    return image.convert("RGB")


def face_marks():
    """{picture name: [{"box": [x, y, width, height], "pose": ...}]}, as marked by hand."""
    return {name: entry["faces"] for name, entry in json.loads(FACE_MARKS.read_text())["pictures"].items()}


def on_camera(image, marks, scale=1.0, mirror=False, light=1.0):
    """`image` as a 640 × 480 camera shows it: as tall as the frame times `scale`, centred on grey,
    maybe mirrored or lit differently. Returns the frame and its marked faces as
    (x, y, width, height, pose) in fractions of the frame."""
    frame = Image.new("RGB", CAMERA, GREY)
    height = CAMERA[1] * scale
    width = image.width * height / image.height
    faces = place(frame, image, marks, ((CAMERA[0] - width) / 2, (CAMERA[1] - height) / 2, width, height), mirror)
    if light != 1:
        frame = ImageEnhance.Brightness(frame).enhance(light)
    return frame, faces


def place(canvas, image, marks, into, mirror=False):
    """Paste `image` scaled into `into` (x, y, width, height in pixels) on `canvas`; `marks` (face_marks'
    entries for `image`) come back as (x, y, width, height, pose) in fractions of the canvas."""
    x, y, width, height = into
    scaled = image.resize((round(width), round(height)), Image.Resampling.BILINEAR)
    canvas.paste(ImageOps.mirror(scaled) if mirror else scaled, (round(x), round(y)))
    sx, sy = width / image.width, height / image.height
    placed = []
    for mark in marks:
        fx, fy, fw, fh = mark["box"]
        left = width - (fx + fw) * sx if mirror else fx * sx
        placed.append(((x + left) / canvas.width, (y + fy * sy) / canvas.height, fw * sx / canvas.width, fh * sy / canvas.height, mark["pose"]))
    return placed


def finds(detection, mark):
    """Whether a detection (x, y, width, height in fractions of the frame) is the marked face (as `on_camera`
    gives it): its box holds the face's centre and its centre lies in the face's box."""
    fx, fy, fw, fh, _ = mark
    x, y, width, height = detection["x"], detection["y"], detection["width"], detection["height"]
    holds = x <= fx + fw / 2 <= x + width and y <= fy + fh / 2 <= y + height
    return holds and fx <= x + width / 2 <= fx + fw and fy <= y + height / 2 <= fy + fh


def _wheel(package):
    folder = PICTURES_CACHE / "wheels"
    version = PACKAGES[package]
    prefix = f"{package.replace('-', '_')}-{version}-"
    found = [path for path in folder.glob("*.whl") if path.name.startswith(prefix)] if folder.exists() else []
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                   "--only-binary=:all:", *WHEEL_TAGS, "--dest", str(folder), f"{package}=={version}"]
        done = subprocess.run(command, capture_output=True, text=True)
        found = [path for path in folder.glob("*.whl") if path.name.startswith(prefix)]
        if done.returncode or not found:
            raise PictureUnavailable(f"pip could not download {package}=={version}: {done.stderr.strip()[-300:]}")
    return found[0]


def _member(wheel, member):
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def _sha256(data):
    return hashlib.sha256(data).hexdigest()
