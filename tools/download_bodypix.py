"""Download the BodyPix weights (MobileNet 0.50, stride 16, float) into static/models/bodypix/.

    make bodypix

They are in no package registry, so this is the one step that needs the wider
internet; run it once while online. Without them the app uses MediaPipe
selfie segmentation and says so.
"""

import json
import sys
import urllib.request
from pathlib import Path

BASE = "https://storage.googleapis.com/tfjs-models/savedmodel/bodypix/mobilenet/float/050/"
TARGET = Path(__file__).resolve().parent.parent / "static" / "models" / "bodypix"


def fetch(name):
    with urllib.request.urlopen(BASE + name, timeout=60) as response:
        return response.read()


def main():
    TARGET.mkdir(parents=True, exist_ok=True)
    try:
        graph = fetch("model-stride16.json")
        shards = [path for group in json.loads(graph)["weightsManifest"] for path in group["paths"]]
        for shard in shards:
            (TARGET / shard).write_bytes(fetch(shard))
    except OSError as error:
        sys.exit(f"download_bodypix: could not download the weights ({error}); the app keeps using selfie segmentation")
    (TARGET / "model-stride16.json").write_bytes(graph)  # written last: its presence means complete
    print(f"download_bodypix: {len(shards)} weight file(s) and the model graph in {TARGET}")


if __name__ == "__main__":
    main()
