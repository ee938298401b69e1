"""The deployment recipe of docs/deployment.md, without a browser: Debian's nginx with the
shipped config/nginx/ensemble.conf in front of two gunicorn processes (the production
command) sharing a real redis-server, over TLS with a certificate made for 127.0.0.1."""

import http.client
import io
import json
import os
import ssl
import urllib.parse

import pytest
import requests
import websocket
from PIL import Image

from harness.servers import Deployment, GunicornProcess, free_port

UPLOAD_MAX_BYTES = 5 * 1024 * 1024  # config/defaults.env


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("deployment"))
    # websocket-client (under python-socketio) trusts the certificate this names.
    with pytest.MonkeyPatch.context() as patch, deployment:
        patch.setenv("WEBSOCKET_CLIENT_CA_BUNDLE", str(deployment.certificate))
        yield deployment
    for process in deployment.servers:
        assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def clients(site, connect_client):
    """`clients()`: a client connected through nginx. (Each connects once: a handshake that
    stalled now and then here was the client's own TLS socket read and written by two
    threads at once, mended in ensemble_client.py.)"""
    return lambda: connect_client(site.url)


def fetch(url, certificate=None, method="GET"):
    """(status, headers, body) of one request sent as written: no redirect followed, no
    part of the path normalised."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        link = http.client.HTTPSConnection(parts.netloc, context=ssl.create_default_context(cafile=certificate), timeout=10)
    else:
        link = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        link.request(method, parts.path + (f"?{parts.query}" if parts.query else ""))
        response = link.getresponse()
        return response.status, response.headers, response.read()
    finally:
        link.close()


def served_peers(site):
    return [json.loads(fetch(server.url + "/healthz")[2])["peers"] for server in site.servers]


def test_plain_http_is_redirected_to_the_same_page_over_https(site):
    status, headers, _ = fetch(site.http_url + "/r/standup?name=Ada")
    assert status == 301 and headers["Location"] == site.url + "/r/standup?name=Ada"


def test_plain_http_still_serves_acme_challenges(site):
    challenge = site.webroot / ".well-known" / "acme-challenge" / "token-123"
    challenge.parent.mkdir(parents=True, exist_ok=True)
    challenge.write_text("token-123.key")
    status, _, body = fetch(site.http_url + "/.well-known/acme-challenge/token-123")
    assert (status, body) == (200, b"token-123.key")


def test_room_pages_come_over_tls_with_the_apps_isolation_headers(site):
    status, headers, body = fetch(site.url + "/r/standup", site.certificate)
    assert status == 200 and b"standup" in body
    # The analysis needs cross-origin isolation (WASM threads): the proxy must keep it.
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_clients_through_nginx_are_spread_over_both_processes_and_meet_in_one_room(site, clients):
    ada, bob = clients(), clients()
    ada.join("spread", "Ada")
    bob.join("spread", "Ada")
    assert bob.name == "Ada (2)"  # one registry, whichever process serves whom
    assert served_peers(site) == [1, 1]
    ada.signal(bob.id, "offer", {"type": "offer", "sdp": "v=0"})
    assert bob.wait_for("signal") == {"from": ada.id, "kind": "offer", "data": {"type": "offer", "sdp": "v=0"}}
    bob.chat("hello through nginx")
    assert ada.wait_for("chat")["text"] == "hello through nginx"


def test_a_stopped_process_is_passed_over_for_new_connections(site, clients):
    running, stopped = site.servers
    stopped.stop()
    try:
        members = [clients() for _ in range(3)]
        for number, client in enumerate(members):
            client.join("failover", f"member-{number}")
        members[0].chat("still here")
        for client in members[1:]:
            assert client.wait_for("chat")["text"] == "still here"
        assert json.loads(fetch(running.url + "/healthz")[2])["peers"] == 3
    finally:
        stopped.start()


def test_websockets_are_accepted_from_the_site_only(site):
    address = site.url.replace("https://", "wss://") + "/socket.io/?EIO=4&transport=websocket"
    options = {"sslopt": {"ca_certs": str(site.certificate)}, "timeout": 10}
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(address, origin="https://elsewhere.example", **options)
    assert refused.value.status_code == 400
    link = websocket.create_connection(address, origin=site.url, **options)
    try:
        assert link.recv().startswith('0{"sid":')  # Engine.IO's open packet
    finally:
        link.close()


@pytest.mark.parametrize("path", ["/metrics", "/metrics?name[]=ensemble_peers", "//metrics", "/%6Detrics", "/metrics/"])
def test_metrics_are_not_served_through_nginx(site, path):
    status, _, body = fetch(site.url + path, site.certificate)
    assert status == 404 and b"ensemble_" not in body


def test_each_process_serves_its_own_metrics_on_its_own_port(site):
    for server in site.servers:
        status, headers, body = fetch(server.url + "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert f"ensemble_process_id {server_pid(server)}" in body.decode()


def server_pid(server):
    return float(json.loads(fetch(server.url + "/healthz")[2])["pid"])


def noise_png(width, height):
    """A PNG of random pixels: it hardly compresses, so its size is about width × height × 3."""
    picture = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    encoded = io.BytesIO()
    picture.save(encoded, "PNG", compress_level=1)
    return encoded.getvalue()


def member_header(clients, room="uploads"):
    """X-Ensemble-Member of a new member of `room`, who joined through nginx."""
    member = clients()
    reply = member.join(room, "Uploader")
    return {"X-Ensemble-Member": f"{reply['id']}:{reply['token']}"}


def test_a_background_just_under_the_limit_uploads_through_nginx_and_every_process_serves_it(site, clients):
    picture = noise_png(1300, 1300)
    assert UPLOAD_MAX_BYTES - 200_000 < len(picture) <= UPLOAD_MAX_BYTES
    reply = requests.post(
        site.url + "/api/backgrounds", files={"image": ("noise.png", picture, "image/png")}, headers=member_header(clients),
        verify=site.certificate, timeout=60,
    )
    assert reply.status_code == 201, reply.text
    stored = reply.json()
    assert (stored["width"], stored["height"]) == (1300, 1300)
    for server in site.servers:  # whichever process a viewer's request reaches
        status, headers, _ = fetch(server.url + stored["url"])
        assert status == 200 and headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    "size", [UPLOAD_MAX_BYTES + 1, UPLOAD_MAX_BYTES + 100_000, 20 * 1024 * 1024], ids=["refused-by-the-app", "by-nginx", "far-over"]
)
def test_a_picture_over_the_limit_is_refused_with_the_error_the_page_shows(site, clients, size):
    reply = requests.post(
        site.url + "/api/backgrounds", files={"image": ("big.png", os.urandom(size), "image/png")}, headers=member_header(clients),
        verify=site.certificate, timeout=60,
    )
    assert reply.status_code == 413
    assert reply.json() == {"ok": False, "error": {"code": "too_large", "message": "Pictures may be at most 5 MB."}}


def test_gunicorn_stops_at_once_with_one_line_when_redis_cannot_be_reached(tmp_path):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    process = GunicornProcess(tmp_path, redis_url=nowhere)
    with pytest.raises(RuntimeError, match="exited with 3"):
        process.start()
    log = process.log()
    assert [line for line in log.splitlines() if nowhere in line and "ERROR ensemble" in line] != []
    assert log.count(nowhere) == 1, log  # said once, and the worker was not started again
    assert log.count("Booting worker") == 1 and "Traceback" not in log, log


@pytest.mark.parametrize("path", ["/r/standup", "/no-such-page", "/metrics"])
def test_nginx_says_no_version(site, path):
    """`server_tokens off`: neither the Server header nor nginx's own error pages (the 404 of
    /metrics) name its version, which would tell a stranger which flaws to try."""
    for url, certificate in ((site.url, site.certificate), (site.http_url, None)):
        _, headers, body = fetch(url + path, certificate)
        assert headers["Server"] == "nginx", (url, headers["Server"])
        assert b"nginx/" not in body, body[:300]
