"""ensemble/guard.py: what a wrong password costs its guesser (a growing wait, then a lock, per
address and never per room), and which addresses count as one (an IPv6 /64)."""

import logging

import pytest

from ensemble.guard import Guard, Lockouts, limiting_key
from ensemble.protocol import ProtocolError
from ensemble.rooms import RoomLimits
from ensemble.rooms.redis import RedisRegistry
from tests.conftest import make_settings

BASE, LOCK = 1.0, 60.0


@pytest.fixture(params=["memory", "redis"])
def lockouts(request, clock):
    """`lockouts(table, limit, base, lock)` of each kind: in this process (on the fake clock),
    or in a real Redis (on its own clock)."""
    if request.param == "memory":
        return lambda table, limit, base, lock: Lockouts(limit, base, lock, clock)
    registry = RedisRegistry(request.getfixturevalue("redis_server").url, RoomLimits(6, 60, 5), prefix=f"{request.node.name}:")
    return registry.lockouts


def refusal(call, *args):
    with pytest.raises(ProtocolError) as refused:
        call(*args)
    return refused.value


# --- the key an address is limited by ---------------------------------------------------


@pytest.mark.parametrize(
    "address, key",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),  # IPv4 on a dual-stack socket
        ("::1", "::/64"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_an_ipv6_address_is_limited_by_its_64_and_an_ipv4_one_by_itself(address, key):
    assert limiting_key(address) == key


def test_connections_joins_uploads_and_guesses_count_per_64(clock):
    guard = Guard(
        make_settings(connections_per_ip=2, joins_per_ip_per_minute=2, uploads_per_ip_per_minute=2, wrong_passwords_per_ip=2),
        clock=clock,
    )
    one, two, three = "2001:db8:0:1::1", "2001:db8:0:1:ffff::2", "2001:db8:0:1::3"
    other = "2001:db8:0:2::1"  # the next /64
    guard.connect(one)
    guard.connect(two)
    assert refusal(lambda: guard.connect(three)).code == "rate_limited"
    guard.connect(other)
    guard.disconnect(two)
    guard.connect(three)  # a place of the /64 freed by another of its addresses
    guard.upload(one, "member-1")
    guard.upload(two, "member-2")
    assert refusal(lambda: guard.upload(three, "member-3")).code == "rate_limited"
    guard.join(one, "a")
    guard.join(two, "b")
    assert "Too many joins" in refusal(lambda: guard.join(three, "c")).message
    guard.join(other, "d")
    guard.wrong_password(other, "vault")
    clock.now += 3600
    guard.wrong_password(one, "vault")
    assert refusal(lambda: guard.join(three, "vault")).details["retryAfter"] == BASE
    guard.join(other, "vault")


# --- the cost of a wrong password -------------------------------------------------------------


def test_each_wrong_password_doubles_the_wait_until_the_limit_locks_the_key(lockouts):
    guesses = lockouts("address", 5, BASE, LOCK)
    assert guesses.wait("203.0.113.9") == 0
    penalties = [guesses.fail("203.0.113.9") for _ in range(6)]
    assert [(p.count, p.seconds, p.locked) for p in penalties] == [
        (1, 1, False), (2, 2, False), (3, 4, False), (4, 8, False), (5, 60, True), (6, 60, True),
    ]
    assert 59 < guesses.wait("203.0.113.9") <= 60
    assert guesses.wait("203.0.113.10") == 0  # only that key


def test_the_wait_never_passes_the_lockout(lockouts):
    guesses = lockouts("address", 100, 10, 50)
    assert [guesses.fail("203.0.113.9").seconds for _ in range(5)] == [10, 20, 40, 50, 50]


def test_the_wait_passes_and_failures_are_forgotten_a_lockout_after_the_last(clock):
    guesses = Lockouts(3, BASE, LOCK, clock)
    guesses.fail("k")
    clock.now += 0.5
    assert guesses.wait("k") == 0.5
    clock.now += 0.5
    assert guesses.wait("k") == 0
    assert guesses.fail("k").seconds == 2  # the second within a lockout of the first
    clock.now += LOCK
    assert guesses.wait("k") == 0 and len(guesses) == 0
    assert guesses.fail("k").seconds == 1  # counting starts over


# --- a room can no longer be locked by strangers ----------------------------------------------


def test_guessers_from_four_addresses_pay_themselves_and_a_fifth_joins_at_once(lockouts, clock, caplog):
    """20 wrong passwords from 4 addresses used to lock the room for everyone (the owner
    reloading, a newcomer with the right password) for PASSWORD_LOCKOUT_SECONDS."""
    guard = Guard(
        make_settings(wrong_passwords_per_ip=5, wrong_password_delay_seconds=BASE, password_lockout_seconds=LOCK, joins_per_ip_per_minute=1000),
        clock=clock, lockouts=lockouts,
    )
    guessers = [f"198.51.100.{number}" for number in range(1, 5)]
    with caplog.at_level(logging.INFO, logger="ensemble.guard"):
        for _ in range(6):
            for guesser in guessers:
                guard.wrong_password(guesser, "vault")
    guard.join("203.0.113.5", "vault")  # the right password from elsewhere is checked at once
    for guesser in guessers:
        refused = refusal(guard.join, guesser, "vault")
        assert refused.code == "rate_limited" and 59 < refused.details["retryAfter"] <= 60, refused.details
        assert refusal(guard.join, guesser, "another-room").code == "rate_limited"  # the address, in any room
        guard.join(guesser, "vault", member=True)  # a member coming back with its token is not
    locked = [record for record in caplog.records if record.getMessage() == "password lockout"]
    assert sorted(record.fields["key"] for record in locked) == sorted(guessers * 2)
    assert {record.fields["room"] for record in locked} == {"vault"}


def test_no_delay_leaves_only_the_lockout(lockouts):
    guesses = lockouts("address", 3, 0, LOCK)
    assert [guesses.fail("k").seconds for _ in range(3)] == [0, 0, LOCK]
    assert guesses.wait("k") > 59
