"""Three `python server.py` processes sharing one real redis-server act as one server."""

import itertools
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from ensemble_client import EnsembleClient, ProtocolReplyError
from harness.servers import ROOT, RedisProcess, ServerProcess, free_port
from tests.waiting import eventually

# The registry's heartbeat expiry (10 s) plus one upkeep round (2 s) and slack: the documented bound.
SWEEP_BOUND_SECONDS = 15
RESTORE_BOUND_SECONDS = 10


@pytest.fixture(scope="module")
def servers(redis_servers):
    return redis_servers(3, mesh_max=3, room_grace_seconds=60)


@pytest.fixture
def clients(servers, connect_client):
    """`clients(n)`: n connected clients, the i-th on process i mod 3."""
    spread = itertools.cycle(servers)
    return lambda count: [connect_client(next(spread).url) for _ in range(count)]


def health(server):
    try:
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_two_rooms_over_three_processes_reach_exactly_their_own_members(clients):
    rooms = {"north": clients(3), "south": clients(3)}
    for room, members in rooms.items():
        for number, client in enumerate(members):
            reply = client.join(room, f"{room}-{number}")
            assert [peer["name"] for peer in reply["peers"]] == sorted(f"{room}-{n}" for n in range(number))
    for room, members in rooms.items():
        for sender, receiver in itertools.permutations(members, 2):
            sender.signal(receiver.id, "offer", {"type": "offer", "sdp": f"from {sender.id}"})
        members[0].chat(f"hello {room}")
        members[1].media(audio=False, video=True)
        assert members[2].scene({"participants": []}, 0) == 1
        with pytest.raises(ProtocolReplyError) as stale:
            members[0].scene({"participants": []}, 0)
        assert stale.value.code == "version_conflict" and stale.value.reply["version"] == 1

    for room, members in rooms.items():
        ids = {client.id for client in members}
        for client in members:
            offers = client.wait_for_count("signal", 2)
            assert {offer["data"]["sdp"] for offer in offers} == {f"from {other}" for other in ids - {client.id}}
            assert client.wait_for("chat")["text"] == f"hello {room}"
        for client in (members[0], members[2]):
            assert client.wait_for("media") == {"id": members[1].id, "audio": False, "video": True, "screen": False}
        for client in members[:2]:
            assert client.wait_for("scene")["version"] == 1
        # A peer in another room is not addressable, whichever process serves it.
        other_room = rooms["south" if room == "north" else "north"]
        with pytest.raises(ProtocolReplyError) as crossing:
            members[0].signal(other_room[0].id, "offer", {"type": "offer", "sdp": "x"})
        assert crossing.value.code == "unknown_peer"

    for room, members in rooms.items():
        for client in members:
            assert len(client.received("signal")) == 2
            assert [message["text"] for message in client.received("chat")] == [f"hello {room}"]
            assert {peer["id"] for peer in client.received("peer-joined")} <= {other.id for other in members}
            assert len(client.received("scene")) == (0 if client is members[2] else 1)
    late = clients(1)[0]
    members = rooms["north"]
    members[2].leave()
    reply = late.join("north", "late")
    assert [message["text"] for message in reply["chat"]] == ["hello north"]
    assert reply["scene"]["version"] == 1


def test_capacity_and_unique_names_hold_across_processes(clients):
    first, second, third, fourth = clients(4)
    assert [client.join("full", "Ada")["name"] for client in (first, second, third)] == ["Ada", "Ada (2)", "Ada (3)"]
    with pytest.raises(ProtocolReplyError) as refused:
        fourth.join("full", "Ada")
    assert refused.value.code == "room_full"
    second.leave()
    assert fourth.join("full", "Ada")["name"] == "Ada (2)"


def test_a_killed_process_members_leave_their_rooms_and_free_their_names(clients, servers):
    stay, doomed, elsewhere = clients(3)  # on processes 0, 1 and 2
    stay.join("crash", "Stay")
    doomed.join("crash", "Doomed")
    elsewhere.join("crash-other", "Else")
    doomed_id = doomed.id
    servers[1].kill()
    try:
        assert stay.wait_for("peer-left", timeout=SWEEP_BOUND_SECONDS) == {"id": doomed_id}
        assert elsewhere.received("peer-left") == []
        again = EnsembleClient(servers[2].url).connect()
        assert again.join("crash", "Doomed")["name"] == "Doomed"
        again.close()
    finally:
        servers[1].start()


def test_a_member_of_a_killed_process_comes_back_through_another_at_once_with_name_and_place(clients, servers):
    stay, doomed, third = clients(3)
    stay.join("resume", "Stay")
    reply = doomed.join("resume", "Doomed")
    third.join("resume", "Third")  # the room is full
    servers[1].kill()
    try:
        with EnsembleClient(servers[2].url) as back:
            again = back.request(
                "join", {"room": "resume", "name": "Doomed", "resume": {"id": reply["id"], "token": reply["token"]}}
            )
            assert again["name"] == "Doomed" and sorted(peer["name"] for peer in again["peers"]) == ["Stay", "Third"]
            assert stay.wait_for("peer-left") == {"id": reply["id"]}
            assert stay.wait_for("peer-joined", match=lambda peer: peer["id"] == again["id"])["name"] == "Doomed"
    finally:
        servers[1].start()


