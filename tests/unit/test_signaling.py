"""Every event and every error code through the Flask-SocketIO test client."""

import base64
import hashlib
import hmac
import logging

import pytest

from ensemble import create_app
from ensemble.rooms.memory import MemoryRegistry
from tests.conftest import make_settings


def events(client, name):
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def error_code(reply):
    assert reply["ok"] is False, reply
    assert set(reply["error"]) == {"code", "message"} and reply["error"]["message"]
    return reply["error"]["code"]


@pytest.fixture(autouse=True)
def no_errors_logged(caplog):
    """Bad input must never show up as an error in the server log (a test that causes one on purpose clears it)."""
    yield
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


# --- join -------------------------------------------------------------------


def test_join_answers_with_identity_peers_chat_scene_and_ice_servers(joined):
    first, _ = joined(name="Ada")
    first.emit("chat", {"text": "before you came"}, callback=True)
    second, reply = joined(name="Grace")
    assert reply["room"] == "standup" and reply["name"] == "Grace"
    assert [peer["name"] for peer in reply["peers"]] == ["Ada"]
    assert [message["text"] for message in reply["chat"]] == ["before you came"]
    assert reply["scene"] == {"scene": None, "version": 0, "by": None}
    assert reply["iceServers"] == [] and reply["iceTransportPolicy"] == "all" and reply["iceRenewSeconds"] is None
    assert reply["id"] != second.eio_sid and len(reply["id"]) >= 12


@pytest.mark.parametrize("settings", [make_settings(turn_urls=("turn:127.0.0.1:3478",), turn_secret="k", turn_ttl_seconds=600)])
def test_a_member_renews_its_turn_credentials_halfway_through_their_lifetime(joined, settings):
    client, reply = joined(name="Ada")
    assert reply["iceRenewSeconds"] == 300
    [turn] = reply["iceServers"]
    renewed = client.emit("ice-servers", {}, callback=True)
    assert renewed["ok"] and renewed["iceRenewSeconds"] == 300 and renewed["iceTransportPolicy"] == "all"
    [fresh] = renewed["iceServers"]
    expiry, member = fresh["username"].split(":")
    assert member == reply["id"] and int(expiry) >= int(turn["username"].split(":")[0])
    assert fresh["credential"] == base64.b64encode(hmac.new(b"k", fresh["username"].encode(), hashlib.sha1).digest()).decode()
    assert client.emit("ice-servers", callback=True)["ok"]  # no payload at all is fine too


@pytest.mark.parametrize("settings", [make_settings(turn_urls=("turn:127.0.0.1:3478",), turn_username="u", turn_password="p")])
def test_fixed_turn_credentials_need_no_renewing(joined, settings):
    assert joined(name="Ada")[1]["iceRenewSeconds"] is None


def test_others_hear_about_a_joiner(joined):
    first, _ = joined(name="Ada")
    _, reply = joined(name="Grace", media={"audio": False, "video": True})
    assert events(first, "peer-joined") == [{"id": reply["id"], "name": "Grace", "media": {"audio": False, "video": True, "screen": False}}]


def test_duplicate_names_get_a_suffix(joined):
    joined(name="Ada")
    assert joined(name="Ada")[1]["name"] == "Ada (2)"


def test_room_full_past_mesh_max_without_janus(app, connect):
    for number in range(app.config["ENSEMBLE_SETTINGS"].mesh_max):
        assert connect().emit("join", {"room": "r", "name": f"p{number}"}, callback=True)["ok"]
    assert error_code(connect().emit("join", {"room": "r", "name": "late"}, callback=True)) == "room_full"


# Without the wait a wrong password costs (test_guard.py), which would answer the second
# guess from this one address `rate_limited`.
@pytest.mark.parametrize("settings", [make_settings(wrong_password_delay_seconds=0)])
def test_wrong_password(connect, joined):
    joined(room="vault", name="Ada", password="sesame")
    assert error_code(connect().emit("join", {"room": "vault", "name": "Eve", "password": "guess"}, callback=True)) == "wrong_password"
    assert error_code(connect().emit("join", {"room": "vault", "name": "Eve"}, callback=True)) == "wrong_password"
    assert connect().emit("join", {"room": "vault", "name": "Bob", "password": "sesame"}, callback=True)["ok"]


