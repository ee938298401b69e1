import dataclasses
import logging
import os
import re

import pytest

from ensemble import create_app, protocol, views
from ensemble.protocol import ProtocolError
from ensemble.turn import renew_seconds
from tests.conftest import make_settings


def test_home_page(app):
    response = app.test_client().get("/")
    assert response.status_code == 200 and b"Ensemble" in response.data


def test_the_home_pages_room_field_checks_the_servers_room_pattern(app):
    page = app.test_client().get("/").get_data(as_text=True)
    assert f'<input name="room" pattern="{protocol.ROOM_NAME.pattern}"' in page


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


def turn_app(**changes):
    settings = make_settings(
        stun_urls=("stun:127.0.0.1:3478",), turn_urls=("turn:127.0.0.1:3478",), turn_secret="s", ice_transport_policy="relay", **changes
    )
    return create_app(settings)


def test_ice_servers_api_gives_anyone_stun_but_no_turn_credentials():
    answer = turn_app().test_client().get("/api/ice-servers").get_json()
    assert answer == {"iceServers": [{"urls": ["stun:127.0.0.1:3478"]}], "iceTransportPolicy": "relay"}


def test_ice_servers_api_gives_a_member_turn_credentials_like_its_join_reply():
    app = turn_app()
    reply = app.extensions["socketio"].test_client(app).emit("join", {"room": "r", "name": "A"}, callback=True)
    headers = {"X-Ensemble-Member": f"{reply['id']}:{reply['token']}"}
    servers = app.test_client().get("/api/ice-servers", headers=headers).get_json()["iceServers"]
    assert servers[0] == {"urls": ["stun:127.0.0.1:3478"]}
    assert servers[1]["urls"] == ["turn:127.0.0.1:3478"] and servers[1]["username"].endswith(f":{reply['id']}")
    assert reply["iceServers"][1]["urls"] == servers[1]["urls"]


@pytest.mark.parametrize("credential", ["", "nobody:nothing", "no-colon", ":", "x" * 200 + ":y"])
def test_ice_servers_api_refuses_a_member_header_that_proves_nothing(credential):
    app = turn_app()
    reply = app.extensions["socketio"].test_client(app).emit("join", {"room": "r", "name": "A"}, callback=True)
    wrong_token = f"{reply['id']}:{reply['token'][:-1]}x"
    for header in (credential, wrong_token):
        assert error_of(app.test_client().get("/api/ice-servers", headers={"X-Ensemble-Member": header}), 403) == "not_joined"


def test_turn_credentials_live_a_quarter_of_an_hour_by_default_and_are_renewed_halfway():
    # They lived 4 hours until issue 21: anyone creating a room could relay through the site's
    # TURN for that long after leaving it.
    settings = make_settings(turn_urls=("turn:127.0.0.1:3478",), turn_secret="s")
    assert make_settings().turn_ttl_seconds == 15 * 60
    assert renew_seconds(settings) == 450


