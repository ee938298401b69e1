"""The security headers of every response.

The pages load everything from this server (scripts, workers, models, WebAssembly),
so the policy allows our own origin and nothing else, plus what the page makes itself:
`blob:` and `data:` pictures (snapshots, uploads before they are sent, the models'
canvases), `blob:` and `mediastream:` media (cameras, recordings), and the Socket.IO
WebSocket back to this host.
"""

import re

# A Host header fit to be written into a header of ours (else `'self'` alone covers it).
HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'",
    # WebAssembly (the models' WASM backends) needs 'wasm-unsafe-eval'; nothing needs eval.
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob: mediastream:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)


def content_security_policy(host):
    """The policy for a response to a request for `host` (its WebSocket is ws:// or wss:// of it)."""
    connect = "connect-src 'self'"
    if HOST.fullmatch(host or ""):
        connect += f" ws://{host} wss://{host}"
    return "; ".join((*CONTENT_SECURITY_POLICY, connect))


def security_headers(host):
    return {
        "Content-Security-Policy": content_security_policy(host),
        "X-Content-Type-Options": "nosniff",
        # Room names and ?name= are in the page's address: never send it elsewhere.
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()",
        # Cross-origin isolation lets the analysis use WASM threads (SharedArrayBuffer);
        # everything the pages load is served from here, so nothing is blocked by it.
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
    }
