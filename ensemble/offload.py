"""Running CPU-bound work (a room password's PBKDF2, decoding an uploaded picture) in a real OS thread, so that the
event loop of gevent or eventlet goes on serving every other connection meanwhile.

hashlib's PBKDF2 and Pillow's decoders let go of the GIL while they work, so the loop's own thread runs
beside it. Under threading each connection has a thread of its own already.
"""

# Hashing threads under gevent: about one per core keeps the loop's thread a core of its own.
GEVENT_THREADS = 2


def os_thread_runner(async_mode, threads=GEVENT_THREADS):
    """`run(function, *args)`: the function's result, computed without blocking the loop
    (under gevent in a pool of `threads` of its own; eventlet's tpool is shared)."""
    if async_mode == "gevent":
        from gevent.threadpool import ThreadPool

        pool = ThreadPool(threads)
        return lambda function, *args: pool.apply(function, args)
    if async_mode == "eventlet":
        from eventlet import tpool

        return tpool.execute
    return _directly


def _directly(function, *args):
    return function(*args)
