"""Run Ensemble: `python server.py`, or `flask --app server run` (threaded, for development).

Settings come from the environment, `.env` and config/defaults.env; see the README.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _patch_standard_library(mode):
    """gevent and eventlet must patch sockets and threads before anything imports them."""
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()


def async_mode_before_imports(root=HERE):
    """ASYNC_MODE from the environment, else `.env`, else config/defaults.env, as ensemble.settings
    reads it, with the same parser. python-dotenv imports logging and threading before the
    patching; that is safe: gevent's patch_all and eventlet's monkey_patch green the locks
    logging made (checked: `logging._lock` is the patched RLock after either), and no thread is
    running yet. Sockets, ssl and the rest are imported only after it."""
    from dotenv import dotenv_values

    mode = os.environ.get("ASYNC_MODE")
    for name in (".env", "config/defaults.env"):
        mode = mode or dotenv_values(root / name).get("ASYNC_MODE")
    return mode


def _run_options(settings):
    """How Flask-SocketIO's `run` serves: under threading that is Werkzeug's development server
    (as `flask run`), allowed and said so in the log; gevent and eventlet serve with their own."""
    if settings.async_mode != "threading":
        return {}
    import logging

    logging.getLogger("ensemble").warning(
        "ASYNC_MODE=threading serves with Werkzeug's development server: for development only "
        "(production: gevent, the default, behind config/gunicorn.conf.py)"
    )
    return {"allow_unsafe_werkzeug": True}


def main():
    _patch_standard_library(async_mode_before_imports())

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
    app.extensions["socketio"].run(app, host=settings.host, port=settings.port, log_output=False, **_run_options(settings))


if __name__ == "__main__":
    main()
else:
    from ensemble import create_app  # noqa: F401  (`flask --app server run` calls it)
