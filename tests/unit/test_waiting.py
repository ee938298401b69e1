"""`eventually`, the one wait on a condition the Python tests share (tests/waiting.py)."""

import time

import pytest

from tests.waiting import eventually


def test_eventually_returns_the_first_true_answer_once_it_comes():
    answers = iter([None, 0, [], "ready"])
    assert eventually(lambda: next(answers), every=0.001) == "ready"


def test_eventually_retries_a_check_that_raises_and_raises_its_last_failure_at_the_deadline():
    tries = []

    def failing():
        tries.append(1)
        raise KeyError(len(tries))

    with pytest.raises(KeyError):
        eventually(failing, timeout=0.05, every=0.001)
    assert len(tries) > 1


def test_eventually_names_what_did_not_happen_and_gives_up_at_its_timeout():
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"not within 0.1 s: the lock ended"):
        eventually(lambda: False, timeout=0.1, every=0.01, what="the lock ended")
    assert 0.1 <= time.monotonic() - started < 1.0
