"""The security headers of every response.

The pages load everything from this server (scripts, workers, models, WebAssembly),
so the policy allows our own origin and nothing else, plus what the page makes itself:
`blob:` and `data:` pictures (snapshots, uploads before they are sent, the models'
canvases), `blob:` and `mediastream:` media (cameras, recordings), and the Socket.IO
WebSocket back to this host. Pages never run eval or inline script.

The analysis worker gets the policy of its own response, and the workers it starts
inherit it. Its WASM backends start their threads as workers made from a `blob:` of their
own script, which load further `blob:` scripts; BodyPix's builds are classic scripts that
a module worker can only run through eval. The browser says what it fetches
(`Sec-Fetch-Dest: worker`) and the page names the engine in the worker's URL
(`?engine=selfie`), so the analysis worker is known by that, wherever its file lives: a
worker naming an engine gets `blob:` scripts and workers, and 'unsafe-eval' only for
`bodypix`. Eval stays out of the page and of every other worker. (Browsers send
Sec-Fetch-Dest to secure origins, the only ones where the pages get a camera at all.)
A room page asked to analyse on its main thread (`?workers=off`) starts those threads
itself, so it gets the `blob:` scripts and workers too (never eval).

The watch page (/r/<room>/watch) is stricter than the room's: hls.js plays through a
`blob:` MediaSource, so `blob:` media and nothing else (no cameras, no `mediastream:`,
no WebSocket), and it may use neither camera nor microphone.
"""

import re

# A Host header fit to be written into a header of ours (else `'self'` alone covers it).
HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
WATCH_PAGE = re.compile(r"/r/[^/]+/watch")

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    # WebAssembly (the models' WASM backends) needs 'wasm-unsafe-eval'.
    "script-src": "'self' 'wasm-unsafe-eval'",
    "worker-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' blob: data:",
    "media-src": "'self' blob: mediastream:",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    # Browsers post what the policy blocked here (pages and their workers alike); it is logged.
    "report-uri": "/api/csp-reports",
}


CALLING = "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()"
WATCHING = "camera=(), microphone=(), display-capture=(), geolocation=(), payment=(), usb=()"

# Engines whose builds only run through eval in a module worker.
EVALUATING_ENGINES = {"bodypix"}


def content_security_policy(host, path="/", engine=None, workers=None, destination=None, janus=()):
    """The policy for a response to `path` on `host` (its WebSocket is ws:// or wss:// of it);
    `engine` and `workers` are the request's query parameters of those names, if any, and
    `destination` its Sec-Fetch-Dest header; `janus`: the WebSocket addresses of the Janus
    instances as browsers reach them (a room on Janus has its pages talk to it directly)."""
    policy = dict(CONTENT_SECURITY_POLICY)
    if WATCH_PAGE.fullmatch(path):
        return "; ".join(f"{name} {value}" for name, value in {**policy, "media-src": "'self' blob:", "connect-src": "'self'"}.items())
    policy["connect-src"] = "'self'" + (f" ws://{host} wss://{host}" if HOST.fullmatch(host or "") else "")
    policy["connect-src"] += "".join(f" {origin}" for origin in dict.fromkeys(map(websocket_origin, janus)))
    if destination == "worker" and engine is not None:  # the analysis worker
        policy["script-src"] += " blob:" + (" 'unsafe-eval'" if engine in EVALUATING_ENGINES else "")
        policy["worker-src"] += " blob:"
    elif path.startswith("/r/") and workers == "off":
        policy["script-src"] += " blob:"
        policy["worker-src"] += " blob:"
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def websocket_origin(url):
    """`wss://janus.example.org/janus` -> `wss://janus.example.org`: what connect-src names."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def security_headers(host, path="/", engine=None, workers=None, destination=None, janus=()):
    return {
        "Content-Security-Policy": content_security_policy(host, path, engine, workers, destination, janus),
        "X-Content-Type-Options": "nosniff",
        # Room names and ?name= are in the page's address: never send it elsewhere.
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": WATCHING if WATCH_PAGE.fullmatch(path) else CALLING,
        # Cross-origin isolation lets the analysis use WASM threads (SharedArrayBuffer);
        # everything the pages load is served from here, so nothing is blocked by it.
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
    }
