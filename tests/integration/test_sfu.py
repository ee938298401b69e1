"""Rooms past MESH_MAX move to real Janus instances (started here, in network namespaces where
this machine allows): the server creates and destroys their VideoRoom rooms, kicks who leaves,
and places rooms again when an instance stops; two processes with Redis share one Janus room.
The pages' side is played by JanusParticipant, with the tokens the `sfu` event gave."""

import contextlib
import json
import urllib.request

import pytest

from ensemble.sfu.janus import JanusConnection
from harness.janus import JanusParticipant, JanusProcess, JanusSecrets, NetworkNamespace
from harness.servers import ServerProcess, free_port
from tests.waiting import eventually

MESH_MAX = 2


@pytest.fixture(scope="module")
def janus_pair(tmp_path_factory):
    """Two Janus instances sharing the secrets, as one deployment's would."""
    shared = JanusSecrets.random()
    with contextlib.ExitStack() as stack:
        instances = []
        for _ in range(2):
            namespace = stack.enter_context(NetworkNamespace()) if NetworkNamespace.available() else None
            instances.append(stack.enter_context(JanusProcess(tmp_path_factory.mktemp("janus"), namespace, shared)))
        yield instances


def sfu_settings(instances):
    secrets = instances[0].secrets
    return {
        "janus_urls": ",".join(instance.url for instance in instances), "janus_api_secret": secrets.api,
        "janus_admin_key": secrets.admin_key, "janus_token_secret": secrets.token, "mesh_max": MESH_MAX,
    }


@pytest.fixture
def janus(janus_pair):
    """Both instances running at the start of each test (a test may stop one)."""
    for instance in janus_pair:
        if instance._process.poll() is not None:
            instance.start()
    return janus_pair


@pytest.fixture
def server(tmp_path, janus):
    with ServerProcess(tmp_path, **sfu_settings(janus)) as process:
        yield process
    assert "Traceback" not in process.log(), process.log()


def participants(instance, room_id):
    return JanusConnection(instance.url, instance.secrets.api).videoroom({"request": "listparticipants", "room": room_id})


def room_exists(instance, room_id):
    return JanusConnection(instance.url, instance.secrets.api).videoroom({"request": "exists", "room": room_id})["exists"]


def fill(connect_client, url, room, count):
    clients = [connect_client(url) for _ in range(count)]
    for number, client in enumerate(clients):
        client.join(room, f"p{number}")
    return clients


def join_janus(instance, sfu, peer_id):
    page = JanusParticipant(instance.url)
    page.join(sfu["tokens"]["core"], sfu["room"], sfu["tokens"]["room"], feed=sfu["feeds"][peer_id])
    return page


def instance_of(janus, sfu):
    return next(instance for instance in janus if instance.url == sfu["url"])


def test_a_room_stays_a_mesh_up_to_mesh_max_and_moves_to_janus_past_it(server, janus, connect_client):
    first, second = fill(connect_client, server.url, "grows", MESH_MAX)
    assert not first.received("sfu")
    third = connect_client(server.url)
    reply = third.join("grows", "third")
    sfu = reply["sfu"]
    assert set(sfu["feeds"]) == {first.id, second.id, third.id}
    assert first.wait_for("sfu")["room"] == sfu["room"] and second.wait_for("sfu")["url"] == sfu["url"]
    instance = instance_of(janus, sfu)
    assert room_exists(instance, sfu["room"])
    pages = [join_janus(instance, sfu, client.id) for client in (first, second, third)]
    assert {p["id"] for p in participants(instance, sfu["room"])["participants"]} == set(sfu["feeds"].values())
    for page in pages:
        page.close()


def test_a_member_who_leaves_is_kicked_and_the_last_one_out_destroys_the_room(server, janus, connect_client):
    clients = fill(connect_client, server.url, "kicks", MESH_MAX + 1)
    sfu = clients[0].wait_for("sfu")
    instance = instance_of(janus, sfu)
    pages = [join_janus(instance, sfu, client.id) for client in clients]
    leaving = clients[0]
    leaving_feed = sfu["feeds"][leaving.id]
    leaving.leave()
    eventually(lambda: leaving_feed not in {p["id"] for p in participants(instance, sfu["room"])["participants"]}, what="kicked")
    for client in clients[1:]:
        client.leave()
    eventually(lambda: not room_exists(instance, sfu["room"]), what="the Janus room destroyed")
    for page in pages:
        page.close()


