"""Where rooms on the SFU are placed: one suite, in memory and in Redis (two RedisPlacements
on one Redis stand for two server processes)."""

import pytest

from ensemble.sfu.placement import ROOM_IDS, MemoryPlacements, NoInstance, RedisPlacements

A, B = "ws://janus-a:8188", "ws://janus-b:8188"


@pytest.fixture(params=["memory", "redis"])
def make(request):
    """`make()`: one process's placements; in Redis, every call shares the test's keys."""
    if request.param == "memory":
        shared = MemoryPlacements()
        return lambda: shared
    url = request.getfixturevalue("redis_server").url
    return lambda: RedisPlacements(url, prefix=f"{request.node.name}:")


def test_a_room_is_placed_once_on_the_least_loaded_instance(make):
    placements, other_process = make(), make()
    first, made = placements.place("one", [A, B])
    assert made and first.url == A and ROOM_IDS[0] <= first.room_id < ROOM_IDS[1] and len(first.secret) >= 20
    assert other_process.place("one", [A, B]) == (first, False)
    second, _ = other_process.place("two", [A, B])
    third, _ = placements.place("three", [A, B])
    assert (second.url, third.url) == (B, A)
    assert placements.get("two") == second and sorted(placements.rooms_on(A)) == ["one", "three"]


def test_without_an_instance_nothing_is_placed(make):
    placements = make()
    with pytest.raises(NoInstance):
        placements.place("one", [])
    assert placements.get("one") is None


def test_a_room_moves_once_off_a_failed_instance(make):
    placements, other_process = make(), make()
    old, _ = placements.place("one", [A, B])
    moved, did = placements.move("one", old, [A, B])
    assert did and moved.url == B and moved.room_id != old.room_id
    assert other_process.move("one", old, [A, B]) == (moved, False)
    assert placements.rooms_on(A) == [] and placements.rooms_on(B) == ["one"]
    with pytest.raises(NoInstance):
        placements.move("one", moved, [B])


def test_release_forgets_only_the_placement_it_names(make):
    placements = make()
    old, _ = placements.place("one", [A])
    moved, _ = placements.move("one", old, [A, B])
    assert not placements.release("one", old)
    assert placements.release("one", moved)
    assert placements.get("one") is None and placements.rooms_on(B) == []