def test_a_join_without_a_password_guesses_nothing_and_costs_nothing(connect, joined):
    """A page's first join into a room it did not know has a password is sent without one:
    it is answered wrong_password but does not make the next join wait."""
    joined(room="vault", name="Ada", password="sesame")
    assert error_code(connect().emit("join", {"room": "vault", "name": "Eve"}, callback=True)) == "wrong_password"
    assert error_code(connect().emit("join", {"room": "vault", "name": "Eve", "password": "typo"}, callback=True)) == "wrong_password"
    waiting = connect().emit("join", {"room": "vault", "name": "Eve", "password": "sesame"}, callback=True)
    assert waiting["error"]["code"] == "rate_limited" and 0 < waiting["retryAfter"] <= 1  # the typo costs its second


def test_joining_a_second_room_leaves_the_first(joined):
    stay, _ = joined(room="a", name="Stay")
    mover, reply = joined(room="a", name="Mover")
    stay.get_received()
    assert mover.emit("join", {"room": "b", "name": "Mover"}, callback=True)["ok"]
    assert events(stay, "peer-left") == [{"id": reply["id"]}]
    stay.emit("chat", {"text": "still here?"}, callback=True)
    assert events(mover, "chat") == []


def test_a_failed_join_keeps_the_current_room(connect, joined):
    joined(room="vault", name="Ada", password="sesame")
    watcher, _ = joined(room="home", name="Watcher")
    mover = connect()
    mover.emit("join", {"room": "home", "name": "Mover"}, callback=True)
    watcher.get_received()
    assert error_code(mover.emit("join", {"room": "vault", "name": "Mover"}, callback=True)) == "wrong_password"
    assert events(watcher, "peer-left") == []
    assert mover.emit("chat", {"text": "still home"}, callback=True)["ok"]
    assert [message["text"] for message in events(watcher, "chat")] == ["still home"]


# --- leave and disconnect ---------------------------------------------------


def test_leave_tells_the_room_and_is_acknowledged(joined):
    stay, _ = joined(name="Stay")
    leaver, reply = joined(name="Leaver")
    stay.get_received()
    assert leaver.emit("leave", {}, callback=True) == {"ok": True}
    assert events(stay, "peer-left") == [{"id": reply["id"]}]
    assert error_code(leaver.emit("leave", {}, callback=True)) == "not_joined"


def test_disconnect_tells_the_room(joined):
    stay, _ = joined(name="Stay")
    gone, reply = joined(name="Gone")
    stay.get_received()
    gone.disconnect()
    assert events(stay, "peer-left") == [{"id": reply["id"]}]


# --- signal -----------------------------------------------------------------


def test_signal_reaches_only_its_target_with_the_sender_id(joined):
    alice, alice_join = joined(name="Alice")
    bob, bob_join = joined(name="Bob")
    carol, _ = joined(name="Carol")
    for client in (alice, bob, carol):
        client.get_received()
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    assert alice.emit("signal", {"to": bob_join["id"], "kind": "offer", "data": offer}, callback=True) == {"ok": True}
    assert events(bob, "signal") == [{"from": alice_join["id"], "kind": "offer", "data": offer}]
    assert events(carol, "signal") == [] and events(alice, "signal") == []


def test_signal_to_a_peer_in_another_room_is_unknown(joined):
    alice, _ = joined(room="a", name="Alice")
    stranger, stranger_join = joined(room="b", name="Stranger")
    reply = alice.emit("signal", {"to": stranger_join["id"], "kind": "offer", "data": {}}, callback=True)
    assert error_code(reply) == "unknown_peer"
    assert events(stranger, "signal") == []


def test_signal_to_yourself_or_nobody_is_unknown(joined):
    alice, reply = joined(name="Alice")
    for target in (reply["id"], "no-such-peer"):
        assert error_code(alice.emit("signal", {"to": target, "kind": "candidate", "data": {}}, callback=True)) == "unknown_peer"


def test_oversize_signal_is_too_large_and_not_relayed(joined):
    alice, _ = joined(name="Alice")
    bob, bob_join = joined(name="Bob")
    huge = {"type": "offer", "sdp": "a" * (70 * 1024)}
    assert error_code(alice.emit("signal", {"to": bob_join["id"], "kind": "offer", "data": huge}, callback=True)) == "too_large"
    assert events(bob, "signal") == []


# --- chat, media, scene -----------------------------------------------------


def test_chat_goes_to_the_whole_room_as_plain_data(joined):
    alice, alice_join = joined(name="Alice")
    bob, _ = joined(name="Bob")
    text = "<img src=x onerror=alert(1)>"
    reply = alice.emit("chat", {"text": text}, callback=True)
    message = reply["message"]
    assert message["text"] == text and message["from"] == alice_join["id"] and message["name"] == "Alice"
    assert isinstance(message["ts"], int) and message["id"]
    assert events(bob, "chat") == [message]
    assert events(alice, "chat") == [message]


