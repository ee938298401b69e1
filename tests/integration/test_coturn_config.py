"""config/turnserver.conf, run by Debian's coturn on loopback, lets in the time-limited
credentials our server hands to browsers (ensemble/turn.py), over UDP and over TLS
(turns:), and refuses others. Asked as a browser asks: a TURN Allocate (RFC 5766).

And what a member may do with its relay: open permissions towards the internet only, never
towards loopback or private networks (CreatePermission sends no packet to the peer: asking
for 198.51.100.1, a documentation address, reaches nobody), no TCP relays, and only
`user-quota` allocations at once."""

import hashlib
import hmac
import itertools
import secrets
import socket
import ssl
import struct
import time

import pytest

from ensemble.turn import turn_credentials
from harness.servers import TURNSERVER_CONF, ShippedCoturnProcess, self_signed_certificate

MAGIC_COOKIE = 0x2112A442
ALLOCATE, ALLOCATE_SUCCESS, ALLOCATE_ERROR = 0x0003, 0x0103, 0x0113
CREATE_PERMISSION, CREATE_PERMISSION_SUCCESS, CREATE_PERMISSION_ERROR = 0x0008, 0x0108, 0x0118
USERNAME, MESSAGE_INTEGRITY, ERROR_CODE, REALM, NONCE = 0x0006, 0x0008, 0x0009, 0x0014, 0x0015
XOR_PEER_ADDRESS, XOR_RELAYED_ADDRESS, REQUESTED_TRANSPORT = 0x0012, 0x0016, 0x0019
UDP, TCP = bytes([17, 0, 0, 0]), bytes([6, 0, 0, 0])
TTL_SECONDS = 3600
# Each UDP link from its own loopback address: an allocation outlives its socket (coturn
# keeps it for its lifetime), and a new socket given the same ephemeral port would meet it
# as 437 Allocation Mismatch instead of the answer the test asks about.
SOURCES = (f"127.0.{n // 250 + 2}.{n % 250 + 2}" for n in itertools.count())


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


def allocate(exchange, username, password, transport=UDP):
    """A relay address asked for as a browser does: first without credentials, to learn the
    realm and a nonce, then signed with the long-term key. Returns the answer's type and
    attributes."""
    return allocation(exchange, username, password, transport)[:2]


def allocation(exchange, username, password, transport=UDP):
    """allocate(), and `ask(method, attributes)`: a further request of the same session,
    signed as the Allocate was (its type and attributes)."""
    kind, first = parse(exchange(stun_message(ALLOCATE, [(REQUESTED_TRANSPORT, transport)])))
    assert (kind, error_code(first)) == (ALLOCATE_ERROR, 401)
    key = hashlib.md5(username.encode() + b":" + first[REALM] + b":" + password.encode()).digest()
    credentials = [(USERNAME, username.encode()), (REALM, first[REALM]), (NONCE, first[NONCE])]

    def ask(method, attributes):
        return parse(exchange(stun_message(method, attributes + credentials, key)))

    return (*ask(ALLOCATE, [(REQUESTED_TRANSPORT, transport)]), ask)


def xor_peer_address(ip):
    """XOR-PEER-ADDRESS of an IPv4 peer (port 9: a permission has no port)."""
    cookie = struct.pack("!I", MAGIC_COOKIE)
    address = bytes(a ^ b for a, b in zip(socket.inet_aton(ip), cookie))
    return struct.pack("!BBH", 0, 1, 9 ^ (MAGIC_COOKIE >> 16)) + address


def conf_value(name):
    """A `name=value` line of the shipped config/turnserver.conf."""
    values = [line.split("=", 1)[1] for line in TURNSERVER_CONF.read_text().splitlines() if line.startswith(f"{name}=")]
    assert len(values) == 1, f"config/turnserver.conf sets {name} {len(values)} times"
    return values[0]


def over_udp(coturn):
    link = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    link.settimeout(5)
    link.bind((next(SOURCES), 0))
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


@pytest.mark.parametrize(
    "peer, allowed",
    [
        ("198.51.100.1", True),  # the internet (a documentation address: a permission sends it nothing)
        ("127.0.0.1", False),  # the relay's own machine
        ("127.1.2.3", False),
        ("10.0.0.1", False),  # the networks it sits in
        ("192.168.1.1", False),
        ("172.16.0.1", False),
        ("169.254.169.254", False),  # a cloud's metadata service
        ("100.64.0.1", False),
    ],
)
def test_a_member_may_relay_to_the_internet_only(coturn, peer, allowed):
    username, password = turn_credentials(coturn.secret, f"peer-to-{peer}", time.time(), TTL_SECONDS)
    link, exchange = over_udp(coturn)
    with link:
        kind, _, ask = allocation(exchange, username, password)
        assert kind == ALLOCATE_SUCCESS, coturn.log()[-2000:]
        kind, attributes = ask(CREATE_PERMISSION, [(XOR_PEER_ADDRESS, xor_peer_address(peer))])
    if allowed:
        assert kind == CREATE_PERMISSION_SUCCESS, attributes
    else:
        assert (kind, error_code(attributes)) == (CREATE_PERMISSION_ERROR, 403)


def test_no_tcp_relay(coturn):
    """Browsers relay over UDP (their TCP and TLS URLs reach coturn, not peers): TCP relays
    (RFC 6062) would open connections from the relay to anywhere."""
    username, password = turn_credentials(coturn.secret, "peer-tcp", time.time(), TTL_SECONDS)
    link, exchange = over_tls(coturn)
    with link:
        kind, attributes = allocate(exchange, username, password, transport=TCP)
    assert (kind, error_code(attributes)) == (ALLOCATE_ERROR, 442)


def test_one_member_gets_at_most_user_quota_allocations_at_once(coturn):
    quota = int(conf_value("user-quota"))
    assert 0 < quota <= 50 and 0 < int(conf_value("total-quota"))
    username, password = turn_credentials(coturn.secret, "peer-greedy", time.time(), TTL_SECONDS)
    links = []
    try:
        for number in range(quota + 1):
            link, exchange = over_udp(coturn)  # an allocation per 5-tuple, as a browser's ICE makes them
            links.append(link)
            kind, attributes = allocate(exchange, username, password)
            if number < quota:
                assert kind == ALLOCATE_SUCCESS, (number, coturn.log()[-2000:])
        assert (kind, error_code(attributes)) == (ALLOCATE_ERROR, 486)
    finally:
        for link in links:
            link.close()
