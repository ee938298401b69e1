"""Real headless Chromium (Debian's, driven by Playwright) with fake cameras from .y4m files."""

import pytest
from playwright.sync_api import sync_playwright

from tests.browsers import CAMERA_SOURCES, CHROMIUM, chromium_flags, make_camera
from tests.servers import ROOT, ServerProcess

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def cameras(tmp_path_factory):
    """One .y4m fake camera per source, 2 s long (Chromium loops it)."""
    folder = tmp_path_factory.mktemp("cameras")
    return {name: make_camera(folder, name) for name in CAMERA_SOURCES}


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
        flags = chromium_flags(cameras[camera] if devices else None, grant=grant)
        browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=flags)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    process = ServerProcess(folder, async_mode="gevent", max_peers_per_room=3, upload_folder=folder / "uploads")
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
