"""What wraps the app on its way to the WSGI server: the client's address and scheme
from trusted proxies, the origins allowed to open a Socket.IO connection, and the end
of a TCP connection when its WebSocket ends."""

import logging
import os
import socket

from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)


def behind_proxies(app, hops):
    """`hops` proxies (nginx: 1) set X-Forwarded-For and X-Forwarded-Proto: the client's address
    is the one the outermost of them saw, and no header is believed with 0."""
    if hops == 0:
        return ForwardedUnbelieved(app)
    return ProxyFix(app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


class ForwardedUnbelieved:
    """With TRUSTED_PROXY_HOPS=0: says once in the log when a request carries X-Forwarded-For.
    Behind nginx that means every client is nginx's address, so one client reaching a
    per-address limit shuts out the whole site."""

    def __init__(self, app):
        self._app = app
        self._warned = False

    def __call__(self, environ, start_response):
        if not self._warned and "HTTP_X_FORWARDED_FOR" in environ:
            self._warned = True
            log.warning(
                "a request carries X-Forwarded-For but TRUSTED_PROXY_HOPS=0: every client counts as the proxy's address %s; "
                "behind one proxy (nginx) set TRUSTED_PROXY_HOPS=1",
                environ.get("REMOTE_ADDR", "?"),
            )
        return self._app(environ, start_response)


def origin_check(allowed):
    """python-engineio's `cors_allowed_origins`: the page's own origin (the scheme and Host
    the request came with), and each of ALLOWED_ORIGINS; `*` allows every origin."""
    if "*" in allowed:
        return "*"
    allowed = set(allowed)

    def is_allowed(origin, environ):
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in allowed

    return is_allowed


class ClosingWebSockets:
    """Ends the TCP connection when a WebSocket on it ends.

    simple-websocket (gevent, threading) hands the socket back to the WSGI server when the
    WebSocket closes, and the server reads the next bytes as an HTTP request: a client's
    closing frame (logged as `Invalid HTTP method`), or a request its proxy never saw.
    Upgraded connections whose app never called start_response (the WebSocket answered
    the handshake itself) are shut down here, both ways, whoever still holds the socket.
    """

    def __init__(self, app):
        self._app = app

    def __call__(self, environ, start_response):
        if environ.get("HTTP_UPGRADE", "").lower() != "websocket":
            return self._app(environ, start_response)
        answered = []

        def start_and_note(*args):
            answered.append(True)
            return start_response(*args)

        try:
            return self._app(environ, start_and_note)
        finally:
            if not answered:
                _shut_down(environ)


def _raw_socket(environ):
    """The client's socket under each server Ensemble runs on (as simple-websocket finds it)."""
    if "werkzeug.socket" in environ:
        return environ["werkzeug.socket"]
    if "gunicorn.socket" in environ:
        return environ["gunicorn.socket"]
    if "eventlet.input" in environ:
        return environ["eventlet.input"].get_socket()
    stream = environ.get("wsgi.input")
    stream = getattr(stream, "rfile", stream)  # gevent's pywsgi
    return getattr(getattr(stream, "raw", None), "_sock", None)


def _shut_down(environ):
    """End the connection both ways, and make the server's own next read of it see its end:
    data the client sent after its WebSocket (its closing frame, say) stays readable after
    a shutdown, and would be read as a request."""
    link = _raw_socket(environ)
    if link is None:
        return
    try:
        link.shutdown(socket.SHUT_RDWR)
    except OSError:
        return  # closed by the WebSocket already, or by the client: nothing more to read
    if "werkzeug.socket" in environ:
        _read_end_from_now_on(link)
    else:
        # gevent's pywsgi reads no further request from a connection whose input is closed.
        environ["wsgi.input"].close()


def _read_end_from_now_on(link):
    """Werkzeug's server reads the next request from the same descriptor: put a socket that
    is at its end in the connection's place (the connection itself is shut down above)."""
    ended, other = socket.socketpair()
    other.close()
    try:
        os.dup2(ended.fileno(), link.fileno())
    finally:
        ended.close()
