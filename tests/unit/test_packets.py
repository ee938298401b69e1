"""What the packet class (signaling.AckAwarePacket, with sessions.py's rules) lets through to
python-socketio: text packets of the kinds a client sends, and nothing else; and how many
Engine.IO sessions an address may hold (Guard)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ensemble.guard import Guard
from ensemble.protocol import ProtocolError
from ensemble.sessions import MalformedPacket
from ensemble.signaling import WITHOUT_ACK, AckAwarePacket
from tests.conftest import make_settings

REFUSED = {
    b"\x00\x01binary": "binary data",
    '51-["chat",{"_placeholder":true,"num":0}]': "a binary packet",
    '61-[{"_placeholder":true,"num":0}]': "a binary packet",
    "2[": "not JSON",
    "2" + "[" * 10_000 + "]" * 10_000: "JSON nested too deep",
    '2["chat",{"text":1e999999}]': "a number too large",
    '2["chat",' + "7" * 5000 + "]": "a number too large",
    '2["chat",NaN]': "NaN, which is not JSON",
    '2["chat",-Infinity]': "-Infinity, which is not JSON",
    "2{}": "an event without a name",
    "2[1]": "an event without a name",
    "2": "an event without a name",
    '4{"message":"no"}': "a packet only servers send",
    "9": "a packet only servers send",
    "x": "no packet type",
    "": "no packet type",
}


@pytest.mark.parametrize("encoded", REFUSED, ids=range(len(REFUSED)))
def test_what_no_client_of_this_protocol_sends_is_refused_at_decode(encoded):
    with pytest.raises(MalformedPacket) as refused:
        AckAwarePacket(encoded_packet=encoded)
    assert refused.value.reason == REFUSED[encoded]
    assert refused.value.binary == (REFUSED[encoded] in ("binary data", "a binary packet"))


def test_the_protocols_packets_decode_as_before():
    assert AckAwarePacket(encoded_packet='0{"token":"x"}').data == {"token": "x"}
    assert AckAwarePacket(encoded_packet='27["chat",{"text":"hi","n":1.5}]').data == ["chat", {"text": "hi", "n": 1.5}]
    assert AckAwarePacket(encoded_packet='2["chat",{"text":"hi"}]').data == ["chat", {"text": "hi"}, WITHOUT_ACK]
    assert AckAwarePacket(encoded_packet="1").packet_type == 1
    assert AckAwarePacket(encoded_packet="3[]").packet_type == 3


json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
).map(json.dumps)


@given(st.text(max_size=3) | st.binary(max_size=20), st.text(max_size=40) | json_text)
def test_any_text_either_decodes_or_is_refused_as_malformed(head, body):
    """Nothing a client sends escapes as another exception (each of which was a traceback in the log)."""
    encoded = head + body if isinstance(head, str) else head
    try:
        AckAwarePacket(encoded_packet=encoded)
    except MalformedPacket:
        pass


# --- Engine.IO sessions per address (Guard) --------------------------------------------------


def test_sessions_are_capped_per_address_with_one_more_while_all_are_connected():
    guard = Guard(make_settings(connections_per_ip=2))
    for _ in range(2):
        guard.open_session("a")
    with pytest.raises(ProtocolError, match="Too many connections"):
        guard.open_session("a")  # two sessions that never connected: no more
    guard.open_session("b")  # another address is counted apart
    guard.connect("a")
    guard.connect("a")
    guard.open_session("a")  # both connected: one more, to be told why its connect is refused
    with pytest.raises(ProtocolError):
        guard.connect("a")
    with pytest.raises(ProtocolError):
        guard.open_session("a")
    guard.close_session("a")
    guard.open_session("a")  # a closed session frees its place
