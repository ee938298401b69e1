"""config/turnserver.conf, run by Debian's coturn on loopback, lets in the time-limited
credentials our server hands to browsers (ensemble/turn.py), over UDP and over TLS
(turns:), and refuses others. Asked as a browser asks: a TURN Allocate (RFC 5766)."""

import hashlib
import hmac
import secrets
import socket
import ssl
import struct
import time

import pytest

from ensemble.turn import turn_credentials
from harness.servers import ShippedCoturnProcess, self_signed_certificate

MAGIC_COOKIE = 0x2112A442
ALLOCATE, ALLOCATE_SUCCESS, ALLOCATE_ERROR = 0x0003, 0x0103, 0x0113
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0016, 0x0019
UDP = bytes([17, 0, 0, 0])
TTL_SECONDS = 3600


@pytest.fixture(scope="module")
def coturn(tmp_path_factory):
    folder = tmp_path_factory.mktemp("coturn")
    certificate, key = self_signed_certificate(folder)
    with ShippedCoturnProcess(folder, certificate, key) as process:
        yield process


def attribute(kind, value):
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def stun_message(kind, attributes, key=None):
    """A STUN message; with `key`, signed by MESSAGE-INTEGRITY over all before it."""
    transaction = secrets.token_bytes(12)
    body = b"".join(attribute(name, value) for name, value in attributes)
    if key is not None:
        header = struct.pack("!HHI", kind, len(body) + 24, MAGIC_COOKIE) + transaction
        body += attribute(MESSAGE_INTEGRITY, hmac.new(key, header + body, hashlib.sha1).digest())
    return struct.pack("!HHI", kind, len(body), MAGIC_COOKIE) + transaction + body


def parse(message):
    """(message type, {attribute type: value})."""
    kind, length = struct.unpack("!HH", message[:4])
    attributes, at = {}, 20
    while at < 20 + length:
        name, size = struct.unpack("!HH", message[at : at + 4])
        attributes[name] = message[at + 4 : at + 4 + size]
        at += 4 + size + (-size % 4)
    return kind, attributes


def error_code(attributes):
    value = attributes[ERROR_CODE]
    return (value[2] & 7) * 100 + value[3]


def allocate(exchange, username, password):
    """A relay address asked for as a browser does: first without credentials, to learn the
    realm and a nonce, then signed with the long-term key. Returns the answer's type and
    attributes."""
    kind, first = parse(exchange(stun_message(ALLOCATE, [(REQUESTED_TRANSPORT, UDP)])))
    assert (kind, error_code(first)) == (ALLOCATE_ERROR, 401)
    key = hashlib.md5(username.encode() + b":" + first[REALM] + b":" + password.encode()).digest()
    signed = [(REQUESTED_TRANSPORT, UDP), (USERNAME, username.encode()), (REALM, first[REALM]), (NONCE, first[NONCE])]
    return parse(exchange(stun_message(ALLOCATE, signed, key)))


def over_udp(coturn):
    link = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    link.settimeout(5)
    link.connect(("127.0.0.1", coturn.port))

    def exchange(message):
        link.send(message)
        return link.recv(2048)

    return link, exchange


def over_tls(coturn):
    """turns: — TLS to the TLS port, trusting the certificate coturn was given."""
    context = ssl.create_default_context(cafile=coturn.certificate)
    link = context.wrap_socket(socket.create_connection(("127.0.0.1", coturn.tls_port), timeout=5), server_hostname="127.0.0.1")

    def exchange(message):
        link.sendall(message)
        header = receive(link, 20)
        return header + receive(link, struct.unpack("!H", header[2:4])[0])

    return link, exchange


def receive(link, count):
    data = b""
    while len(data) < count:
        chunk = link.recv(count - len(data))
        assert chunk, "coturn closed the connection"
        data += chunk
    return data


@pytest.mark.parametrize("transport", [over_udp, over_tls], ids=["turn-udp", "turns"])
def test_the_credentials_our_server_hands_out_get_a_relay_address(coturn, transport):
    username, password = turn_credentials(coturn.secret, "peer-1", time.time(), TTL_SECONDS)
    link, exchange = transport(coturn)
    with link:
        kind, attributes = allocate(exchange, username, password)
    assert kind == ALLOCATE_SUCCESS, coturn.log()[-2000:]
    assert XOR_RELAYED_ADDRESS in attributes


@pytest.mark.parametrize(
    "secret, made_ago",
    [("another-sites-secret", 0), (None, 2 * TTL_SECONDS)],
    ids=["made-from-another-secret", "expired"],
)
def test_other_credentials_are_refused(coturn, secret, made_ago):
    username, password = turn_credentials(secret or coturn.secret, "peer-2", time.time() - made_ago, TTL_SECONDS)
    link, exchange = over_udp(coturn)
    with link:
        kind, attributes = allocate(exchange, username, password)
    assert (kind, error_code(attributes)) == (ALLOCATE_ERROR, 401)
