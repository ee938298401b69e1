import pytest

from ensemble import protocol
from ensemble.protocol import ProtocolError


def error_of(parse, payload):
    with pytest.raises(ProtocolError) as caught:
        parse(payload)
    return caught.value


@pytest.mark.parametrize(
    "payload, code, words",
    [
        (None, "bad_request", "JSON object"),
        ([], "bad_request", "JSON object"),
        ("room", "bad_request", "JSON object"),
        ({"name": "Ada"}, "bad_request", "'room'"),
        ({"room": "", "name": "Ada"}, "bad_request", "'room'"),
        ({"room": "a" * 65, "name": "Ada"}, "bad_request", "'room'"),
        ({"room": "has space", "name": "Ada"}, "bad_request", "'room'"),
        ({"room": "ünïcode", "name": "Ada"}, "bad_request", "'room'"),
        ({"room": 7, "name": "Ada"}, "bad_request", "'room'"),
        ({"room": "r"}, "bad_request", "'name'"),
        ({"room": "r", "name": "   "}, "bad_request", "1-40"),
        ({"room": "r", "name": "x" * 41}, "bad_request", "1-40"),
        ({"room": "r", "name": "Ada\nLovelace"}, "bad_request", "control"),
        ({"room": "r", "name": "Ada\u202eecalevol"}, "bad_request", "control"),
        ({"room": "r", "name": "Ada", "password": 5}, "bad_request", "'password'"),
        ({"room": "r", "name": "Ada", "password": "p" * 129}, "bad_request", "'password'"),
        ({"room": "r", "name": "Ada", "media": {"audio": "yes", "video": True}}, "bad_request", "'audio'"),
    ],
)
def test_join_rejects(payload, code, words):
    error = error_of(protocol.parse_join, payload)
    assert error.code == code
    assert words in error.message


@pytest.mark.parametrize(
    "name, expected",
    [
        ("  Ada  ", "Ada"),
        ("Zoë Ørsted", "Zoë Ørsted"),
        ("李小龍", "李小龍"),
        ("محمد", "محمد"),
        ("👩‍💻 dev", "👩‍💻 dev"),  # the zero-width joiner inside the emoji stays
        ("x" * 40, "x" * 40),
    ],
)
def test_join_accepts_names_in_any_script(name, expected):
    assert protocol.parse_join({"room": "r", "name": name}).name == expected


def test_join_reads_password_and_initial_media():
    join = protocol.parse_join({"room": "a-B_9", "name": "Ada", "password": "s3", "media": {"audio": False, "video": True}})
    assert (join.room, join.password, join.audio, join.video) == ("a-B_9", "s3", False, True)


@pytest.mark.parametrize(
    "payload, code, words",
    [
        ({"kind": "offer", "data": {}}, "bad_request", "'to'"),
        ({"to": "p", "kind": "hello", "data": {}}, "bad_request", "offer, answer or candidate"),
        ({"to": "p", "kind": "offer", "data": "v=0"}, "bad_request", "'data'"),
        ({"to": "p", "kind": "offer", "data": {"sdp": "x" * 65 * 1024}}, "too_large", "64 KiB"),
        ({"to": "p", "kind": "candidate", "data": {"candidate": "x" * 4097}}, "too_large", "4 KiB"),
    ],
)
def test_signal_rejects(payload, code, words):
    error = error_of(protocol.parse_signal, payload)
    assert (error.code, words in error.message) == (code, True)


def test_signal_accepts_a_large_sdp_within_the_limit():
    signal = protocol.parse_signal({"to": "p", "kind": "offer", "data": {"type": "offer", "sdp": "x" * 60_000}})
    assert signal.kind == "offer" and len(signal.data["sdp"]) == 60_000


@pytest.mark.parametrize(
    "payload, code",
    [({"text": ""}, "bad_request"), ({"text": "  \n"}, "bad_request"), ({"text": 3}, "bad_request"), ({"text": "x" * 2001}, "too_large")],
)
def test_chat_rejects(payload, code):
    assert error_of(protocol.parse_chat, payload).code == code


def test_chat_keeps_text_exactly():
    assert protocol.parse_chat({"text": " <b>hi</b>\n"}).text == " <b>hi</b>\n"


@pytest.mark.parametrize("payload", [{"audio": 1, "video": True}, {"audio": True}, {"audio": None, "video": False}])
def test_media_needs_two_booleans(payload):
    assert error_of(protocol.parse_media, payload).code == "bad_request"


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"scene": [], "version": 0}, "bad_request"),
        ({"scene": {}, "version": "1"}, "bad_request"),
        ({"scene": {}, "version": True}, "bad_request"),
        ({"scene": {}, "version": -1}, "bad_request"),
        ({"scene": {"blob": "x" * 65 * 1024}, "version": 0}, "too_large"),
    ],
)
def test_scene_rejects(payload, code):
    assert error_of(protocol.parse_scene, payload).code == code


def test_every_error_reply_has_the_wire_shape():
    reply = ProtocolError("room_full").reply()
    assert reply == {"ok": False, "error": {"code": "room_full", "message": protocol.ERROR_CODES["room_full"]}}