def test_chat_is_rate_limited_per_connection(connect):
    app = create_app(make_settings(chat_burst=3, chats_per_second=0.001))
    socketio = app.extensions["socketio"]
    talker, other = socketio.test_client(app), socketio.test_client(app)
    talker.emit("join", {"room": "r", "name": "Talker"}, callback=True)
    other.emit("join", {"room": "r", "name": "Other"}, callback=True)
    replies = [talker.emit("chat", {"text": f"m{number}"}, callback=True) for number in range(5)]
    assert [reply["ok"] for reply in replies] == [True, True, True, False, False]
    assert error_code(replies[3]) == "rate_limited"
    assert other.emit("chat", {"text": "my turn"}, callback=True)["ok"]


def test_any_event_flood_is_rate_limited():
    app = create_app(make_settings(event_burst=5, events_per_second=0.001))
    client = app.extensions["socketio"].test_client(app)
    replies = [client.emit("media", {"audio": True, "video": True}, callback=True) for _ in range(7)]
    assert [reply["error"]["code"] for reply in replies] == ["not_joined"] * 5 + ["rate_limited"] * 2


def test_media_state_goes_to_the_others(joined):
    alice, alice_join = joined(name="Alice")
    bob, _ = joined(name="Bob")
    assert alice.emit("media", {"audio": False, "video": True}, callback=True) == {"ok": True}
    assert events(bob, "media") == [{"id": alice_join["id"], "audio": False, "video": True, "screen": False}]
    assert events(alice, "media") == []
    _, late = joined(name="Late")
    assert {peer["name"]: peer["media"] for peer in late["peers"]}["Alice"] == {"audio": False, "video": True, "screen": False}


def test_a_shared_screen_is_announced_and_kept_for_latecomers(joined):
    alice, alice_join = joined(name="Alice")
    bob, _ = joined(name="Bob")
    assert alice.emit("media", {"audio": True, "video": True, "screen": True}, callback=True) == {"ok": True}
    assert events(bob, "media") == [{"id": alice_join["id"], "audio": True, "video": True, "screen": True}]
    _, late = joined(name="Late")
    assert {peer["name"]: peer["media"] for peer in late["peers"]}["Alice"]["screen"] is True


def test_a_screen_flag_that_is_not_a_boolean_is_refused_and_changes_nothing(joined):
    alice, _ = joined(name="Alice")
    bob, _ = joined(name="Bob")
    reply = alice.emit("media", {"audio": False, "video": True, "screen": "yes"}, callback=True)
    assert error_code(reply) == "bad_request" and "'screen'" in reply["error"]["message"]
    assert events(bob, "media") == []
    _, late = joined(name="Late")
    assert {peer["name"]: peer["media"] for peer in late["peers"]}["Alice"] == {"audio": True, "video": True, "screen": False}


def test_scene_is_versioned_stored_and_broadcast(joined):
    alice, alice_join = joined(name="Alice")
    bob, _ = joined(name="Bob")
    scene = {"canvas": {"width": 1280, "height": 720}}
    assert alice.emit("scene", {"scene": scene, "version": 0}, callback=True) == {"ok": True, "version": 1}
    assert events(bob, "scene") == [{"scene": scene, "version": 1, "by": alice_join["id"]}]
    stale = bob.emit("scene", {"scene": {"arrange": "grid"}, "version": 0}, callback=True)
    assert error_code(stale) == "version_conflict"
    assert stale["scene"] == scene and stale["version"] == 1
    assert joined(name="Late")[1]["scene"]["scene"] == scene


@pytest.mark.parametrize(
    "scene, field",
    [
        ({"participants": [{"name": "Ada", "scale": 9}]}, "participants[0].scale"),
        ({"background": {"image": "https://example.com/beach.jpg"}}, "background.image"),
        ({"overlays": [{"image": "/static/stickers/crown.svg"}]}, "overlays[0]"),
        ({"arrange": "circle"}, "arrange"),
        ({"canvas": {"width": 1280}}, "canvas"),
    ],
)
def test_a_scene_against_the_schema_is_refused_naming_the_field_and_changes_nothing(joined, scene, field):
    alice, alice_join = joined(name="Alice")
    bob, _ = joined(name="Bob")
    good = {"arrange": "row", "participants": [{"name": "Alice", "x": 0.1, "y": 0.2, "scale": 0.4}]}
    assert alice.emit("scene", {"scene": good, "version": 0}, callback=True)["ok"]
    bob.get_received()
    reply = alice.emit("scene", {"scene": scene, "version": 1}, callback=True)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request"
    assert reply["error"]["field"] == field and field in reply["error"]["message"]
    assert bob.get_received() == []
    assert joined(name="Late")[1]["scene"] == {"scene": good, "version": 1, "by": alice_join["id"]}


