"""Property tests (hypothesis): whatever a client sends, to any event or HTTP API, the server
answers with a structured success or error, raises nothing, logs no error, and the other
members of the room hear nothing of a failed event.

The default profile keeps each test to a few seconds; HYPOTHESIS_PROFILE=thorough (`make
hypothesis`) runs many more examples. Failing examples found here live on as plain tests
in test_property_regressions.py.
"""

import io
import itertools
import logging
import os
import string
import unicodedata
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ensemble import create_app
from ensemble.protocol import ERROR_CODES
from tests.conftest import make_settings

settings.register_profile(
    "ensemble", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ensemble"))

ROOMS = itertools.count()
EVENTS = ("join", "leave", "signal", "chat", "media", "scene")
# Limits high enough that a few hundred examples from one test client are never rate limited.
UNLIMITED = {
    "events_per_second": 1e6, "event_burst": 10**6, "chats_per_second": 1e6, "chat_burst": 10**6,
    "joins_per_ip_per_minute": 10**9, "connections_per_ip": 10**6, "uploads_per_minute": 10**9,
    "uploads_per_ip_per_minute": 10**9, "wrong_passwords_per_ip": 10**9, "wrong_password_delay_seconds": 0,
}

text = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(["", " ", "\u202e", "\x00", "é" * 3000, "a" * 70000])
# NaN and infinities are no JSON: refused at decode, before any handler (tests/unit/test_packets.py).
numbers = st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | numbers | text
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5), max_leaves=30)
# Payloads with the fields each event expects, holding anything at all.
FIELDS = {
    "join": ["room", "name", "password", "media", "resume"],
    "signal": ["to", "kind", "data"],
    "chat": ["text"],
    "media": ["audio", "video", "screen"],
    "scene": ["scene", "version"],
    "leave": [],
}
near_valid = st.sampled_from(EVENTS).flatmap(
    lambda event: st.tuples(st.just(event), st.fixed_dictionaries({}, optional={key: json_values for key in FIELDS[event]}))
)
# Payloads that pass the first checks, to reach the later ones ("@peer" becomes the bystander's id).
shaped = st.one_of(
    st.fixed_dictionaries({"to": st.just("@peer"), "kind": st.sampled_from(["offer", "answer", "candidate"]),
                           "data": st.dictionaries(text, json_values, max_size=4)}).map(lambda p: ("signal", p)),
    st.fixed_dictionaries({"scene": st.dictionaries(text, json_values, max_size=4), "version": st.integers(-2, 3)}).map(
        lambda p: ("scene", p)
    ),
    st.fixed_dictionaries({"room": st.from_regex(r"[a-z]{1,8}", fullmatch=True), "name": text},
                          optional={"password": text, "media": json_values, "resume": json_values}).map(lambda p: ("join", p)),
)
any_event = st.tuples(st.sampled_from(EVENTS) | text, json_values) | near_valid | shaped


def nested(kind, depth):
    """A list or an object `depth` levels deep, built without recursion."""
    value = []
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


