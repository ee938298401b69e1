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
    # For rooms where every browser runs on this machine: a quarter of the pixels to encode and decode.
    "small": "testsrc2=size=160x120:rate=10",
}


# The face-api demo photos, looked at by hand: how many faces each shows and
# where their centres are (fractions of width and height, read off a grid).
DEMO_PHOTOS = Path(__file__).resolve().parent.parent / "node_modules/@vladmandic/face-api/demo"
PHOTO_FACES = {
    # three women at a party, the middle one looking down
    "sample1": [(0.25, 0.36), (0.49, 0.43), (0.82, 0.27)],
    # three women on a sofa; the left one in profile, the other two looking down
    "sample2": [(0.24, 0.24), (0.50, 0.24), (0.80, 0.20)],
    # three women on a leather sofa, all facing the camera
    "sample3": [(0.36, 0.36), (0.62, 0.24), (0.83, 0.31)],
    # four women standing in a row, arms around each other
    "sample4": [(0.16, 0.23), (0.38, 0.13), (0.57, 0.20), (0.71, 0.18)],
    # five women on a staircase, one in front at the bottom left
    "sample5": [(0.45, 0.16), (0.63, 0.21), (0.35, 0.39), (0.78, 0.38), (0.24, 0.72)],
    # four women standing by a window
    "sample6": [(0.20, 0.37), (0.39, 0.30), (0.65, 0.29), (0.83, 0.27)],
}


# One person close to the camera, as a webcam shows them: a 4:3 crop of a demo
# photo (x, y, width, height in the 1920 px original) and, read by hand off the
# crop, the centre of the face (fractions of width and height).
CLOSE_UPS = {
    # sample1's left woman: clown make-up, black bow, looking into the camera
    "sample1-left": ("sample1", (135, 180, 720, 540), (0.53, 0.55)),
    # sample1's right woman: laughing, head tilted to her right
    "sample1-right": ("sample1", (1200, 90, 720, 540), (0.52, 0.44)),
    # sample3's middle woman: smiling, turned a little to her left
    "sample3-middle": ("sample3", (780, 30, 720, 540), (0.59, 0.60)),
}


def framed_photo(photo):
    """A demo photo or close-up (CLOSE_UPS) as ffmpeg input: (file, filter making it 640 px wide)."""
    if photo in CLOSE_UPS:
        original, (x, y, width, height), _ = CLOSE_UPS[photo]
        return DEMO_PHOTOS / f"{original}.jpg", f"crop={width}:{height}:{x}:{y},scale=640:-2"
    return DEMO_PHOTOS / f"{photo}.jpg", "scale=640:-2"


def make_photo_camera(folder, photo):
    """A still photo or close-up as a fake camera: 640 px wide, 10 fps, 1 s (looped by Chromium)."""
    path = Path(folder) / f"{photo}.y4m"
    if not path.exists():
        source, framing = framed_photo(photo)
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-loop", "1", "-i", str(source),
             "-vf", f"{framing},format=yuv420p", "-r", "10", "-t", "1", str(path)],
            check=True,
        )
    return path


def make_still_camera(folder, name, frame):
    """A Pillow picture (640 × 480) as a fake camera, `folder/name.y4m`: 10 fps, 1 s (looped by Chromium)."""
    path = Path(folder) / f"{name}.y4m"
    if not path.exists():
        still = Path(folder) / f"{name}.png"
        frame.save(still)
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-loop", "1", "-i", str(still),
             "-vf", "format=yuv420p", "-r", "10", "-t", "1", str(path)],
            check=True,
        )
    return path


def make_slideshow_camera(folder, photos, seconds):
    """Photos or close-ups shown in turn for `seconds` each, 640x480 (a group photo is
    letterboxed), 10 fps, as one fake camera (looped by Chromium)."""
    path = Path(folder) / f"{'+'.join(photos)}-{seconds}s.y4m"
    if not path.exists():
        inputs, chains = [], []
        for index, photo in enumerate(photos):
            source, framing = framed_photo(photo)
            inputs += ["-loop", "1", "-t", str(seconds), "-framerate", "10", "-i", str(source)]
            chains.append(f"[{index}]{framing},pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1[v{index}]")
        joined = "".join(f"[v{index}]" for index in range(len(photos)))
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", *inputs, "-filter_complex",
             ";".join(chains) + f";{joined}concat=n={len(photos)}:v=1,format=yuv420p", "-r", "10", str(path)],
            check=True,
        )
    return path


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


# A person moving across the picture, for alignment: a close-up (360×270) slides left and
# right over a plain backdrop, its left edge at MOVING_X(n) px of 640 in frame n, one
# swing every MOVING_PERIOD frames at 15 fps; the frame's number (n mod the period) is
# written into six 32 px squares at the bottom left (MOVING_CODE), white for a 1 bit.
MOVING_PERIOD = 60
MOVING_CODE = {"x": 8, "y": 440, "step": 40, "size": 32, "bits": 6}


def moving_x(frame):
    """Where the moving close-up's left edge is in the frame numbered `frame` (px of 640).

    ffmpeg's overlay places frame n where its x expression has n + 1 (measured on the .y4m:
    the edge follows the expression at n + 1 within 0.5 px, at n it is off by up to 14 px)."""
    import math

    return 140 + 130 * math.sin(2 * math.pi * (frame + 1) / MOVING_PERIOD)


def make_moving_camera(folder, photo="sample1-left"):
    """A CLOSE_UPS person sliding across a 640×480 picture with its frame numbers written in (see MOVING_CODE)."""
    path = Path(folder) / f"moving-{photo}.y4m"
    if not path.exists():
        source, framing = framed_photo(photo)
        code = MOVING_CODE
        boxes = ",".join(
            f"drawbox=x={code['x'] + code['step'] * bit}:y={code['y']}:w={code['size']}:h={code['size']}:color=white:t=fill"
            f":enable='eq(mod(floor(mod(n\\,{MOVING_PERIOD})/{2 ** bit})\\,2)\\,1)'"
            for bit in range(code["bits"])
        )
        graph = (
            f"color=c=0x3a4048:s=640x480:r=15:d={MOVING_PERIOD / 15}[bg];"
            f"[0]{framing},scale=360:270,setsar=1[person];"
            f"[bg][person]overlay=x='140+130*sin(2*PI*n/{MOVING_PERIOD})':y=150:eval=frame:shortest=1,{boxes},format=yuv420p"
        )
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-loop", "1", "-framerate", "15", "-i", str(source),
             "-filter_complex", graph, "-frames:v", str(MOVING_PERIOD), "-r", "15", str(path)],
            check=True,
        )
    return path
