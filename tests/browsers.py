"""Debian's Chromium as a fake-camera peer: flags and camera files (tests and benchmarks)."""

import shutil
import subprocess
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Background tabs of one headless process must not be throttled.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
# (name, ffmpeg lavfi source): small moving pictures, different per person.
CAMERA_SOURCES = {
    "bars": "testsrc2=size=320x240:rate=15",
    "mandel": "mandelbrot=size=320x240:rate=15",
    "life": "life=size=320x240:rate=15:mold=10:ratio=0.3:death_color=#203050:life_color=#f0c040",
}


def make_camera(folder, name, seconds=2):
    """Render one CAMERA_SOURCES picture to `folder/name.y4m` (Chromium loops it)."""
    path = Path(folder) / f"{name}.y4m"
    if not path.exists():
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", CAMERA_SOURCES[name],
             "-t", str(seconds), "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )
    return path


def chromium_flags(camera=None, grant=True, extra=()):
    """Flags for one peer. `camera`: a .y4m file, or None for a machine without devices.
    `grant=False`: nobody answers the permission prompt, so Chromium denies it."""
    flags = [flag for flag in CHROMIUM_FLAGS if (grant or "fake-ui" not in flag) and (camera or "fake" not in flag)]
    if camera:
        flags.append(f"--use-file-for-fake-video-capture={camera}")
    return [*flags, *extra]
