"""What a server process does to itself once its app is built (`python server.py` and
gunicorn's worker alike)."""

import ctypes
import ctypes.util
import gc
import logging
import threading
import time

log = logging.getLogger(__name__)
# How often freed memory is handed back to the system (release_memory).
RELEASE_SECONDS = 60.0


def settle_garbage_collector():
    """Keep the collector's full passes short and rare: each one stops every connection.

    What start-up made (modules, the app) lives as long as the process, so it is frozen
    out of the collector's view, and a full pass walks only what connections made; full
    passes start a hundredth as often as Python's default would start them. Measured
    under signaling load (docs/benchmarks.md, "Signaling load"): the relay's p99 at
    100 rooms of 4 fell from 83-85 ms to 11-23 ms.

    Rare full passes leave closed connections' reference cycles uncollected for long, and
    the C allocator keeps what Python frees: under churn the process grew about 1.5 KB a
    session without end (docs/benchmarks.md, "Soak"). So once a minute a full pass runs
    and the freed memory goes back to the system (release_memory).
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)
    threading.Thread(target=_release_memory_forever, name="release-memory", daemon=True).start()


def release_memory(trim):
    """Collect every generation, then hand the free pages the C allocator holds back to the
    system with `trim` (malloc_trim, or None where the C library has none). Returns its seconds."""
    started = time.perf_counter()
    gc.collect()
    if trim is not None:
        trim(0)
    return time.perf_counter() - started


def malloc_trim():
    """glibc's malloc_trim, or None (another C library)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def _release_memory_forever():
    trim = malloc_trim()
    while True:
        time.sleep(RELEASE_SECONDS)
        log.debug("memory released in %.1f ms", 1000 * release_memory(trim))
