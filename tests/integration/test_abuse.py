"""The limits of docs/deployment.md ("Limits") against `python server.py`, with real
python-socketio clients: per address, behind a trusted proxy or not, password guessing,
flooding, and origins."""

import statistics
import threading
import time
import urllib.error
import urllib.request

import pytest
import socketio

from ensemble_client import EnsembleClient, ProtocolReplyError
from tests.unit.test_scene_limits import LARGEST_VALID, LARGEST_WRONG
from tests.waiting import eventually


@pytest.fixture
def client():
    """`client(server, **headers)`: a connected EnsembleClient, closed after the test."""
    opened = []

    def connect(server, **headers):
        made = EnsembleClient(server.url, headers={name.replace("_", "-"): value for name, value in headers.items()})
        opened.append(made)
        return made.connect()

    yield connect
    for made in opened:
        if made.connected:
            made.close()


def refused_connection(server, **headers):
    """Why the server refused a connection: its message, or python-socketio's words for a
    refused handshake."""
    refused = EnsembleClient(server.url, headers={name.replace("_", "-"): value for name, value in headers.items()})
    with pytest.raises(socketio.exceptions.ConnectionError) as failure:
        refused.connect()
    if isinstance(refused.refusal, dict):
        assert refused.refusal["data"] == {"code": "rate_limited", "message": refused.refusal["message"]}
        return refused.refusal["message"]
    return str(failure.value)


def code_of(client, event, payload):
    with pytest.raises(ProtocolReplyError) as refused:
        client.request(event, payload)
    return refused.value.code


# --- connections per address ------------------------------------------------------------------


def test_connections_per_address_are_capped_and_a_closed_one_frees_its_place(start, client):
    server = start(connections_per_ip=3)
    first, *_ = [client(server) for _ in range(3)]
    assert "Too many connections from your address" in refused_connection(server)
    first.close()
    assert eventually(lambda: client(server).connected)


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_saw(start, client):
    server = start(connections_per_ip=2, trusted_proxy_hops=1)
    for _ in range(2):
        client(server, X_Forwarded_For="203.0.113.7")
    assert "Too many connections" in refused_connection(server, X_Forwarded_For="203.0.113.7")
    # A client may put anything before what the proxy appends: only the last hop counts.
    assert "Too many connections" in refused_connection(server, X_Forwarded_For="198.51.100.1, 203.0.113.7")
    assert client(server, X_Forwarded_For="203.0.113.8").connected


def test_without_trusted_proxies_no_forwarded_header_is_believed(start, client):
    server = start(connections_per_ip=2)
    client(server, X_Forwarded_For="203.0.113.7")
    client(server, X_Forwarded_For="203.0.113.8")
    assert "Too many connections" in refused_connection(server, X_Forwarded_For="203.0.113.9")


# --- joins and passwords --------------------------------------------------------------------


def test_joins_per_address_per_minute_survive_reconnecting(start, client):
    server = start(joins_per_ip_per_minute=4)
    for number in range(4):
        client(server).join("busy", f"p{number}")
    assert code_of(client(server), "join", {"room": "busy", "name": "late"}) == "rate_limited"


def guess(guesser, room, password):
    """One join with `password`, as a patient guesser makes it: told to wait (`rate_limited`
    with `retryAfter`), it waits as long as the server said, and tries again. The code of
    the refusal, and how many times it was told to wait."""
    waits = 0
    while True:
        reply = guesser.call("join", {"room": room, "name": "Eve", "password": password})
        if reply.get("ok") or reply["error"]["code"] != "rate_limited" or waits == 3:
            return (reply["error"]["code"] if not reply.get("ok") else "ok"), waits
        waits += 1
        time.sleep(reply["retryAfter"])  # the time the server names, not a guess at it


def retry_after(client, payload):
    reply = client.call("join", payload)
    assert reply["error"]["code"] == "rate_limited", reply
    return reply["retryAfter"]


