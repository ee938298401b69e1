"""Real python-socketio clients against `python server.py` in every async mode."""

import itertools
import json
import urllib.request

import pytest

from ensemble_client import ProtocolReplyError
from harness.servers import ServerProcess


@pytest.fixture(scope="module", params=["gevent", "eventlet", "threading"])
def server(request, tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("logs"), async_mode=request.param)
    with process:
        yield process
    assert "Traceback" not in process.log(), process.log()


@pytest.fixture
def clients(server, connect_client):
    return lambda: connect_client(server.url)


def test_the_server_runs_in_the_requested_mode(server):
    mode = server.log_path.name.split("-")[1]
    with urllib.request.urlopen(server.url + "/healthz") as response:
        assert json.load(response)["asyncMode"] == mode


def test_two_rooms_of_three_exchange_signals_chat_and_media_without_crosstalk(clients):
    rooms = {room: [clients() for _ in range(3)] for room in ("north", "south")}
    for room, members in rooms.items():
        for number, client in enumerate(members):
            client.join(room, f"{room}-{number}")

    for room, members in rooms.items():
        for sender, receiver in itertools.permutations(members, 2):
            sender.signal(receiver.id, "offer", {"type": "offer", "sdp": f"from {sender.name}"})
        members[0].chat(f"hello {room}")
        members[1].media(audio=False, video=True)

    for room, members in rooms.items():
        ids = {client.id for client in members}
        for client in members:
            offers = client.wait_for_count("signal", 2)
            assert {offer["from"] for offer in offers} == ids - {client.id}
            assert client.wait_for("chat")["text"] == f"hello {room}"
        for client in (members[0], members[2]):
            assert client.wait_for("media") == {"id": members[1].id, "audio": False, "video": True, "screen": False}

    for room, members in rooms.items():
        for client in members:
            assert len(client.received("signal")) == 2
            assert [message["text"] for message in client.received("chat")] == [f"hello {room}"]
            joined_ids = {peer["id"] for peer in client.received("peer-joined")}
            assert joined_ids <= {other.id for other in members}


def test_disconnect_produces_peer_left_for_the_room_only(clients):
    stay, go = clients(), clients()
    elsewhere = clients()
    stay.join("left-test", "Stay")
    go.join("left-test", "Go")
    elsewhere.join("other-room", "Else")
    gone_id = go.id
    go.close()
    assert stay.wait_for("peer-left") == {"id": gone_id}
    # The server sent peer-left before this request's answer: had it gone to `elsewhere` too, it would be here by now.
    elsewhere.request("media", {"audio": True, "video": True})
    assert elsewhere.received("peer-left") == []


def test_errors_over_a_real_socket_leave_everyone_else_undisturbed(clients):
    alice, bob = clients(), clients()
    alice.join("errors", "Alice")
    bob.join("errors", "Bob")
    bob.forget_received()
    for event, payload in [("join", "nonsense"), ("signal", {"to": "ghost", "kind": "offer", "data": {}}), ("nope", {})]:
        with pytest.raises(ProtocolReplyError):
            alice.request(event, payload)
    alice.send_without_ack("chat", {"text": ""})
    assert alice.wait_for("error") == {"code": "bad_request", "message": "'text' must not be empty.", "event": "chat"}
    alice.chat("still works")
    assert bob.wait_for("chat")["text"] == "still works"
    assert [name for name, _ in bob.received()] == ["chat"]


def test_room_passwords_are_checked_off_the_event_loop_in_every_mode(clients):
    """PBKDF2 runs in gevent's thread pool, eventlet's tpool, or the connection's own thread."""
    owner, guesser, friend = clients(), clients(), clients()
    owner.join("vault", "Owner", password="sesame")
    with pytest.raises(ProtocolReplyError) as refused:
        guesser.join("vault", "Guesser", password="guess")
    assert refused.value.code == "wrong_password"
    assert friend.join("vault", "Friend", password="sesame")["name"] == "Friend"


def test_only_threading_mode_says_it_is_werkzeugs_development_server(server):
    """`python server.py` under ASYNC_MODE=threading serves with Werkzeug's development server
    (as `flask run` does), and says so in its log; gevent and eventlet say nothing of it."""
    mode = server.log_path.name.split("-")[1]
    assert ("development server" in server.log()) == (mode == "threading"), server.log()
