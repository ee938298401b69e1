"""Real headless Chromium (Debian's, driven by Playwright) with fake cameras from .y4m files."""

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from harness.browsers import CAMERA_SOURCES, CHROMIUM, chromium_flags, make_camera
from harness.servers import ROOT, ServerProcess

ARTIFACTS = ROOT / "test-artifacts"


class PageErrors:
    """Uncaught errors of every page of every browser launched through the `chromium` fixture.

    Playwright's `weberror` is `pageerror` for a whole browser context; in Chromium
    it includes unhandled promise rejections (test_home.py checks that it does).
    Errors inside Web Workers reach neither: the analysis worker posts its failures
    back to the page, where they must be handled.
    """

    def __init__(self):
        self._browsers = []
        self._errors = []

    def watch(self, browser):
        self._browsers.append(browser)
        browser.on("context", lambda context: context.on("weberror", self._record))
        return browser

    def _record(self, error):
        self._errors.append(f"{error.page.url if error.page else 'a page'}: {error.error}")

    def take(self):
        """The errors reported since the last call, once the browsers' reports so far have come in."""
        self._browsers = [browser for browser in self._browsers if browser.is_connected()]
        for context in (context for browser in self._browsers for context in browser.contexts):
            try:
                context.cookies()  # a round trip to the browser delivers the events sent before it
            except PlaywrightError:
                pass  # closed meanwhile: whatever it reported has come in
        taken, self._errors = self._errors, []
        return taken


@pytest.fixture(scope="session")
def cameras(tmp_path_factory):
    """One .y4m fake camera per source, 2 s long (Chromium loops it)."""
    folder = tmp_path_factory.mktemp("cameras")
    return {name: make_camera(folder, name) for name in CAMERA_SOURCES}


@pytest.fixture(scope="session")
def playwright_driver():
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def watched_page_errors():
    return PageErrors()


@pytest.fixture(scope="session")
def chromium(playwright_driver, watched_page_errors):
    """Launch Debian's Chromium with `flags`; every page it opens fails the test on an uncaught error."""

    def launch_chromium(flags):
        return watched_page_errors.watch(playwright_driver.chromium.launch(executable_path=CHROMIUM, args=flags))

    return launch_chromium


@pytest.fixture(autouse=True)
def page_errors(watched_page_errors):
    """Uncaught errors and unhandled rejections of the pages while this test ran; asserted empty after it.

    What pages reported between tests (a module's fixtures) counts for the next test.
    """
    errors = watched_page_errors.take()
    yield errors
    errors += watched_page_errors.take()
    assert errors == []


@pytest.fixture
def launch(chromium, cameras):
    """Start one Chromium process per person, each with its own fake camera."""
    browsers = []

    def start(camera="bars", grant=True, devices=True):
        """`grant=False`: nobody answers the permission prompt, so Chromium denies it.
        `devices=False`: a machine without camera or microphone."""
        browser = chromium(chromium_flags(cameras[camera] if devices else None, grant=grant))
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    process = ServerProcess(folder, async_mode="gevent", mesh_max=3, upload_folder=folder / "uploads")
    with process:
        yield process
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def open_page(launch):
    def open_(url, camera="bars", **launch_options):
        page = launch(camera, **launch_options).new_page(viewport={"width": 1280, "height": 800})
        page.goto(url)
        return page

    return open_


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
