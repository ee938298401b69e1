import os

from ensemble import create_app
from tests.conftest import make_settings


def test_home_page(app):
    response = app.test_client().get("/")
    assert response.status_code == 200 and b"Ensemble" in response.data


def test_room_page_for_a_valid_name(app):
    response = app.test_client().get("/r/team-42")
    assert response.status_code == 200 and b"team-42" in response.data


def test_room_page_for_an_invalid_name_is_not_found(app):
    response = app.test_client().get("/r/" + "x" * 65)
    assert response.status_code == 404 and b"1-64 letters" in response.data


def test_healthz_reports_mode_and_rooms(app, connect):
    connect().emit("join", {"room": "r", "name": "A"}, callback=True)
    answer = app.test_client().get("/healthz").get_json()
    assert answer == {"ok": True, "asyncMode": "threading", "rooms": 1, "peers": 1, "pid": os.getpid()}


def test_ice_servers_api_hands_out_configured_servers():
    app = create_app(make_settings(stun_urls=("stun:127.0.0.1:3478",), turn_urls=("turn:127.0.0.1:3478",), turn_secret="s", ice_transport_policy="relay"))
    answer = app.test_client().get("/api/ice-servers").get_json()
    servers = answer["iceServers"]
    assert answer["iceTransportPolicy"] == "relay"
    assert servers[0] == {"urls": ["stun:127.0.0.1:3478"]}
    assert servers[1]["urls"] == ["turn:127.0.0.1:3478"] and ":" in servers[1]["username"]


def test_pages_are_cross_origin_isolated_for_wasm_threads(app):
    for path in ("/", "/r/room", "/static/js/main.js"):
        headers = app.test_client().get(path).headers
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