def test_each_wrong_password_slows_its_address_then_locks_it_even_with_the_right_one(start, client):
    server = start(wrong_passwords_per_ip=3, wrong_password_delay_seconds=0.2, password_lockout_seconds=60, trusted_proxy_hops=1)
    client(server, X_Forwarded_For="203.0.113.1").join("vault", "Owner", password="sesame")
    guesser = client(server, X_Forwarded_For="203.0.113.66")
    assert guess(guesser, "vault", "a") == ("wrong_password", 0)
    assert 0 < retry_after(guesser, {"room": "vault", "name": "Eve", "password": "b"}) <= 0.2
    assert guess(guesser, "vault", "b") == ("wrong_password", 1)
    assert 0.2 < retry_after(guesser, {"room": "vault", "name": "Eve", "password": "c"}) <= 0.4  # twice as long
    assert guess(guesser, "vault", "c") == ("wrong_password", 1)
    # The third locks the address for PASSWORD_LOCKOUT_SECONDS, the right password too.
    assert 59 < retry_after(guesser, {"room": "vault", "name": "Eve", "password": "sesame"}) <= 60
    again = client(server, X_Forwarded_For="203.0.113.66")  # a new connection changes nothing
    assert code_of(again, "join", {"room": "other", "name": "Eve"}) == "rate_limited"
    client(server, X_Forwarded_For="203.0.113.2").join("vault", "Friend", password="sesame")
    assert "password lockout key=203.0.113.66 room=vault" in server.log()


def test_an_ipv6_guesser_is_locked_with_its_whole_64(start, client):
    server = start(wrong_passwords_per_ip=1, password_lockout_seconds=60, trusted_proxy_hops=1)
    client(server, X_Forwarded_For="203.0.113.1").join("vault", "Owner", password="sesame")
    assert code_of(client(server, X_Forwarded_For="2001:db8:5:6::1"), "join", {"room": "vault", "name": "Eve", "password": "a"}) == "wrong_password"
    assert code_of(client(server, X_Forwarded_For="2001:db8:5:6::2"), "join", {"room": "vault", "name": "Eve", "password": "b"}) == "rate_limited"
    client(server, X_Forwarded_For="2001:db8:5:7::1").join("vault", "Friend", password="sesame")  # the next /64


# Until issue 21 twenty wrong passwords for one room from anywhere (WRONG_PASSWORDS_PER_ROOM)
# locked the room: its owner reloading and newcomers with the right password were refused for
# PASSWORD_LOCKOUT_SECONDS, again and again. Now only the guessers' addresses pay.
def test_wrong_passwords_from_many_addresses_never_lock_the_room(start, client):
    server = start(wrong_passwords_per_ip=5, wrong_password_delay_seconds=0.01, password_lockout_seconds=60, trusted_proxy_hops=1)
    owner = client(server, X_Forwarded_For="203.0.113.1")
    owner.join("vault", "Owner", password="sesame")
    guessers = [client(server, X_Forwarded_For=f"198.51.100.{number}") for number in range(4)]
    for attempt in range(5):
        for guesser in guessers:
            assert guess(guesser, "vault", f"guess {attempt}")[0] == "wrong_password"
    for guesser in guessers:
        assert 59 < retry_after(guesser, {"room": "vault", "name": "Eve", "password": "sesame"}) <= 60
    started = time.monotonic()
    client(server, X_Forwarded_For="203.0.113.2").join("vault", "Friend", password="sesame")  # at once
    assert time.monotonic() - started < 2
    owner.close()  # and the owner reloading the page gets back in too
    client(server, X_Forwarded_For="203.0.113.1").join("vault", "Owner", password="sesame")


def test_a_member_coming_back_with_its_token_is_never_locked_out_by_guessing_from_its_address(start, client):
    server = start(wrong_passwords_per_ip=3, wrong_password_delay_seconds=0.01, password_lockout_seconds=60, trusted_proxy_hops=1)
    owner = client(server, X_Forwarded_For="203.0.113.1")
    reply = owner.join("vault", "Owner", password="sesame")
    # Someone behind the owner's own address (one NAT) guesses until the address is locked.
    guesser = client(server, X_Forwarded_For="203.0.113.1")
    for attempt in range(3):
        assert guess(guesser, "vault", f"guess {attempt}")[0] == "wrong_password"
    # The owner's link breaks; a new connection brings the membership back with its token.
    back = client(server, X_Forwarded_For="203.0.113.1")
    resume = {"id": reply["id"], "token": reply["token"]}
    again = back.request("join", {"room": "vault", "name": "Owner", "password": "sesame", "resume": resume})
    assert again["name"] == "Owner"
    # A made-up or another room's token proves nothing: still locked.
    stranger = client(server, X_Forwarded_For="203.0.113.1")
    forged = {"id": again["id"], "token": "not-the-token"}
    assert code_of(stranger, "join", {"room": "vault", "name": "Eve", "password": "sesame", "resume": forged}) == "rate_limited"
    assert code_of(stranger, "join", {"room": "vault", "name": "Eve", "password": "sesame"}) == "rate_limited"