@pytest.mark.parametrize(
    "event, payload",
    [
        ("signal", {"to": "x", "kind": "offer", "data": {}}),
        ("chat", {"text": "hello"}),
        ("media", {"audio": True, "video": False}),
        ("scene", {"scene": {}, "version": 0}),
        ("leave", {}),
        ("ice-servers", {}),
    ],
)
def test_room_events_need_a_join_first(connect, event, payload):
    assert error_code(connect().emit(event, payload, callback=True)) == "not_joined"


# --- malformed input --------------------------------------------------------


@pytest.mark.parametrize("payload", [None, 42, "text", [1, 2], True, {"room": {"$gt": ""}}])
def test_malformed_payloads_are_bad_requests(connect, joined, payload):
    for event in ("join", "signal", "chat", "media"):
        assert error_code(connect().emit(event, payload, callback=True)) == "bad_request", event
    # A scene is looked at only once its sender is known to be a member (below).
    member, _ = joined(name="Ada")
    assert error_code(member.emit("scene", payload, callback=True)) == "bad_request"


@pytest.mark.parametrize(
    "payload",
    [
        {"scene": {"participants": [{}] * 21_000}, "version": 0},  # 0.6 s of jsonschema, when it came first
        {"scene": {"arrange": "circle"}, "version": 0},
        {"scene": "not a scene", "version": -1},
        None,
    ],
)
def test_a_strangers_scene_is_refused_not_joined_before_it_is_looked_at(connect, joined, payload):
    member, _ = joined(name="Ada")
    assert error_code(connect().emit("scene", payload, callback=True)) == "not_joined"
    assert member.get_received() == []


@pytest.mark.parametrize("payload", [42, "text", [1, 2], True])
def test_events_without_a_payload_refuse_one_that_is_not_an_object(joined, payload):
    client, _ = joined(name="Ada")
    for event in ("ice-servers", "leave"):
        assert error_code(client.emit(event, payload, callback=True)) == "bad_request", event
    assert client.emit("chat", {"text": "still in the room"}, callback=True)["ok"]


def test_two_payloads_are_a_bad_request(connect):
    assert error_code(connect().emit("join", {"room": "r", "name": "A"}, {"x": 1}, callback=True)) == "bad_request"


def test_unknown_event_is_a_bad_request_and_disturbs_nobody(joined):
    alice, _ = joined(name="Alice")
    bob, _ = joined(name="Bob")
    reply = alice.emit("explode", {"now": True}, callback=True)
    assert error_code(reply) == "bad_request" and "explode" in reply["error"]["message"]
    assert bob.get_received() == []
    assert alice.emit("chat", {"text": "still fine"}, callback=True)["ok"]


def test_without_an_ack_the_error_arrives_as_an_event(connect):
    client = connect()
    client.emit("chat", {"text": "hello"})
    client.emit("join", {"room": "bad room", "name": "A"})
    errors = events(client, "error")
    assert [(error["event"], error["code"]) for error in errors] == [("chat", "not_joined"), ("join", "bad_request")]
    assert all(error["message"] for error in errors)


def test_without_an_ack_an_unknown_event_or_a_second_payload_arrives_as_an_error_event(joined):
    alice, _ = joined(name="Alice")
    alice.emit("explode", {"now": True})
    alice.emit("chat", {"text": "one"}, {"text": "two"})
    errors = events(alice, "error")
    assert [(error["event"], error["code"]) for error in errors] == [("explode", "bad_request"), ("chat", "bad_request")]
    assert "explode" in errors[0]["message"] and "one payload" in errors[1]["message"]


def test_without_an_ack_success_sends_nothing_back(joined):
    alice, _ = joined(name="Alice")
    alice.emit("media", {"audio": True, "video": True})
    assert alice.get_received() == []


class BrokenRegistry(MemoryRegistry):
    def add_chat(self, room, message):
        raise RuntimeError("disk on fire")


