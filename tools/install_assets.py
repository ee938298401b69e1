"""Copy browser libraries and model files from node_modules into static/.

Nothing is fetched: every file comes from an npm package installed by `npm ci`.
A manifest beside the files records which package, version and licence each
came from. Run by `make setup`; safe to run again.
"""

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"

# (npm package, file or folder inside it, destination under static/)
ASSETS = [
    ("socket.io-client", "dist/socket.io.esm.min.js", "vendor/socket.io.esm.min.js"),
]


def package_info(package):
    meta = json.loads((NODE_MODULES / package / "package.json").read_text())
    return {"package": package, "version": meta["version"], "license": meta.get("license", "unknown")}


def install(package, source, destination):
    source_path = NODE_MODULES / package / source
    target = ROOT / "static" / destination
    if not source_path.exists():
        sys.exit(f"install_assets: {source_path} is missing; run `npm ci` first")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source_path.is_dir():
        shutil.copytree(source_path, target, dirs_exist_ok=True)
    else:
        shutil.copy2(source_path, target)
    return {"file": destination, "source": f"{package}/{source}", **package_info(package)}


def main():
    installed = [install(*asset) for asset in ASSETS]
    manifests = {}
    for entry in installed:
        manifests.setdefault(entry["file"].split("/")[0], []).append(entry)
    for folder, entries in manifests.items():
        (ROOT / "static" / folder / "manifest.json").write_text(json.dumps(entries, indent=2) + "\n")
    print(f"install_assets: {len(installed)} assets in static/")


if __name__ == "__main__":
    main()