def test_processes_sharing_redis_count_wrong_passwords_together(start, client, redis_server):
    shared = {
        "redis_url": redis_server.url.rsplit("/", 1)[0] + "/7",  # a database of its own
        # A delay long enough that the next guess, on a new connection, comes while it runs even on a loaded machine.
        "wrong_passwords_per_ip": 4, "wrong_password_delay_seconds": 0.5, "password_lockout_seconds": 60, "trusted_proxy_hops": 1,
    }
    first, second = start(**shared), start(**shared)
    client(first, X_Forwarded_For="203.0.113.1").join("shared-vault", "Owner", password="sesame")
    # One guesser spreading its guesses over both processes (a load balancer would): four, not eight,
    # and each waits for the one before, wherever it was made.
    for number, server in enumerate((first, second, first, second)):
        guesser = client(server, X_Forwarded_For="203.0.113.77")
        assert guess(guesser, "shared-vault", "guess") == ("wrong_password", min(number, 1))
    for server in (first, second):
        guesser = client(server, X_Forwarded_For="203.0.113.77")
        assert 59 < retry_after(guesser, {"room": "shared-vault", "name": "Eve", "password": "sesame"}) <= 60
    for server, name in ((first, "Friend"), (second, "Other friend")):  # the room stays open on both
        client(server, X_Forwarded_For="203.0.113.2").join("shared-vault", name, password="sesame")


def test_password_guesses_do_not_hold_up_other_clients(start, client):
    """PBKDF2 (about 12 ms a guess here) runs in OS threads: a member's events are answered
    while eight connections guess as fast as they can."""
    server = start(wrong_passwords_per_ip=100_000, wrong_password_delay_seconds=0, events_per_second=10_000, event_burst=10_000)
    client(server).join("vault", "Owner", password="sesame")
    member = client(server)
    member.join("meeting", "Ada")
    guessers = [client(server) for _ in range(8)]
    for guesser in guessers:
        for number in range(25):
            guesser.send_without_ack("join", {"room": "vault", "name": "Eve", "password": f"guess {number}"})
    latencies = []
    started = time.monotonic()
    while not all(len(guesser.received("error")) == 25 for guesser in guessers):
        sent = time.monotonic()
        member.request("media", {"audio": True, "video": True})
        latencies.append(time.monotonic() - sent)
    guessing = time.monotonic() - started
    assert {error["code"] for guesser in guessers for error in guesser.received("error")} == {"wrong_password"}
    # Hashed on the event loop, the first answer waited for every guess (1.4 s of 1.4 s, 4 answers
    # in all); in threads, answers take 1-30 ms, and up to about 120 ms on a busy machine (one
    # answer of a shared CI machine's may wait longer for a core: nine in ten are what is asked).
    assert len(latencies) >= 10, (latencies, guessing)
    ninth_decile = statistics.quantiles(latencies, n=10)[-1]
    assert ninth_decile < 0.3 and max(latencies) < 1.0, (ninth_decile, max(latencies), guessing)


# --- flooding -------------------------------------------------------------------------------


