"""The property of tests/unit/test_properties.py over a real socket to `python server.py`
(gevent): payloads python-socketio sends as the browser cannot, binary attachments included,
are answered structured, reach no one else, and leave no traceback in the server's log."""

import itertools

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ensemble.protocol import ERROR_CODES
from ensemble_client import EnsembleClient
from harness.servers import ServerProcess
from tests.unit.test_properties import EVENTS, UNLIMITED, addressed, json_values, near_valid, shaped

ROOMS = itertools.count()
binary_values = st.recursive(
    json_values | st.binary(max_size=64), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("logs"), **UNLIMITED)
    with process:
        yield process
    assert "Traceback" not in process.log(), process.log()
    assert " ERROR " not in process.log(), process.log()


@pytest.fixture(scope="module")
def pair(server):
    """An actor and a bystander in one room, for the whole module (each example leaves them there)."""
    actor, bystander = EnsembleClient(server.url).connect(), EnsembleClient(server.url).connect()
    room = f"live{next(ROOMS)}"
    actor.join(room, "Actor")
    bystander.join(room, "Bystander")
    yield actor, bystander, room
    actor.close()
    bystander.close()


binary_shaped = st.one_of(
    st.fixed_dictionaries({"to": st.just("@peer"), "kind": st.sampled_from(["offer", "candidate"]),
                           "data": st.dictionaries(st.text(max_size=8), binary_values, max_size=3)}).map(lambda p: ("signal", p)),
    st.fixed_dictionaries({"scene": st.dictionaries(st.text(max_size=8), binary_values, max_size=3), "version": st.integers(0, 2)}).map(
        lambda p: ("scene", p)
    ),
)


def holds_bytes(value):
    if isinstance(value, bytes):
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(holds_bytes(item) for item in items)


# A round trip over a socket costs more than the test client's: a fifth of the profile's examples.
@settings(max_examples=max(30, settings.default.max_examples // 5))
@given(st.tuples(st.sampled_from(EVENTS), json_values) | near_valid | shaped)
def test_anything_over_a_real_socket_is_answered_structured_and_reaches_no_one_else(pair, sent):
    actor, bystander, room = pair
    event, payload = sent
    # A frame over 256 KiB closes the connection (max_http_buffer_size), by design.
    assume(len(repr(payload)) < 150_000)
    # The server answers each socket in order: once this reply is in, so is whatever the
    # previous example sent the bystander.
    bystander.request("media", {"audio": True, "video": True})
    bystander.forget_received()
    reply = actor.call(event, addressed(payload, bystander.id))
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), reply
    if reply["ok"]:
        if event in ("join", "leave"):  # back to where the next example expects it
            actor.request("join", {"room": room, "name": "Actor"})
        return
    assert reply["error"]["code"] in ERROR_CODES
    # The server answers in order: a media event's reply comes after anything the failure could have sent.
    bystander.request("media", {"audio": True, "video": True})
    assert bystander.received() == []


@settings(max_examples=max(10, settings.default.max_examples // 10))
@given(st.tuples(st.sampled_from(EVENTS), binary_values) | binary_shaped)
def test_binary_attachments_close_their_connection_and_reach_no_one_else(server, pair, sent):
    """The protocol has no binary: a packet with attachments is refused at decode, the
    sender told why, and its connection closed (tests/integration/test_wire.py)."""
    _, bystander, _ = pair
    event, payload = sent
    assume(holds_bytes(payload) and len(repr(payload)) < 150_000)  # larger frames close the connection unread
    # Once this reply is in, so is whatever the previous test's last example sent the
    # bystander (the actor's leave and join again): the server answers each socket in order.
    bystander.request("media", {"audio": True, "video": True})
    bystander.forget_received()
    with EnsembleClient(server.url) as stranger:
        stranger.send_without_ack(event, addressed(payload, bystander.id))
        assert stranger.wait_for("error")["message"] == "Malformed packet: a binary packet."
    bystander.request("media", {"audio": True, "video": True})
    assert bystander.received() == []
