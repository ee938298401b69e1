"""Copy browser libraries and model files from node_modules into static/.

Nothing is fetched: every file comes from an npm package installed by `npm ci`.
A manifest beside the files records which package, version and licence each
came from. Run by `make setup`; safe to run again.
"""

import json
import shutil
import sys
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
NODE_MODULES = ROOT / "node_modules"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"

FACE_MODELS = ["tiny_face_detector_model", "face_landmark_68_tiny_model", "face_expression_model", "ssd_mobilenetv1_model"]
# The module build runs in workers, the classic one on the main thread (the fallback).
TASKS_WASM = [f"vision_wasm{kind}_internal.{ext}" for kind in ("_module", "") for ext in ("js", "wasm")]

JSON_SCHEMA_MODULES = ["index", "deep-compare-strict", "dereference", "format", "pointer", "types", "ucs2-length", "validate", "validator"]

# (npm package, file or folder inside it, destination under static/)
ASSETS = [
    ("socket.io-client", "dist/socket.io.esm.min.js", "vendor/socket.io.esm.min.js"),
    # The browser checks scenes against the same JSON Schema the server uses.
    # Recordings from MediaRecorder carry no duration until this writes it in.
    ("fix-webm-duration", "fix-webm-duration.js", "vendor/fix-webm-duration.js"),
    # The watch page plays a broadcast's HLS with it (the light build: no subtitles, no DRM).
    ("hls.js", "dist/hls.light.min.mjs", "vendor/hls.light.min.mjs"),
    *[("@cfworker/json-schema", f"dist/esm/{name}.js", f"vendor/json-schema/{name}.js") for name in JSON_SCHEMA_MODULES],
    # face-api bundles TensorFlow.js with its WASM backend; the .wasm binaries come from that backend's package.
    ("@vladmandic/face-api", "dist/face-api.esm.js", "vendor/face-api/face-api.esm.js"),
    *[("@tensorflow/tfjs-backend-wasm", f"dist/{name}", f"vendor/tfjs-wasm/{name}")
      for name in ("tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm")],
    *[("@vladmandic/face-api", f"model/{model}{suffix}", f"models/face-api/{model}{suffix}")
      for model in FACE_MODELS for suffix in ("-weights_manifest.json", ".bin")],
    # MediaPipe Tasks: the ES module and its wasm.
    ("@mediapipe/tasks-vision", "vision_bundle.mjs", "vendor/tasks-vision/vision_bundle.mjs"),
    *[("@mediapipe/tasks-vision", f"wasm/{name}", f"vendor/tasks-vision/wasm/{name}") for name in TASKS_WASM],
    # BodyPix runs on the plain TensorFlow.js builds; its weights are a separate, optional download.
    ("@tensorflow/tfjs", "dist/tf.min.js", "vendor/tfjs/tf.min.js"),
    ("@tensorflow/tfjs-backend-wasm", "dist/tf-backend-wasm.min.js", "vendor/tfjs/tf-backend-wasm.min.js"),
    ("@tensorflow-models/body-pix", "dist/body-pix.min.umd.js", "vendor/tfjs/body-pix.min.js"),
]

# The room page's icons: one sprite of <symbol>s, used as <svg><use href="…#name"></svg>.
ICONS = [
    "mic", "mic-off", "video", "video-off", "monitor-up", "monitor-off", "users-round", "message-square",
    "ellipsis-vertical", "phone-off", "settings", "keyboard", "link", "activity", "scan-face", "pin", "pin-off",
    "camera", "circle-dot", "square", "cast", "radio", "braces", "bring-to-front", "send-to-back", "image-up", "x",
    "sliders-horizontal",
]

# Models that need a change before use: (package, file, destination, transform(source, target)).
SELFIE_MODELS = [
    ("@mediapipe/selfie_segmentation", "selfie_segmentation.tflite", "models/selfie/selfie_general.tflite"),
    ("@mediapipe/selfie_segmentation", "selfie_segmentation_landscape.tflite", "models/selfie/selfie_landscape.tflite"),
]


def package_info(package):
    meta = json.loads((NODE_MODULES / package / "package.json").read_text())
    return {"package": package, "version": meta["version"], "license": meta.get("license", "unknown")}


def install(package, source, destination, transform=None):
    source_path = NODE_MODULES / package / source
    target = ROOT / "static" / destination
    if not source_path.exists():
        sys.exit(f"install_assets: {source_path} is missing; run `npm ci` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    entry = {"file": destination, "source": f"{package}/{source}", **package_info(package)}
    if transform is not None:
        transform(source_path, target)
        entry["changed"] = transform.__doc__.strip().splitlines()[0]
    else:
        shutil.copy2(source_path, target)
    return entry


def selfie_metadata(source, target):
    """Input normalisation metadata (mean 0, std 255) and the label "person" added (tools/selfie_metadata.py)."""
    from selfie_metadata import add_metadata

    add_metadata(source, target)


def icon_sprite(source, target):
    """The icons the page uses, each a <symbol> with the drawing attributes of its own file."""
    symbols = []
    for name in ICONS:
        svg = ElementTree.parse(source / f"{name}.svg").getroot()
        symbol = ElementTree.Element("symbol", {"id": name, "viewBox": svg.get("viewBox", "0 0 24 24")})
        for attribute in ("fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin"):
            if svg.get(attribute) is not None:
                symbol.set(attribute, svg.get(attribute))
        for child in svg:
            child.tail = None
            symbol.append(child)
        symbols.append(symbol)
    ElementTree.register_namespace("", SVG_NAMESPACE)
    sprite = ElementTree.Element(f"{{{SVG_NAMESPACE}}}svg")
    sprite.extend(symbols)
    target.write_bytes(ElementTree.tostring(sprite))


def main():
    installed = [install(*asset) for asset in ASSETS]
    installed += [install(*model, transform=selfie_metadata) for model in SELFIE_MODELS]
    installed.append(install("lucide-static", "icons", "vendor/icons.svg", transform=icon_sprite))
    manifests = {}
    for entry in installed:
        manifests.setdefault(entry["file"].split("/")[0], []).append(entry)
    for folder, entries in sorted(manifests.items()):
        (ROOT / "static" / folder / "manifest.json").write_text(json.dumps(entries, indent=2) + "\n")
    print(f"install_assets: {len(installed)} assets in static/")


if __name__ == "__main__":
    main()
