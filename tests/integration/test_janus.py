"""Real Janus (config/janus, started by the test) as Ensemble's SFU: its namespaces, the tokens
the server mints, and what the server asks of it."""

import time

import pytest

from ensemble.sfu.janus import JanusConnection, JanusError
from ensemble.sfu.tokens import member_tokens
from harness.janus import JanusParticipant, JanusProcess, JanusRefused, NetworkNamespace, namespaces, veth_interfaces

ROOM_A, ROOM_B = 100000000000001, 100000000000002
needs_namespaces = pytest.mark.skipif(not NetworkNamespace.available(), reason="network namespaces need root and iproute2")


@pytest.fixture(scope="module")
def janus(tmp_path_factory):
    """One Janus for the module, in a namespace of its own where this machine allows it."""
    if NetworkNamespace.available():
        with NetworkNamespace() as namespace, JanusProcess(tmp_path_factory.mktemp("janus"), namespace) as process:
            yield process
    else:
        with JanusProcess(tmp_path_factory.mktemp("janus")) as process:
            yield process


@pytest.fixture(scope="module")
def rooms(janus):
    """Rooms A and B, made as the server makes them (signed tokens, a secret)."""
    connection = JanusConnection(janus.url, janus.secrets.api)
    for room in (ROOM_A, ROOM_B):
        connection.videoroom(
            {"request": "create", "room": room, "admin_key": janus.secrets.admin_key, "secret": "room-secret", "signed_tokens": True}
        )
    yield connection
    connection.close()


def participant(janus, room, tokens, feed=None):
    joining = JanusParticipant(janus.url)
    try:
        joining.join(tokens.core, room, tokens.room, feed=feed)
    finally:
        joining.close()


def test_a_member_token_opens_its_own_room(janus, rooms):
    participant(janus, ROOM_A, member_tokens(janus.secrets.token, ROOM_A, time.time(), 60))


def test_a_token_for_room_a_is_refused_in_room_b(janus, rooms):
    with pytest.raises(JanusRefused) as refused:
        participant(janus, ROOM_B, member_tokens(janus.secrets.token, ROOM_A, time.time(), 60))
    assert (refused.value.step, refused.value.code) == ("join", 433)


def test_an_expired_token_is_refused(janus, rooms):
    with pytest.raises(JanusRefused) as refused:
        participant(janus, ROOM_A, member_tokens(janus.secrets.token, ROOM_A, time.time() - 120, 60))
    assert (refused.value.step, refused.value.code) == ("create", 403)


def test_a_token_signed_with_another_secret_is_refused(janus, rooms):
    with pytest.raises(JanusRefused) as refused:
        participant(janus, ROOM_A, member_tokens("not-the-secret", ROOM_A, time.time(), 60))
    assert refused.value.code == 403


def test_rooms_are_created_only_with_the_admin_key(janus):
    connection = JanusConnection(janus.url, janus.secrets.api)
    with pytest.raises(JanusError) as refused:
        connection.videoroom({"request": "create", "room": 100000000000009, "admin_key": "guess"})
    assert refused.value.code == 433
    connection.close()


@needs_namespaces
def test_a_namespace_leaves_nothing_behind_even_when_its_test_fails():
    with pytest.raises(RuntimeError), NetworkNamespace() as namespace:
        assert namespace.name in namespaces() and namespace.host_interface in veth_interfaces()
        raise RuntimeError("the test failed")
    assert namespace.name not in namespaces()
    assert namespace.host_interface not in veth_interfaces()
