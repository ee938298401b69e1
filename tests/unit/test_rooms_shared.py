"""What only a registry shared by several processes does: races between processes,
processes that stop, and a Redis that goes away or comes back empty. Each
RedisRegistry here stands for one server process."""

import threading
import time
from functools import partial

import pytest

from ensemble.rooms import RoomFull, RoomLimits, Unavailable
from ensemble.rooms.redis import RedisRegistry, StoreUnreachable, redacted
from harness.servers import RedisProcess, free_port
from tests.waiting import eventually

LIMITS = RoomLimits(max_peers=3, grace_seconds=60, chat_history=5)


@pytest.fixture
def processes(redis_server, request):
    """`processes(n)`: n registries on one Redis, as n server processes would have."""

    def make(count, **options):
        return [RedisRegistry(redis_server.url, LIMITS, prefix=f"{request.node.name}:", **options) for _ in range(count)]

    return make


def race(calls):
    """Run the calls at the same moment on their own threads; their results or exceptions."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        start.wait()
        try:
            results[index] = call()
        except Exception as error:  # the outcome under test, kept for the assertion
            results[index] = error

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_joins_racing_for_the_last_place_on_two_processes_one_wins(processes):
    first, second = processes(2)
    for attempt in range(10):
        room = f"r{attempt}"
        first.join(f"{room}-a", room, "A")
        second.join(f"{room}-b", room, "B")
        results = race([partial(first.join, f"{room}-c", room, "C"), partial(second.join, f"{room}-d", room, "D")])
        assert sorted(type(result).__name__ for result in results) == ["Joined", "RoomFull"]
        assert isinstance(next(r for r in results if isinstance(r, Exception)), RoomFull)


def test_two_adas_on_two_processes_get_two_names(processes):
    first, second = processes(2)
    for attempt in range(10):
        room = f"r{attempt}"
        results = race([partial(first.join, f"{room}-1", room, "Ada"), partial(second.join, f"{room}-2", room, "Ada")])
        assert sorted(joined.peer.name for joined in results) == ["Ada", "Ada (2)"]


def test_a_process_sees_members_chat_scene_and_media_from_another(processes):
    first, second = processes(2)
    first.join("p1", "r", "Ada", password="pw")
    first.add_chat("r", {"text": "hi"})
    first.set_scene("r", {"a": 1}, 0, "p1")
    first.set_media("p1", False, True, screen=True)
    joined = second.join("p2", "r", "Bob", password="pw")
    assert [peer.public() for peer in joined.others] == [{"id": "p1", "name": "Ada", "media": {"audio": False, "video": True, "screen": True}}]
    assert joined.chat == [{"text": "hi"}] and joined.scene.version == 1
    assert first.peer("p2").name == "Bob" and second.peer("p1").room == "r"
    assert first.served() == (1, 1) and second.served() == (1, 1)


def test_a_stopped_process_is_swept_by_the_others(processes):
    alive, stopping = processes(2, heartbeat_expiry=0.5)
    alive.join("p1", "r", "Ada")
    stopping.join("p2", "r", "Bob")
    stopping.join("p3", "other", "Cy")
    alive.upkeep()
    stopping.upkeep()
    assert alive.upkeep().gone == []
    gone = []

    def both_swept():
        gone.extend(alive.upkeep().gone)  # `stopping` beats no more, as after kill -9
        return len(gone) >= 2

    eventually(both_swept, every=0.1)
    assert sorted((peer.id, peer.room) for peer in gone) == [("p2", "r"), ("p3", "other")]
    assert alive.peer("p2") is None
    assert alive.join("p4", "r", "Bob").peer.name == "Bob"  # the name is free again
    assert stopping.process_id not in alive.others_alive()


def test_a_process_that_dies_before_its_first_upkeep_is_swept_too(processes):
    alive, short_lived = processes(2, heartbeat_expiry=0.5)
    short_lived.join("p1", "r", "Ada")  # and never runs upkeep: killed right after start
    gone = eventually(lambda: alive.upkeep().gone, every=0.1)
    assert [peer.id for peer in gone] == ["p1"]


def test_another_process_heartbeat_age_is_known(processes):
    first, second = processes(2)
    second.upkeep()
    first.upkeep()
    assert 0 <= first.others_alive()[second.process_id] < 5


def test_redis_restarted_empty_gets_each_process_members_back(tmp_path):
    with RedisProcess(tmp_path) as store:
        first, second = (RedisRegistry(store.url, LIMITS) for _ in range(2))
        first.join("p1", "r", "Ada", password="pw")
        second.join("p2", "r", "Bob", password="pw", audio=False)
        store.restart()
        assert sorted(peer.id for peer in first.upkeep().restored + second.upkeep().restored) == ["p1", "p2"]
        assert first.peer("p2").public() == {"id": "p2", "name": "Bob", "media": {"audio": False, "video": True, "screen": False}}
        assert first.join("p3", "r", "Bob", password="pw").peer.name == "Bob (2)"
        with pytest.raises(Exception, match="password"):
            second.join("p4", "r", "Eve", password="guess")
        assert first.upkeep().restored == []  # once back, nothing more to do


def test_unreachable_redis_answers_unavailable_quickly_and_heals(tmp_path, caplog):
    with RedisProcess(tmp_path, persist=True) as store:
        registry = RedisRegistry(store.url, LIMITS)
        registry.join("p1", "r", "Ada")
        store.stop()
        started = time.monotonic()
        guesses = registry.lockouts("address", 3, 1, 60)
        calls = (lambda: registry.join("p2", "r", "Bob"), lambda: registry.add_chat("r", {}), registry.upkeep, registry.room_count)
        for call in (*calls, lambda: guesses.wait("r"), lambda: guesses.fail("r")):
            with pytest.raises(Unavailable):
                call()
        assert time.monotonic() - started < 5
        assert registry.health()["ok"] is False and registry.peer("p1").name == "Ada"
        assert registry.leave("p1").id == "p1"  # a member who goes is gone for this process at once
        store.start()  # with what it had: p1 is still in it
        assert registry.upkeep().gone[0].id == "p1"  # and for Redis once it is back
        assert registry.health() == {"ok": True, "redis": store.url}
    lines = [record.getMessage() for record in caplog.records if record.name == "ensemble.rooms.redis"]
    assert len([line for line in lines if "unreachable" in line]) == 1 and len([line for line in lines if "again" in line]) == 1


def test_redis_unreachable_at_start_is_one_clear_error():
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreUnreachable, match=r"Redis at redis://:\*\*\*@127\.0\.0\.1:\d+/0 cannot be reached"):
        RedisRegistry(url, LIMITS)


@pytest.mark.parametrize(
    "url, shown",
    [
        ("redis://:secret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://user:secret@127.0.0.1:6379/0", "redis://user:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0?password=secret", "redis://127.0.0.1:6379/0?password=***"),
        ("rediss://127.0.0.1:6379/0?db=1&Password=secret&ssl_cert_reqs=none", "rediss://127.0.0.1:6379/0?db=1&Password=***&ssl_cert_reqs=none"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_a_redis_password_is_never_shown(url, shown):
    assert redacted(url) == shown


def test_a_password_in_the_query_is_redacted_in_the_start_error_too():
    url = f"redis://127.0.0.1:{free_port()}/0?password=secret"
    with pytest.raises(StoreUnreachable) as refused:
        RedisRegistry(url, LIMITS)
    assert "secret" not in str(refused.value) and "?password=***" in str(refused.value)


def test_a_member_taken_over_on_another_process_is_not_put_back_by_the_first(processes):
    first, second = processes(2)
    first.join("p1", "r", "Ada", token="t1")
    resumed = second.join("p1-again", "r", "Ada", replaces="p1", resume_token="t1")
    assert resumed.left.id == "p1" and resumed.peer.name == "Ada"
    assert first.upkeep().restored == []  # its socket may linger; the membership has moved
    assert first.served() == (0, 0) and first.peer("p1") is None
    assert [peer.id for peer in second.join("p2", "r", "Bob").others] == ["p1-again"]


def test_wrong_passwords_counted_on_two_processes_slow_then_lock_the_key_on_both_for_a_while(processes):
    first, second = (registry.lockouts("address", 3, 0.1, 0.5) for registry in processes(2))
    assert first.fail("203.0.113.9").seconds == 0.1
    assert second.fail("203.0.113.9").seconds == 0.2  # the second, wherever it lands
    assert 0 < first.wait("203.0.113.9") <= 0.2
    assert first.fail("203.0.113.9").locked  # the third
    assert 0.3 < second.wait("203.0.113.9") <= 0.5
    assert second.wait("203.0.113.10") == 0  # only that address
    eventually(lambda: not second.wait("203.0.113.9"), what="the lock ended")
    assert first.fail("203.0.113.9") == (1, 0.1, False)  # and counting starts over
