"""gunicorn settings for serving Ensemble in production (see docs/deployment.md).

    PORT=5001 .venv/bin/gunicorn -c config/gunicorn.conf.py

One process serves one port with exactly one gevent worker: Flask-SocketIO keeps
each Socket.IO connection inside the worker that accepted it, so a site that needs
more processes runs this command once per port (all with the same REDIS_URL) and
lets nginx spread the connections over them. Where it listens, how it logs and
everything else come from the same settings as `python server.py` (the
environment, `.env`, config/defaults.env).
"""

import importlib.util
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ensemble_module(name):
    """One module of the ensemble package loaded on its own (it must import nothing of
    the package). Importing the package here would load Flask, Socket.IO and Redis
    into gunicorn's master, before gevent patches the standard library in the worker."""
    spec = importlib.util.spec_from_file_location(f"_ensemble_{name}", ROOT / "ensemble" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _load_settings():
    settings_module = _ensemble_module("settings")
    try:
        settings = settings_module.load_settings()
    except settings_module.SettingsError as error:
        sys.exit(f"ensemble: {error}")
    if settings.async_mode != "gevent":
        sys.exit(f"ensemble: gunicorn serves Ensemble with its gevent worker: set ASYNC_MODE=gevent, not {settings.async_mode}")
    return settings


_settings = _load_settings()
_logs = _ensemble_module("logs")

wsgi_app = "server:create_app()"
chdir = str(ROOT)
bind = [f"{_settings.host}:{_settings.port}"]
worker_class = "gevent"
workers = 1  # never more: see above
# How long the worker may go without a heartbeat, not how long a request may take:
# a websocket stays open for as long as someone is in a room.
timeout = 30
# On stop or restart, open websockets would hold the worker for all of this; pages
# reconnect by themselves, so let them go soon.
graceful_timeout = 5
# One request per connection: nginx opens a new one for each (it sends `Connection:
# close` to the processes). Kept alive, a connection whose websocket was cut short at
# shutdown would be read again for a next request while the websocket's reader still
# holds it, and gunicorn would log a traceback for it.
keepalive = 0
proc_name = f"ensemble:{_settings.port}"
# gunicornc's control socket is one path per user by default: several processes
# would fight over it.
control_socket_disable = True

# gunicorn's own lines and the app's go to stderr as LOG_FORMAT says (text or JSON).
# No access log (nginx keeps one); `--access-logfile -` turns gunicorn's on.
loglevel = _settings.log_level.lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"ensemble": {"()": _logs.JsonFormatter if _settings.log_format == "json" else _logs.TextFormatter}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "ensemble", "stream": "ext://sys.stderr"}},
    "root": {"level": _settings.log_level, "handlers": ["stderr"]},
    "loggers": {"gunicorn.error": {"level": _settings.log_level, "handlers": [], "propagate": True}},
}
# Not in the dictionary above, so that `--access-logfile` keeps its handler; without
# one, access lines go nowhere rather than up to the root logger.
logging.getLogger("gunicorn.access").propagate = False


def post_fork(server, worker):
    """An app that cannot start (Redis unreachable, a bad setting) stops gunicorn with
    one line saying why, as `python server.py` does. Left to gunicorn, the exception
    would come with a traceback, and a SystemExit would have the worker forked again
    to fail again, forever."""
    load = worker.load_wsgi

    def load_or_stop():
        # Runs in the worker once gevent has patched it: the package may be imported now.
        from ensemble.rooms.redis import StoreUnreachable
        from ensemble.settings import SettingsError

        try:
            load()
        except (StoreUnreachable, SettingsError) as error:
            _stop(server, str(error))
        except SystemExit as stop:
            if stop.code not in (None, 0):
                _stop(server, stop.code if isinstance(stop.code, str) else f"ensemble: the app exited with {stop.code}")
            raise

    worker.load_wsgi = load_or_stop


def post_worker_init(worker):
    """The app is built: what every server process does then (ensemble/process.py)."""
    from ensemble.process import settle_garbage_collector

    settle_garbage_collector()


def _stop(server, reason):
    logging.getLogger("ensemble").error("%s", reason)
    sys.exit(server.WORKER_BOOT_ERROR)  # gunicorn's "worker failed to boot": the master stops too
