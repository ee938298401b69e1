"""The registry contract, run against every implementation."""

import pytest

from ensemble.rooms import RoomFull, RoomLimits, VersionConflict, WrongPassword, unique_name
from ensemble.rooms.memory import MemoryRegistry
from ensemble.rooms.redis import RedisRegistry

LIMITS = RoomLimits(max_peers=3, grace_seconds=60, chat_history=5)


@pytest.fixture(params=["memory", "redis"])
def registry(request, clock):
    if request.param == "memory":
        return MemoryRegistry(LIMITS, clock)
    redis_url = request.getfixturevalue("redis_server").url
    return RedisRegistry(redis_url, LIMITS, clock, prefix=f"{request.node.name}:")


def test_first_joiner_creates_the_room_and_later_ones_see_earlier(registry):
    first = registry.join("p1", "r", "Ada")
    second = registry.join("p2", "r", "Grace", audio=False)
    assert first.others == [] and first.scene.version == 0
    assert [peer.public() for peer in second.others] == [{"id": "p1", "name": "Ada", "media": {"audio": True, "video": True, "screen": False}}]
    assert registry.peer("p2").audio is False


def test_names_are_made_unique_within_a_room_only(registry):
    registry.join("p1", "r", "Ada")
    assert registry.join("p2", "r", "ada").peer.name == "ada (2)"
    assert registry.join("p3", "r", "Ada").peer.name == "Ada (3)"
    assert registry.join("p4", "other", "Ada").peer.name == "Ada"


def test_a_full_room_refuses_and_changes_nothing(registry):
    for number in range(3):
        registry.join(f"p{number}", "r", f"n{number}")
    registry.join("outsider", "elsewhere", "Zed")
    with pytest.raises(RoomFull):
        registry.join("outsider-2", "r", "Zed", replaces="outsider")
    assert registry.peer("outsider").room == "elsewhere"
    assert registry.peer("outsider-2") is None


def test_rejoining_the_same_full_room_is_allowed(registry):
    for number in range(3):
        registry.join(f"p{number}", "r", f"n{number}")
    rejoined = registry.join("p0-again", "r", "n0", replaces="p0")
    assert rejoined.left.id == "p0" and rejoined.peer.name == "n0"


def test_password_is_set_by_the_creator_and_checked_for_everyone_else(registry):
    registry.join("p1", "r", "Ada", password="sesame")
    with pytest.raises(WrongPassword):
        registry.join("p2", "r", "Bob")
    with pytest.raises(WrongPassword):
        registry.join("p2", "r", "Bob", password="Sesame")
    registry.join("p9", "elsewhere", "Eve")
    with pytest.raises(WrongPassword):
        registry.join("p10", "r", "Eve", replaces="p9")
    assert registry.peer("p9").room == "elsewhere"
    assert registry.join("p2", "r", "Bob", password="sesame").peer.room == "r"


def test_joining_another_room_leaves_the_first(registry):
    registry.join("p1", "a", "Ada")
    registry.join("p2", "a", "Bob")
    joined = registry.join("p1b", "b", "Ada", replaces="p1")
    assert joined.left.room == "a" and registry.peer("p1") is None
    assert [peer.id for peer in registry.join("p3", "a", "Cy").others] == ["p2"]


def test_leave_returns_the_membership_once(registry):
    registry.join("p1", "r", "Ada")
    assert registry.leave("p1").room == "r"
    assert registry.leave("p1") is None
    assert registry.peer("p1") is None


def test_chat_history_keeps_the_newest_messages(registry):
    registry.join("p1", "r", "Ada")
    for number in range(7):
        registry.add_chat("r", {"text": str(number)})
    assert [message["text"] for message in registry.join("p2", "r", "Bob").chat] == ["2", "3", "4", "5", "6"]


def test_scene_versions_advance_and_stale_edits_conflict(registry):
    registry.join("p1", "r", "Ada")
    assert registry.set_scene("r", {"a": 1}, 0, "p1").version == 1
    with pytest.raises(VersionConflict) as caught:
        registry.set_scene("r", {"a": 2}, 0, "p1")
    assert caught.value.current.scene == {"a": 1}
    assert registry.join("p2", "r", "Bob").scene.public() == {"scene": {"a": 1}, "version": 1, "by": "p1"}


def test_an_empty_room_survives_its_grace_period_then_is_forgotten(registry, clock):
    registry.join("p1", "r", "Ada", password="pw")
    registry.add_chat("r", {"text": "hi"})
    registry.leave("p1")
    clock.now += 59
    assert registry.join("p2", "r", "Bob", password="pw").chat == [{"text": "hi"}]
    registry.leave("p2")
    clock.now += 61
    assert registry.room_count() == 0
    fresh = registry.join("p3", "r", "Cy")  # no password any more: a new room
    assert fresh.chat == [] and fresh.scene.version == 0


def test_media_updates_are_kept(registry):
    registry.join("p1", "r", "Ada")
    registry.set_media("p1", False, False)
    assert registry.join("p2", "r", "Bob").others[0].public()["media"] == {"audio": False, "video": False, "screen": False}


@pytest.mark.parametrize(
    "name, taken, expected",
    [
        ("Ada", [], "Ada"),
        ("Ada", ["ADA"], "Ada (2)"),
        ("Ada", ["Ada", "Ada (2)"], "Ada (3)"),
        ("x" * 40, ["x" * 40], "x" * 36 + " (2)"),
        ("\u0410da", ["Ada"], "\u0410da (2)"),  # Cyrillic capital A
        ("\uff21da", ["Ada"], "\uff21da (2)"),  # fullwidth A
        ("Ada", ["A\u200dda"], "Ada (2)"),
    ],
)
def test_unique_name(name, taken, expected):
    assert unique_name(name, taken) == expected


