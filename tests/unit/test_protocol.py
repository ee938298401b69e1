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
        ({"room": "r", "name": "\u200b\u200e\ufeff"}, "bad_request", "1-40"),  # nothing visible
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


# Invisible characters that can only hide or reorder text: zero-width spaces, the word joiner,
# the byte order mark, and every bidi control (marks, embeddings, overrides, isolates).
INVISIBLE = {
    "zero-width space": "\u200b",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    **{f"bidi embedding or override U+{code:04X}": chr(code) for code in range(0x202A, 0x202F)},
    **{f"bidi isolate U+{code:04X}": chr(code) for code in range(0x2066, 0x206A)},
}


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_characters_are_taken_out_of_names_and_chat(char):
    assert protocol.parse_join({"room": "r", "name": f"{char}A{char}da{char}"}).name == "Ada"
    assert protocol.parse_chat({"text": f"hi{char} there{char}"}).text == "hi there"


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_a_chat_of_invisible_characters_alone_is_empty(char):
    assert error_of(protocol.parse_chat, {"text": f" {char}{char} "}).code == "bad_request"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),  # woman technologist: one emoji
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0645"),  # Persian ZWNJ inside a word
        ("Ada\u200d", "Ada"),
        ("\u200cAda", "Ada"),
        ("Ada \u200d Lovelace", "Ada  Lovelace"),
        ("A\u200d\u200d\u200cda", "A\u200dda"),
    ],
)
def test_joiners_stay_only_between_two_visible_characters(name, expected):
    assert protocol.parse_join({"room": "r", "name": name}).name == expected


@pytest.mark.parametrize(
    "one, other",
    [
        ("Ada", "ada"),
        ("Ada", "\u0410da"),  # Cyrillic capital A
        ("Ada", "Ad\u0430"),  # Cyrillic small a
        ("Ada", "\u0391da"),  # Greek capital alpha
        ("Ada", "\uff21\uff44\uff41"),  # fullwidth letters
        ("Ada", "A\u200dda"),  # a joiner that stays in the name
        ("Ada Lovelace", "Ada  Lovelace"),
        ("Oscar", "\u041es\u0441ar"),  # Cyrillic O and small es
        ("Paco", "\u0420\u0430\u0441\u043e"),  # all four Cyrillic
    ],
)
def test_look_alike_names_have_one_skeleton(one, other):
    assert protocol.name_skeleton(one) == protocol.name_skeleton(other)


@pytest.mark.parametrize("one, other", [("Ada", "Adam"), ("Ada", "Ida"), ("Zoë", "Zoe"), ("\u0421\u0430\u0448\u0430", "Sasha")])
def test_different_names_have_different_skeletons(one, other):
    assert protocol.name_skeleton(one) != protocol.name_skeleton(other)


@pytest.mark.parametrize(
    "resume",
    [
        {"id": "abc", "token": "t\u00f6ken"},  # non-ASCII: hmac.compare_digest refuses such a str
        {"id": "\u00e4bc", "token": "token"},
        {"id": "abc", "token": "\ud800"},  # a lone surrogate, which JSON can carry
        {"id": "abc", "token": "to ken"},
        {"id": "abc", "token": "tok/en+"},  # standard base64, not the URL-safe alphabet
        {"id": "", "token": "token"},
        {"id": "abc", "token": ""},
    ],
)
def test_resume_ids_and_tokens_are_url_safe_base64(resume):
    error = error_of(protocol.parse_resume, resume)
    assert error.code == "bad_request" and "'resume'" in error.message


def test_a_resume_of_url_safe_characters_is_read():
    assert protocol.parse_resume({"id": "Yk3t-9Qb_VZx2a", "token": "aZ09_-"}) == protocol.Resume("Yk3t-9Qb_VZx2a", "aZ09_-")


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
