"""The suite's own report: how long each test file took, at the end of every run."""

import re
import subprocess
import sys


def run_pytest(*args):
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, finished.stdout[-3000:]
    return finished.stdout


def test_the_run_ends_with_the_seconds_each_file_took():
    out = run_pytest("tests/unit/test_guard.py", "tests/unit/test_protocol.py", "-q")
    section = out.split("seconds per test file")[1]
    lines = re.findall(r"^\s*([\d.]+) s\s+(\S+)$", section, re.MULTILINE)
    assert [path for _, path in lines] and sorted(path for _, path in lines) == ["tests/unit/test_guard.py", "tests/unit/test_protocol.py"], out
    seconds = [float(value) for value, _ in lines]
    assert seconds == sorted(seconds, reverse=True), out  # the slowest first