def test_tokens_are_renewed_for_members_only(server, janus, connect_client):
    clients = fill(connect_client, server.url, "renews", MESH_MAX + 1)
    sfu = clients[0].wait_for("sfu")
    renewed = clients[0].request("sfu-token", {})
    assert (renewed["room"], renewed["url"]) == (sfu["room"], sfu["url"]) and renewed["tokens"]["expires"] >= sfu["tokens"]["expires"]
    stranger = connect_client(server.url)
    assert stranger.call("sfu-token", {})["error"]["code"] == "not_joined"
    mesh = fill(connect_client, server.url, "small", 1)[0]
    assert mesh.call("sfu-token", {})["error"]["code"] == "bad_request"


def test_rooms_spread_over_both_instances_and_come_back_on_one_when_the_other_stops(server, janus, connect_client):
    placed = {}
    for room in ("spread-1", "spread-2"):
        clients = fill(connect_client, server.url, room, MESH_MAX + 1)
        placed[room] = (clients, clients[0].wait_for("sfu"))
    assert {sfu["url"] for _, sfu in placed.values()} == {instance.url for instance in janus}
    stopped = janus[0]
    clients, old = next(value for value in placed.values() if value[1]["url"] == stopped.url)
    stopped.kill()
    moved = clients[0].wait_for("sfu", match=lambda sfu: sfu["url"] != stopped.url, timeout=15)
    assert moved["url"] == janus[1].url and set(moved["feeds"]) == {client.id for client in clients}
    join_janus(janus[1], moved, clients[0].id).close()
    health = eventually(lambda: server_health(server)["janus"][stopped.url] is False and server_health(server))
    assert health["janus"][janus[1].url] is True


def test_a_janus_that_restarts_gets_its_rooms_back_without_waiting_for_a_join(server, janus, connect_client):
    """Its pages' sessions went with it: they join again every 2 s, and find their room there
    (or, if the restart took longer than two keep-alives, on the instance it moved to)."""
    clients = fill(connect_client, server.url, "restarts", MESH_MAX + 1)
    sfu = clients[0].wait_for("sfu")
    instance = instance_of(janus, sfu)
    instance.kill()
    instance.start()

    def back():
        latest = clients[0].received("sfu")[-1]  # a later one if the room moved meanwhile
        return room_exists(instance_of(janus, latest), latest["room"]) and latest

    latest = eventually(back, timeout=15, what="the room on a Janus again")
    join_janus(instance_of(janus, latest), latest, clients[0].id).close()


def server_health(server):
    with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
        return json.loads(response.read())


def test_two_processes_with_redis_share_one_janus_room(tmp_path, janus, own_redis, connect_client):
    with ServerProcess(tmp_path, redis_url=own_redis.url, **sfu_settings(janus)) as one, \
            ServerProcess(tmp_path, redis_url=own_redis.url, **sfu_settings(janus)) as two:
        members = [connect_client(url) for url in (one.url, two.url, one.url)]
        for number, client in enumerate(members):
            client.join("across", f"p{number}")
        sfu = members[0].wait_for("sfu")
        on_two = members[1].wait_for("sfu")
        assert (on_two["url"], on_two["room"]) == (sfu["url"], sfu["room"])
        instance = instance_of(janus, sfu)
        pages = [join_janus(instance, sfu, client.id) for client in members]
        leaving_feed = sfu["feeds"][members[1].id]
        members[1].leave()  # on the other process
        eventually(lambda: leaving_feed not in {p["id"] for p in participants(instance, sfu["room"])["participants"]}, what="kicked")
        for page in pages:
            page.close()


def test_without_an_answering_janus_the_join_past_mesh_max_is_refused_and_changes_nothing(tmp_path, connect_client):
    settings = {**sfu_settings([JanusProcess(tmp_path)]), "janus_urls": f"ws://127.0.0.1:{free_port()}"}
    with ServerProcess(tmp_path, **settings) as server:
        members = fill(connect_client, server.url, "nowhere", MESH_MAX)
        late = connect_client(server.url)
        assert late.call("join", {"room": "nowhere", "name": "late"})["error"]["code"] == "room_full"
        assert members[0].call("chat", {"text": "still here"})["ok"]
        members[1].wait_for("chat")
        assert not members[0].received("peer-joined")[1:] and not members[1].received("sfu")
        eventually(lambda: server_health(server)["janus"] == {settings["janus_urls"]: False}, what="out of the rotation")
        metrics = urllib.request.urlopen(server.url + "/metrics", timeout=2).read().decode()
        assert f'ensemble_janus_up{{instance="{settings["janus_urls"]}"}} 0.0' in metrics