def test_a_membership_is_taken_over_with_its_token_keeping_name_and_place(registry):
    registry.join("p1", "r", "Ada", token="t1")
    registry.join("p2", "r", "Bob")
    registry.join("p3", "r", "Cy")  # full: three at most
    resumed = registry.join("p1-again", "r", "Ada", replaces="p1", resume_token="t1", token="t2")
    assert resumed.left.id == "p1" and resumed.peer.name == "Ada" and registry.peer("p1") is None
    assert registry.peer("p1-again").token == "t2"


def test_a_wrong_or_missing_token_takes_over_nothing(registry):
    registry.join("p1", "r", "Ada", token="t1")
    registry.join("p2", "r", "Bob")  # no token: nobody can take it over
    for victim, guess in (("p1", "t2"), ("p1", ""), ("p2", ""), ("ghost", "t1")):
        joined = registry.join(f"thief-{victim}-{guess}", "elsewhere", "Eve", replaces=victim, resume_token=guess)
        assert joined.left is None
        registry.leave(joined.peer.id)
    assert registry.peer("p1").name == "Ada" and registry.peer("p2").name == "Bob"


def test_look_alike_names_in_one_room_are_told_apart(registry):
    assert registry.join("p1", "r", "Ada").peer.name == "Ada"
    assert registry.join("p2", "r", "\u0410da").peer.name == "\u0410da (2)"  # Cyrillic capital A
    assert registry.join("p3", "r", "Ad\u0430").peer.name == "Ad\u0430 (3)"  # Cyrillic small a
    assert registry.join("p4", "other", "\u0410da").peer.name == "\u0410da"


def test_a_passwordless_room_forgets_its_chat_with_its_last_member(registry, clock):
    registry.join("p1", "r", "Ada")
    registry.join("p2", "r", "Bob")
    registry.add_chat("r", {"text": "between us"})
    registry.leave("p1")
    assert registry.join("p3", "r", "Cy").chat == [{"text": "between us"}], "a member is still there"
    registry.leave("p2")
    registry.leave("p3")
    clock.now += 1
    assert registry.join("p4", "r", "Eve").chat == []


def test_a_room_left_for_another_forgets_its_chat(registry):
    registry.join("p1", "a", "Ada")
    registry.add_chat("a", {"text": "in a"})
    registry.join("p1b", "b", "Ada", replaces="p1")
    assert registry.join("p2", "a", "Eve").chat == []


def test_a_lone_member_taking_over_its_membership_keeps_the_chat(registry):
    registry.join("p1", "r", "Ada", token="t1")
    registry.add_chat("r", {"text": "note to self"})
    assert registry.join("p1b", "r", "Ada", replaces="p1", resume_token="t1").chat == [{"text": "note to self"}]
    assert registry.join("p1c", "r", "Ada", replaces="p1b").chat == [{"text": "note to self"}]


@pytest.fixture
def redis_registry(request, clock, redis_server):
    import redis

    prefix = f"{request.node.name}:"
    return RedisRegistry(redis_server.url, LIMITS, clock, prefix=prefix), redis.Redis.from_url(redis_server.url), prefix


def test_redis_forgets_a_room_in_its_rooms_set_once_the_room_is_gone(redis_registry, clock):
    registry, store, prefix = redis_registry
    registry.join("p1", "r", "Ada")
    registry.leave("p1")
    assert store.zrange(f"{prefix}rooms", 0, -1) == [b"r"], "remembered for its grace"
    clock.now += 61
    registry.upkeep()
    assert store.zrange(f"{prefix}rooms", 0, -1) == []


def test_redis_rooms_set_does_not_grow_with_every_room_name_ever_used(redis_registry, clock):
    registry, store, prefix = redis_registry
    for number in range(200):
        registry.join(f"p{number}", f"room-{number}", "Ada")
        registry.leave(f"p{number}")
        clock.now += 30  # each room is gone two rooms later
    assert store.zcard(f"{prefix}rooms") <= 2


# --- the guard's wrong-password table, kept where the rooms are ----------------------------


def test_every_registry_keeps_a_wrong_password_table_for_the_guard(registry):
    guesses = registry.lockouts("address", 2, 0, 60)
    assert guesses.wait("203.0.113.9") == 0
    assert guesses.fail("203.0.113.9").locked is False
    assert guesses.fail("203.0.113.9").locked is True and guesses.wait("203.0.113.9") > 0
    assert guesses.wait("203.0.113.10") == 0


# --- the Lua scripts answer with named fields ------------------------------------------


def test_the_redis_scripts_answer_records_of_named_fields(redis_registry):
    """Python and Lua agree on names, not positions: each reply is a JSON object with exactly
    the fields of its record in ensemble/rooms/redis.py."""
    import json
    from dataclasses import fields

    from ensemble.rooms.redis import FailReply, JoinReply, SceneReply

    registry, _, _ = redis_registry
    replies = []
    script = registry._scripts["join"]
    registry._scripts["join"] = lambda **call: replies.append(script(**call)) or replies[-1]
    registry.join("p1", "r", "Ada", password="sesame")
    registry.join("p2", "r", "Bob", password="sesame")
    names = {record: {field.name for field in fields(record)} for record in (JoinReply, SceneReply, FailReply)}
    assert set(json.loads(replies[-1])) == names[JoinReply] - {"error"}
    assert json.loads(registry._run("scene", "r", "null", 0, "p1")) == {"status": "ok", "version": 1}
    assert set(json.loads(registry._run("scene", "r", "null", 0, "p1"))) == names[SceneReply], "a conflict"
    assert set(json.loads(registry._run("fail", "address", "203.0.113.9", 3, 1000, 60000))) == names[FailReply]