def test_a_process_paused_past_its_heartbeat_is_swept_and_puts_its_members_back_when_it_wakes(clients, servers):
    stay, sleeper = clients(2)  # on processes 0 and 1
    stay.join("nap", "Stay")
    reply = sleeper.join("nap", "Sleeper")
    servers[1].pause()  # a stalled machine: its sockets stay open, its heartbeat stops
    try:
        assert stay.wait_for("peer-left", timeout=SWEEP_BOUND_SECONDS) == {"id": reply["id"]}
    finally:
        servers[1].resume()
    back = stay.wait_for("peer-joined", match=lambda peer: peer["id"] == reply["id"], timeout=RESTORE_BOUND_SECONDS)
    assert back["name"] == "Sleeper"
    sleeper.wait_for("restored", timeout=RESTORE_BOUND_SECONDS)
    assert sleeper.received("peer-joined") == [], "a member is not told of itself"
    sleeper.signal(stay.id, "offer", {"type": "offer", "sdp": "awake"})
    assert stay.wait_for("signal")["data"]["sdp"] == "awake"


def test_lost_redis_answers_unavailable_and_members_reach_each_other_after_it_returns_empty(clients, servers, own_redis):
    ada, bob, cy = clients(3)
    for client, name in ((ada, "Ada"), (bob, "Bob"), (cy, "Cy")):
        client.join("weather", name)
    own_redis.stop()
    try:
        started = time.monotonic()
        with pytest.raises(ProtocolReplyError) as refused:
            bob.join("weather-2", "Bob")
        assert refused.value.code == "unavailable" and time.monotonic() - started < 5
        status, answer = health(servers[0])
        assert status == 503 and answer["ok"] is False and "error" in answer
    finally:
        own_redis.start()  # empty: no persistence
    eventually(lambda: health(servers[0])[0] == 200, RESTORE_BOUND_SECONDS, every=0.1, what="healthz is 200 again")
    for client in (ada, bob, cy):
        client.wait_for("restored", timeout=RESTORE_BOUND_SECONDS)

    def signal_gets_through():
        try:
            ada.signal(bob.id, "offer", {"type": "offer", "sdp": "after"})
            cy.signal(ada.id, "offer", {"type": "offer", "sdp": "after"})
            return True
        except ProtocolReplyError:
            return False

    eventually(signal_gets_through, RESTORE_BOUND_SECONDS, every=0.1, what="members signal each other without rejoining")
    assert bob.wait_for("signal", match=lambda s: s["data"]["sdp"] == "after")["from"] == ada.id
    assert ada.wait_for("signal", match=lambda s: s["data"]["sdp"] == "after")["from"] == cy.id
    late = clients(1)[0]
    with pytest.raises(ProtocolReplyError) as full:
        late.join("weather", "Dee")
    assert full.value.code == "room_full"  # all three are back, places and all
    cy.leave()
    reply = late.join("weather", "Ada")
    assert reply["name"] == "Ada (2)" and sorted(peer["name"] for peer in reply["peers"]) == ["Ada", "Bob"]


@pytest.mark.parametrize("async_mode", ["eventlet", "threading"])
def test_the_other_async_modes_share_rooms_through_redis_too(async_mode, own_redis, tmp_path):
    processes = [ServerProcess(tmp_path, async_mode=async_mode, redis_url=own_redis.url) for _ in range(2)]
    try:
        for process in processes:
            process.start()
        with EnsembleClient(processes[0].url) as ada, EnsembleClient(processes[1].url) as bob:
            ada.join(f"modes-{async_mode}", "Ada")
            assert [peer["name"] for peer in bob.join(f"modes-{async_mode}", "Bob")["peers"]] == ["Ada"]
            bob.signal(ada.id, "offer", {"type": "offer", "sdp": "across"})
            ada.chat("hello")
            assert ada.wait_for("signal")["from"] == bob.id
            assert bob.wait_for("chat")["text"] == "hello"
    finally:
        for process in processes:
            process.stop()
    for process in processes:
        assert "Traceback" not in process.log(), process.log()


def test_rediss_urls_share_rooms_over_tls(tmp_path):
    with RedisProcess(tmp_path, tls=True) as store:
        assert store.url.startswith("rediss://")
        with ServerProcess(tmp_path, redis_url=store.url) as first, ServerProcess(tmp_path, redis_url=store.url) as second:
            with EnsembleClient(first.url) as ada, EnsembleClient(second.url) as bob:
                ada.join("tls", "Ada")
                bob.join("tls", "Bob")
                bob.chat("over tls")
                assert ada.wait_for("chat")["text"] == "over tls"
        assert "Traceback" not in first.log() + second.log()


def test_a_server_that_cannot_reach_redis_at_start_exits_with_one_line(tmp_path):
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    result = subprocess.run(
        [sys.executable, str(ROOT / "server.py")], cwd=ROOT, capture_output=True, text=True, timeout=30,
        env={**os.environ, "REDIS_URL": url, "PORT": str(free_port())},
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"ensemble: Redis at redis://:\*\*\*@127\.0\.0\.1:\d+/0 cannot be reached: .*", last), result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


def test_a_membership_taken_over_on_another_process_cuts_its_old_socket_off_the_room(servers, connect_client):
    old, watcher = connect_client(servers[0].url), connect_client(servers[0].url)
    stay = connect_client(servers[2].url)
    reply = old.join("takeover", "Ada")
    watcher.join("takeover", "Watcher")
    stay.join("takeover", "Stay")  # the room is full
    # Ada's page reloaded onto process 1 while her old socket on process 0 is still open.
    new = connect_client(servers[1].url)
    again = new.request("join", {"room": "takeover", "name": "Ada", "resume": {"id": reply["id"], "token": reply["token"]}})
    assert again["name"] == "Ada"
    old.wait_for("replaced")
    stay.chat("for the members")
    new.wait_for("chat")
    # Process 0 delivered the chat to the watcher: it would have delivered it to the old socket in the same step.
    watcher.wait_for("chat")
    assert old.received("chat") == [] and old.received("peer-left") == []
    with pytest.raises(ProtocolReplyError) as refused:
        old.chat("from the old link")
    assert refused.value.code == "not_joined"