def test_an_unexpected_failure_is_logged_and_answered_internal(caplog):
    app = create_app(make_settings(), registry=BrokenRegistry())
    socketio = app.extensions["socketio"]
    alice, bob = socketio.test_client(app), socketio.test_client(app)
    alice.emit("join", {"room": "r", "name": "Alice"}, callback=True)
    bob.emit("join", {"room": "r", "name": "Bob"}, callback=True)
    bob.get_received()
    reply = alice.emit("chat", {"text": "hi"}, callback=True)
    assert error_code(reply) == "internal"
    failures = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert failures and failures[0].exc_info and "disk on fire" in str(failures[0].exc_info[1])
    assert bob.get_received() == []
    assert alice.emit("media", {"audio": False, "video": False}, callback=True)["ok"]
    caplog.clear()  # the logged traceback was the point of this test


def test_a_rejoin_with_the_join_token_takes_over_the_old_membership(connect, joined):
    stay, _ = joined(name="Stay")
    old, reply = joined(name="Ada")
    stay.get_received()
    # Ada's link dropped; the server has not noticed yet, and her page rejoins on a new one.
    again = connect().emit("join", {"room": "standup", "name": "Ada", "resume": {"id": reply["id"], "token": reply["token"]}}, callback=True)
    assert again["ok"] and again["name"] == "Ada" and [peer["name"] for peer in again["peers"]] == ["Stay"]
    assert [name for name in (m["name"] for m in stay.get_received())] == ["peer-left", "peer-joined"]
    assert error_code(old.emit("chat", {"text": "from the old link"}, callback=True)) == "not_joined"


def test_a_wrong_resume_token_takes_over_nothing(connect, joined):
    _, reply = joined(name="Ada")
    thief = connect().emit("join", {"room": "standup", "name": "Ada", "resume": {"id": reply["id"], "token": "guess"}}, callback=True)
    assert thief["ok"] and thief["name"] == "Ada (2)" and [peer["name"] for peer in thief["peers"]] == ["Ada"]


@pytest.mark.parametrize("resume", ["x", {"id": "a"}, {"id": 1, "token": "t"}, {"id": "a", "token": "t" * 65}])
def test_a_malformed_resume_is_refused(connect, resume):
    reply = connect().emit("join", {"room": "r", "name": "Ada", "resume": resume}, callback=True)
    assert error_code(reply) == "bad_request"


def test_a_membership_taken_over_cuts_its_old_socket_off_the_room(connect, joined):
    stay, _ = joined(name="Stay")
    old, reply = joined(name="Ada")
    stay.get_received()
    # Ada reloaded: her new page takes the membership over while the old socket is still open.
    new = connect()
    again = new.emit("join", {"room": "standup", "name": "Ada", "resume": {"id": reply["id"], "token": reply["token"]}}, callback=True)
    assert again["ok"]
    assert [message["name"] for message in old.get_received()] == ["replaced"]
    stay.emit("chat", {"text": "for the members"}, callback=True)
    new.emit("signal", {"to": again["id"], "kind": "offer", "data": {}}, callback=True)
    assert events(new, "chat")[-1]["text"] == "for the members"
    assert old.get_received() == [], "the old socket hears nothing of the room any more"
    assert error_code(old.emit("chat", {"text": "from the old link"}, callback=True)) == "not_joined"
    stay.get_received()
    old.disconnect()
    assert stay.get_received() == [], "the old socket closing is no departure: the membership lives on"


@pytest.mark.parametrize("token", ["t\u00f6ken", "\u4ee4\u724c", "\ud800"])
def test_a_resume_token_outside_the_url_safe_alphabet_is_a_bad_request(connect, joined, token):
    _, reply = joined(name="Ada")
    answer = connect().emit("join", {"room": "standup", "name": "Ada", "resume": {"id": reply["id"], "token": token}}, callback=True)
    assert error_code(answer) == "bad_request"
    # Nothing was taken over: the membership still answers to its own token.
    resume = {"id": reply["id"], "token": reply["token"]}
    assert connect().emit("join", {"room": "standup", "name": "Ada", "resume": resume}, callback=True)["name"] == "Ada"


@pytest.mark.parametrize("header", ["{id}:t\u00f6ken", "{id}:\u00ff\u00fe", "\u00e9:{token}", "{id}:{token}:extra"])
def test_a_member_header_outside_the_url_safe_alphabet_is_not_a_membership(app, joined, header):
    _, reply = joined(name="Ada")
    credential = header.format(id=reply["id"], token=reply["token"])
    response = app.test_client().get("/api/ice-servers", headers={"X-Ensemble-Member": credential.encode().decode("latin-1")})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_joined"
