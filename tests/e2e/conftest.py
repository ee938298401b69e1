"""Real headless Chromium (Debian's, driven by Playwright) with fake cameras from .y4m files."""

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.servers import ROOT, ServerProcess

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
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

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items):
    if not Path(CHROMIUM).exists():
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} is missing: `make test` installs it"))


@pytest.fixture(scope="session")
def cameras(tmp_path_factory):
    """One .y4m fake camera per source, 2 s long (Chromium loops it)."""
    folder = tmp_path_factory.mktemp("cameras")
    made = {}
    for name, source in CAMERA_SOURCES.items():
        path = folder / f"{name}.y4m"
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", source, "-t", "2", "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )
        made[name] = path
    return made


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def launch(playwright_driver, cameras):
    """Start one Chromium process per person, each with its own fake camera."""
    browsers = []

    def start(camera="bars", grant=True, devices=True):
        """`grant=False`: nobody answers the permission prompt, so Chromium denies it.
        `devices=False`: a machine without camera or microphone."""
        flags = [flag for flag in CHROMIUM_FLAGS if (grant or "fake-ui" not in flag) and (devices or "fake" not in flag)]
        if devices:
            flags.append(f"--use-file-for-fake-video-capture={cameras[camera]}")
        browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=flags)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("logs"), async_mode="gevent", max_peers_per_room=3)
    with process:
        yield process
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def page_errors():
    """Uncaught errors of every page opened through `open_page`; asserted empty after the test."""
    errors = []
    yield errors
    assert errors == []


@pytest.fixture
def open_page(launch, page_errors):
    def open_(url, camera="bars", **launch_options):
        page = launch(camera, **launch_options).new_page(viewport={"width": 1280, "height": 800})
        page.on("pageerror", lambda error: page_errors.append(f"{url}: {error}"))
        page.goto(url)
        return page

    return open_


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