# What a stranger aims at the event loop (issue 21): arrays of thousands of items (a 64 KiB
# scene of empty participants), nesting hundreds deep (the test client's own JSON encoder
# stops near 1000), and text of control, invisible and bidi characters.
huge_arrays = st.tuples(st.integers(1_000, 21_000), st.sampled_from([None, 0, "", {}, [], {"id": ""}])).map(
    lambda shape: [shape[1]] * shape[0]
)
deep = st.tuples(st.sampled_from(["list", "dict"]), st.integers(30, 800)).map(lambda shape: nested(*shape))
# Zero-width and bidi control characters: never part of a name or chat text the room is shown.
ZERO_WIDTH_AND_BIDI = set("\u200b\u2060\ufeff\u061c\u200e\u200f\u202a\u202e\u2066\u2069")
invisible = st.sampled_from("\u200b\u200c\u200d\u2060\ufeff\u00ad\u061c\u200e\u200f\u202a\u202e\u2066\u2069\x1b\x00\n\r\u2028")
control_text = st.lists(invisible | st.sampled_from("Ada B\u0410"), min_size=1, max_size=30).map("".join)
hostile_values = huge_arrays | deep | control_text
hostile = st.one_of(
    st.fixed_dictionaries({"scene": st.fixed_dictionaries({"participants": huge_arrays | deep}, optional={"background": hostile_values}),
                           "version": st.integers(0, 2)}).map(lambda p: ("scene", p)),
    st.fixed_dictionaries({"scene": st.dictionaries(control_text, hostile_values, max_size=3), "version": st.just(0)}).map(
        lambda p: ("scene", p)
    ),
    st.fixed_dictionaries({"to": st.just("@peer"), "kind": st.sampled_from(["offer", "candidate"]),
                           "data": st.dictionaries(st.sampled_from(["sdp", "candidate", "x"]), hostile_values, min_size=1, max_size=2)}).map(
        lambda p: ("signal", p)
    ),
    st.fixed_dictionaries({"text": control_text}).map(lambda p: ("chat", p)),
    st.fixed_dictionaries({"room": st.from_regex(r"[a-z]{1,8}", fullmatch=True), "name": control_text},
                          optional={"password": control_text, "resume": hostile_values}).map(lambda p: ("join", p)),
    st.tuples(control_text, hostile_values),
)


def addressed(payload, peer_id):
    """`payload` with "@peer" as its `to` made the bystander's id."""
    return {**payload, "to": peer_id} if isinstance(payload, dict) and payload.get("to") == "@peer" else payload


class ErrorLog(logging.Handler):
    """Records what the server logs at ERROR or above (a traceback always is)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))


@pytest.fixture
def errors():
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def app(tmp_path):
    return create_app(make_settings(upload_folder=str(tmp_path / "uploads"), **UNLIMITED))


@pytest.fixture
def room_pair(app):
    """`room_pair()`: (actor, bystander, actor's join reply) in a room of their own; the
    bystander's member id is its `peer_id`."""
    socketio = app.extensions["socketio"]
    numbers = itertools.count()

    def make():
        room = f"prop{next(numbers)}"
        actor, bystander = socketio.test_client(app), socketio.test_client(app)
        reply = actor.emit("join", {"room": room, "name": "Actor"}, callback=True)
        bystander.peer_id = bystander.emit("join", {"room": room, "name": "Bystander"}, callback=True)["id"]
        actor.get_received()
        bystander.get_received()
        return actor, bystander, reply

    return make


def bystander_id(bystander):
    return bystander.peer_id


def assert_structured(reply):
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), reply
    if not reply["ok"]:
        assert reply["error"]["code"] in ERROR_CODES and isinstance(reply["error"]["message"], str), reply


def answer_to_a_member(room_pair, sent):
    """The reply to `sent` from a member, asserted structured, and a failure heard by nobody else in the room."""
    event, payload = sent
    actor, bystander, _ = room_pair()
    reply = actor.emit(event, addressed(payload, bystander_id(bystander)), callback=True)
    assert_structured(reply)
    if not reply["ok"]:
        assert bystander.get_received() == []
    actor.disconnect()
    bystander.disconnect()
    return reply


@given(any_event)
def test_every_event_from_a_member_is_answered_structured_and_a_failure_reaches_nobody_else(room_pair, errors, sent):
    answer_to_a_member(room_pair, sent)
    assert errors == []


@given(any_event)
def test_every_event_before_joining_is_answered_structured(app, errors, sent):
    event, payload = sent
    client = app.extensions["socketio"].test_client(app)
    assert_structured(client.emit(event, payload, callback=True))
    assert errors == []
    client.disconnect()


@given(any_event)
def test_without_an_ack_a_failure_comes_back_as_one_error_event_and_reaches_nobody_else(room_pair, errors, sent):
    event, payload = sent
    actor, bystander, _ = room_pair()
    actor.emit(event, addressed(payload, bystander_id(bystander)))
    received = actor.get_received()
    for message in (m for m in received if m["name"] == "error"):
        assert message["args"][0]["code"] in ERROR_CODES and message["args"][0]["event"] == event
    if any(message["name"] == "error" for message in received):
        assert bystander.get_received() == []
    assert errors == []
    actor.disconnect()
    bystander.disconnect()