def test_a_client_that_goes_on_after_rate_limited_is_disconnected(start, client):
    server = start(events_per_second=1, event_burst=5, flood_strikes=5)
    flooder, polite = client(server), client(server)
    flooder.join("flood", "Flooder")
    polite.join("flood", "Polite")
    for _ in range(40):
        if not flooder.connected:
            break
        flooder.send_without_ack("media", {"audio": True, "video": True})
    eventually(lambda: not flooder.connected)
    assert flooder.received("error")[-1]["message"].startswith("Disconnected")
    assert polite.wait_for("peer-left")["id"] == flooder.id
    # One that slows down at its first `rate_limited` (an event a second here) keeps its connection.
    while polite.call("media", {"audio": True, "video": True})["ok"]:
        pass
    assert eventually(lambda: polite.call("media", {"audio": True, "video": True})["ok"], every=1.0)
    assert polite.connected


# --- scenes -------------------------------------------------------------------------------


def test_the_costliest_scenes_of_one_room_do_not_hold_up_another(start, client):
    """A stranger makes a room of its own, so it is a member (a connection that never joined
    is refused before its scene is read), and sends the costliest scenes that fit in an event,
    as fast as it can: another room's answers keep coming at once."""
    server = start()
    stranger = client(server)
    stranger.join("mine", "Eve")
    stranger.request("scene", {"scene": {}, "version": 0})  # now at 1: each valid scene sent at 0 is checked, then a conflict
    member = client(server)
    member.join("meeting", "Ada")
    # 21,000 empty people (0.6 s of the loop each, when jsonschema saw them all), the largest valid
    # scene, and one with every field wrong: 150 events, within EVENT_BURST.
    scenes = [{"participants": [{}] * 21_000}, LARGEST_VALID, LARGEST_WRONG] * 50
    sending = threading.Thread(target=lambda: [stranger.send_without_ack("scene", {"scene": scene, "version": 0}) for scene in scenes])
    sending.start()
    latencies = []
    while (sending.is_alive() or len(stranger.received("error")) < len(scenes)) and max(latencies, default=0) < 1.0:
        sent = time.monotonic()
        member.request("media", {"audio": True, "video": True})
        latencies.append(time.monotonic() - sent)
    sending.join()
    # When jsonschema saw every value on the loop, the first answer waited for all the empty people
    # (0.6 s each: the request timed out after 5 s). Now the loop only walks each scene (under 1 ms)
    # and jsonschema runs in an OS thread, whose hold on the GIL costs the loop up to 5 ms a system
    # call: answers take 15-30 ms (1-2 ms with no scenes sent), the slowest 65-195 ms with the load
    # average at 10-25 on two cores, up to 0.46 s at worst.
    ninth_decile = statistics.quantiles(latencies, n=10)[-1]
    assert len(latencies) >= 20, latencies
    assert statistics.median(latencies) < 0.06 and ninth_decile < 0.3 and max(latencies) < 1.0, (
        statistics.median(latencies), ninth_decile, sorted(latencies)[-5:],
    )
    codes = [error["code"] for error in stranger.wait_for_count("error", len(scenes), timeout=30)]
    assert codes == ["bad_request", "version_conflict", "bad_request"] * 50
    assert member.received("scene") == [] and stranger.connected


# --- origins ----------------------------------------------------------------------------------


def polling_handshake(server, origin):
    """(status, body) of an Engine.IO handshake sent from a page of `origin`."""
    request = urllib.request.Request(server.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


REFUSED_ORIGIN = (400, b'"Not an accepted origin."')


def test_by_default_only_pages_of_the_site_itself_may_connect(start, client):
    server = start()
    # python-socketio's client says no more than this of a refused WebSocket handshake.
    assert refused_connection(server, Origin="https://elsewhere.example") == "Connection error"
    assert polling_handshake(server, "https://elsewhere.example") == REFUSED_ORIGIN
    assert client(server, Origin=server.url).connected
    assert polling_handshake(server, server.url)[0] == 200


def test_allowed_origins_are_accepted_beside_the_sites_own(start, client):
    server = start(allowed_origins="https://app.example,https://other.example:8443")
    assert client(server, Origin="https://app.example").connected
    assert client(server, Origin="https://other.example:8443").connected
    assert client(server, Origin=server.url).connected
    assert refused_connection(server, Origin="https://other.example") == "Connection error"
    assert polling_handshake(server, "https://app.example.evil") == REFUSED_ORIGIN
    assert polling_handshake(server, "https://app.example")[0] == 200