def test_turn_credentials_are_handed_out_a_few_a_minute_per_address():
    """Joins, `ice-servers` renewals and /api/ice-servers count together; past the limit a
    member still joins, without TURN until its page asks again (in a minute)."""
    app = turn_app(turn_credentials_per_ip_per_minute=3)
    # Made with Flask's test client, sockets come from its 127.0.0.1 as its requests do.
    first = app.extensions["socketio"].test_client(app, flask_test_client=app.test_client())
    reply = first.emit("join", {"room": "r", "name": "A"}, callback=True)
    assert len(reply["iceServers"]) == 2 and reply["iceRenewSeconds"] == 450
    assert len(first.emit("ice-servers", {}, callback=True)["iceServers"]) == 2
    headers = {"X-Ensemble-Member": f"{reply['id']}:{reply['token']}"}
    assert len(app.test_client().get("/api/ice-servers", headers=headers).get_json()["iceServers"]) == 2
    # The fourth from this address:
    another = app.extensions["socketio"].test_client(app, flask_test_client=app.test_client())
    second = another.emit("join", {"room": "fresh-room", "name": "B"}, callback=True)
    assert second["ok"] and second["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}] and second["iceRenewSeconds"] == 60
    assert first.emit("ice-servers", {}, callback=True)["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}]
    assert app.test_client().get("/api/ice-servers", headers=headers).get_json()["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}]
    anyone = app.test_client().get("/api/ice-servers").get_json()  # STUN for anyone counts nothing
    assert anyone["iceServers"] == [{"urls": ["stun:127.0.0.1:3478"]}]


def test_forwarded_headers_not_believed_are_said_once_in_the_log(caplog):
    """TRUSTED_PROXY_HOPS=0 behind nginx makes every client one address (nginx's)."""
    app = create_app(make_settings(trusted_proxy_hops=0))
    with caplog.at_level(logging.WARNING, logger="ensemble.wsgi"):
        for _ in range(3):
            app.test_client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    warnings = [record.getMessage() for record in caplog.records if record.name == "ensemble.wsgi"]
    assert len(warnings) == 1 and "TRUSTED_PROXY_HOPS=1" in warnings[0], warnings


@pytest.mark.parametrize("hops, headers", [(1, {"X-Forwarded-For": "203.0.113.9"}), (0, {})], ids=["believed", "none-sent"])
def test_no_warning_when_forwarded_headers_are_believed_or_absent(caplog, hops, headers):
    app = create_app(make_settings(trusted_proxy_hops=hops))
    with caplog.at_level(logging.WARNING, logger="ensemble.wsgi"):
        app.test_client().get("/healthz", headers=headers)
    assert [record for record in caplog.records if record.name == "ensemble.wsgi"] == []


@pytest.mark.parametrize("path", ["/", "/r/room", "/static/js/main.js", "/healthz", "/api/no-such-thing", "/no-such-page"])
def test_every_response_carries_the_security_headers(app, path):
    headers = app.test_client().get(path, headers={"Host": "ensemble.example.org:8443"}).headers
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Permissions-Policy"].startswith("camera=(self), microphone=(self), display-capture=(self)")
    policy = dict(directive.split(" ", 1) for directive in headers["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval'"  # no 'unsafe-eval', no 'unsafe-inline'
    assert policy["worker-src"] == "'self'" and policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["connect-src"] == "'self' ws://ensemble.example.org:8443 wss://ensemble.example.org:8443"
    assert {"blob:", "data:"} <= set(policy["img-src"].split()) and {"blob:", "mediastream:"} <= set(policy["media-src"].split())


def policy_of(response):
    return dict(directive.split(" ", 1) for directive in response.headers["Content-Security-Policy"].split("; "))


WORKER = {"Sec-Fetch-Dest": "worker"}


@pytest.mark.parametrize("path", ["/static/js/effects/worker.js", "/static/js/analysis/worker.js"])
def test_the_analysis_worker_may_run_blob_scripts_and_eval_only_for_bodypix(app, path):
    """The analysis worker is told by what the browser fetches (a worker, naming its engine), not
    by where its file is."""
    client = app.test_client()
    for query, evaluates in [("?engine=bodypix", True), ("?engine=selfie", False), ("?engine=faces", False)]:
        policy = policy_of(client.get(f"{path}{query}", headers=WORKER))
        assert policy["worker-src"] == "'self' blob:"
        assert policy["script-src"] == "'self' 'wasm-unsafe-eval' blob:" + (" 'unsafe-eval'" if evaluates else "")
    assert policy_of(client.get(path, headers=WORKER))["script-src"] == "'self' 'wasm-unsafe-eval'", "a worker naming no engine"
    assert policy_of(client.get(f"{path}?engine=bodypix"))["script-src"] == "'self' 'wasm-unsafe-eval'", "a script, not a worker"
    assert "'unsafe-eval'" not in policy_of(client.get("/static/js/analysis/runner.js?engine=bodypix"))["script-src"].split()


def test_the_server_names_no_browser_file():
    from ensemble import headers

    assert "/static/js/" not in open(headers.__file__, encoding="utf-8").read()


def test_a_room_page_analysing_on_its_main_thread_may_start_blob_workers_but_never_eval(app):
    client = app.test_client()
    policy = policy_of(client.get("/r/threads?workers=off"))
    assert policy["worker-src"] == "'self' blob:" and policy["script-src"] == "'self' 'wasm-unsafe-eval' blob:"
    assert policy_of(client.get("/r/threads"))["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert policy_of(client.get("/?workers=off"))["worker-src"] == "'self'"


def test_a_host_header_cannot_write_into_the_policy(app):
    policy = app.test_client().get("/", headers={"Host": "evil; script-src *"}).headers["Content-Security-Policy"]
    assert "connect-src 'self'" in policy and "evil" not in policy and "script-src *" not in policy


def test_pages_hold_no_inline_script_or_event_handler_attribute(app):
    for path in ("/", "/r/room"):
        page = app.test_client().get(path).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
        assert re.findall(r"\son[a-z]+\s*=", page) == []


# --- the one HTTP error shape --------------------------------------------------


def error_of(response, status):
    assert response.status_code == status and response.is_json, (response.status_code, response.data[:200])
    body = response.get_json()
    assert body["ok"] is False and set(body["error"]) == {"code", "message"} and body["error"]["message"]
    return body["error"]["code"]


class BrokenExamples:
    def examples(self):
        raise RuntimeError("scene folder on fire")


def test_an_unexpected_failure_of_an_api_is_logged_and_answered_internal_in_json(app, caplog):
    app.extensions["ensemble"] = dataclasses.replace(app.extensions["ensemble"], scenes=BrokenExamples())
    assert error_of(app.test_client().get("/api/scenes"), 500) == "internal"
    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert record.name == "ensemble.views" and record.fields == {"method": "GET", "path": "/api/scenes"}
    assert isinstance(record.exc_info[1], RuntimeError) and "scene folder on fire" in caplog.text
    assert "Traceback" in caplog.text and "examples" in caplog.text


def test_an_unexpected_failure_of_a_page_is_answered_internal_too(app, caplog, monkeypatch):
    monkeypatch.setattr(views, "render_template", lambda *args, **kwargs: 1 / 0)
    assert error_of(app.test_client().get("/"), 500) == "internal"
    assert "ZeroDivisionError" in caplog.text


def test_an_unknown_api_address_is_not_found_in_json(app):
    assert error_of(app.test_client().get("/api/no-such-thing"), 404) == "not_found"


def test_a_wrong_method_on_an_api_is_refused_in_json_naming_the_allowed_ones(app):
    response = app.test_client().get("/api/backgrounds")
    assert error_of(response, 405) == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
    assert error_of(app.test_client().post("/api/scenes"), 405) == "method_not_allowed"


def test_pages_keep_their_html_not_found(app):
    for path in ("/no-such-page", "/r/bad%20name"):
        response = app.test_client().get(path)
        assert response.status_code == 404 and response.mimetype == "text/html"


def test_every_error_code_has_an_http_status():
    assert set(protocol.HTTP_STATUS) == set(protocol.ERROR_CODES)
    assert ProtocolError("unsupported_image").status == 415 and ProtocolError("bad_request", status=405).status == 405


# --- CSP reports -------------------------------------------------------------------------------


def test_a_csp_report_is_logged_in_one_line_and_answered_204(app, caplog):
    report = {"csp-report": {"document-uri": "http://x/r/a", "violated-directive": "script-src", "blocked-uri": "eval" + "x" * 500}}
    response = app.test_client().post("/api/csp-reports", json=report, headers={"Content-Type": "application/csp-report"})
    assert response.status_code == 204
    [record] = [record for record in caplog.records if record.getMessage() == "csp violation"]
    assert record.levelno == logging.WARNING and record.fields["violated-directive"] == "script-src"
    assert len(record.fields["blocked-uri"]) == 200


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"csp-report": 3}'])
def test_anything_else_posted_as_a_csp_report_is_a_bad_request(app, body):
    response = app.test_client().post("/api/csp-reports", data=body, headers={"Content-Type": "application/csp-report"})
    assert error_of(response, 400) == "bad_request"


def test_csp_reports_from_one_address_are_limited(app):
    client = app.test_client()
    answers = [client.post("/api/csp-reports", json={"csp-report": {}}).status_code for _ in range(31)]
    assert answers == [204] * 30 + [429]


# --- what the views are handed ----------------------------------------------------------


def test_the_views_services_are_one_object_made_by_create_app(app):
    from ensemble.services import Services, services

    with app.app_context():
        handed = services()
    assert isinstance(handed, Services) and handed is app.extensions["ensemble"]
    assert handed.settings is app.config["ENSEMBLE_SETTINGS"] and handed.socketio is app.extensions["socketio"]


def test_membership_is_proven_against_the_registry_alone(clock):
    from ensemble.rooms import member_by_credential
    from ensemble.rooms.memory import MemoryRegistry

    registry = MemoryRegistry(clock=clock)
    peer = registry.join("p1", "r", "Ada", token="t0k3n").peer
    assert member_by_credential(registry, "p1:t0k3n") == peer
    for credential in (None, "", "p1", "p1:wrong", "p2:t0k3n", "p1:t0k3n:x"):
        with pytest.raises(ProtocolError) as refused:
            member_by_credential(registry, credential)
        assert refused.value.code == "not_joined" and refused.value.status == 403


def test_room_pages_may_connect_to_the_janus_instances_browsers_use():
    """A room on Janus has its pages open Janus's WebSocket: the public address of each instance."""
    settings = make_settings(
        janus_urls=("ws://127.0.0.1:8188", "ws://127.0.0.1:8189"), janus_public_urls=("wss://janus1.example.org/janus", "ws://10.0.0.2:8188"),
        janus_api_secret="a" * 20, janus_admin_key="b" * 20, janus_token_secret="c" * 20,
    )
    response = create_app(settings).test_client().get("/r/room", headers={"Host": "ensemble.example.org"})
    sources = policy_of(response)["connect-src"].split()
    assert {"wss://janus1.example.org", "ws://10.0.0.2:8188"} <= set(sources)
    assert not any("127.0.0.1" in source for source in sources)


def test_without_janus_the_policy_names_only_this_host(app):
    response = app.test_client().get("/r/room", headers={"Host": "ensemble.example.org"})
    assert policy_of(response)["connect-src"] == "'self' ws://ensemble.example.org wss://ensemble.example.org"
