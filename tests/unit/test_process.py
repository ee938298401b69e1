"""What a server process does to itself: freed memory handed back to the system."""

import gc

from ensemble.process import malloc_trim, release_memory


class Cycle:
    def __init__(self):
        self.me = self


def test_release_memory_collects_cycles_and_trims():
    trimmed = []
    gc.disable()  # nothing else may collect meanwhile
    try:
        for _ in range(1000):
            Cycle()
        assert sum(isinstance(thing, Cycle) for thing in gc.get_objects()) >= 1000
        seconds = release_memory(trimmed.append)
    finally:
        gc.enable()
    assert sum(isinstance(thing, Cycle) for thing in gc.get_objects()) == 0
    assert trimmed == [0] and seconds >= 0


def test_glibc_has_malloc_trim_and_without_it_only_the_collection_runs():
    assert malloc_trim() is not None  # Debian's glibc
    assert release_memory(None) >= 0