@given(hostile)
def test_hostile_shapes_from_a_member_are_answered_structured_and_leave_nothing_invisible(room_pair, errors, sent):
    """Huge arrays, deep nesting and control characters: a structured answer, nothing for the
    bystander on a failure, and no invisible character in a name or chat text the room is
    shown (nor a control character in a name)."""
    event = sent[0]
    reply = answer_to_a_member(room_pair, sent)
    if reply["ok"] and event == "join":  # a name: nothing invisible, no control character
        assert not any(char in ZERO_WIDTH_AND_BIDI or unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in reply["name"]), reply
    if reply["ok"] and event == "chat":  # chat text keeps its line breaks, loses what is invisible
        assert not any(char in ZERO_WIDTH_AND_BIDI for char in reply["message"]["text"]), reply
    assert errors == []


@given(st.lists(json_values, min_size=2, max_size=4), st.sampled_from(EVENTS))
def test_several_payloads_are_refused(room_pair, errors, payloads, event):
    actor, bystander, _ = room_pair()
    reply = actor.emit(event, *payloads, callback=True)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request"
    assert bystander.get_received() == [] and errors == []
    actor.disconnect()
    bystander.disconnect()


# --- HTTP -------------------------------------------------------------------------------------

url_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=120)


def assert_json_answer(response):
    assert response.status_code < 500, (response.status_code, response.data[:300])
    if response.status_code >= 400:
        body = response.get_json()
        assert body["ok"] is False and body["error"]["code"] in ERROR_CODES, body


@given(st.sampled_from(["/api/", "/api/ice-servers/", "/api/scenes/", "/uploads/", "/api/backgrounds/"]), url_text, url_text)
def test_any_api_address_and_query_is_answered_in_json(app, errors, prefix, rest, query):
    client = app.test_client()
    for method in (client.get, client.post, client.delete):
        response = method(prefix + urllib.parse.quote(rest), query_string={"q": query})
        if prefix != "/uploads/" or response.status_code >= 400 and response.is_json:
            assert_json_answer(response)
        else:
            assert response.status_code < 500
    assert errors == []


@given(url_text)
def test_any_room_page_address_is_a_page_or_a_not_found(app, errors, room):
    response = app.test_client().get("/r/" + urllib.parse.quote(room))
    assert response.status_code in (200, 404, 308) and errors == []


@given(header_text)
def test_any_member_header_is_answered_in_json(app, errors, credential):
    response = app.test_client().get("/api/ice-servers", headers={"X-Ensemble-Member": credential})
    # No one has joined, so no header can prove a membership: refused (403 in JSON), never taken as a stranger.
    assert response.status_code == 403
    assert_json_answer(response)
    assert errors == []


@given(
    st.binary(max_size=3000) | st.sampled_from([b"\x89PNG\r\n\x1a\n" + bytes(50), b"\xff\xd8\xff\xe0" + bytes(80), b"RIFF\0\0\0\0WEBPVP8 "]),
    st.sampled_from(["image", "file", "IMAGE", ""]),
    st.text(string.printable, max_size=30),
    st.sampled_from(["multipart/form-data", "application/octet-stream", "text/plain", "application/json"]),
)
def test_any_upload_is_answered_in_json_and_nothing_unusable_is_kept(app, errors, data, field, filename, content_type):
    socketio = app.extensions["socketio"]
    reply = socketio.test_client(app).emit("join", {"room": f"uploads{next(ROOMS)}", "name": "U"}, callback=True)
    headers = {"X-Ensemble-Member": f"{reply['id']}:{reply['token']}"}
    client = app.test_client()
    if content_type == "multipart/form-data":
        body = {field: (io.BytesIO(data), filename)} if field else {}
        response = client.post("/api/backgrounds", data=body, content_type=content_type, headers=headers)
    else:
        response = client.post("/api/backgrounds", data=data, content_type=content_type, headers=headers)
    assert response.status_code in (201, 400, 413, 415), response.data[:300]
    assert_json_answer(response)
    folder = app.config["ENSEMBLE_SETTINGS"].upload_path
    assert not folder.exists() or not [path for path in folder.iterdir() if path.suffix == ".part"]
    assert errors == []
