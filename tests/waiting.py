"""Waiting on a condition, for the Python tests: one helper instead of a loop per file.
(The browser tests wait with Playwright's `page.wait_for_function`: tests/e2e/helpers.py.)"""

import time


def eventually(check, timeout=5.0, every=0.05, what=None):
    """Ask `check()` every `every` seconds until it answers something true, and return that.
    A check that raises is asked again; at the deadline its last exception is raised, or an
    AssertionError naming `what` (or the check) if it only answered false."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            answer = check()
        except Exception:
            if time.monotonic() >= deadline:
                raise
        else:
            if answer:
                return answer
            if time.monotonic() >= deadline:
                raise AssertionError(f"not within {timeout} s: {what or check}")
        time.sleep(every)
