"""Run Ensemble: `python server.py`, or `flask --app server run` (threaded, for development).

Settings come from the environment, `.env` and config/defaults.env; see the README.
"""

import os
import sys


def _patch_standard_library(mode):
    """gevent and eventlet must patch sockets and threads before anything imports them."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()


def _async_mode_before_imports():
    # Read without python-dotenv, which imports logging (and so threading) too early.
    mode = os.environ.get("ASYNC_MODE")
    for path in (".env", "config/defaults.env"):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), path)
        if mode or not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as lines:
            found = [line.split("=", 1)[1].strip() for line in lines if line.startswith("ASYNC_MODE=")]
        mode = found[-1] if found else None
    return mode


def main():
    _patch_standard_library(_async_mode_before_imports())

    import logging

    from ensemble import create_app
    from ensemble.logs import setup_logging
    from ensemble.process import settle_garbage_collector
    from ensemble.rooms.redis import StoreUnreachable
    from ensemble.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"ensemble: {error}")
    setup_logging(settings)
    try:
        app = create_app(settings)
    except StoreUnreachable as error:
        sys.exit(f"ensemble: {error}")
    settle_garbage_collector()
    logging.getLogger("ensemble").info(
        "serving on http://%s:%d (%s, rooms %s)", settings.host, settings.port, settings.async_mode,
        "in Redis" if settings.redis_url else "in memory",
    )
    app.extensions["socketio"].run(
        app, host=settings.host, port=settings.port, allow_unsafe_werkzeug=True, log_output=False
    )


if __name__ == "__main__":
    main()
else:
    from ensemble import create_app  # noqa: F401  (`flask --app server run` calls it)
