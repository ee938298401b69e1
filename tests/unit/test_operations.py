"""What an operator reads: /healthz, /metrics and the log lines."""

import json
import logging
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ensemble import create_app
from ensemble.logs import JsonFormatter, TextFormatter
from ensemble.rooms import RoomLimits, Unavailable
from ensemble.rooms.redis import RedisRegistry
from harness.servers import RedisProcess
from tests.conftest import make_settings


def metrics(app):
    response = app.test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_metrics_parse_and_move_with_events(app, connect):
    before = metrics(app)
    assert before[("ensemble_connections", ())] == 0 and before[("ensemble_rooms", ())] == 0
    ada, bob = connect(), connect()
    assert ada.emit("join", {"room": "r", "name": "Ada"}, callback=True)["ok"]
    assert bob.emit("join", {"room": "r", "name": "Bob"}, callback=True)["ok"]
    ada.emit("chat", {"text": "hi"}, callback=True)
    ada.emit("chat", {"text": ""}, callback=True)
    bob.emit("made-up-event", {}, callback=True)
    bob.emit("another-made-up-one", {}, callback=True)
    after = metrics(app)
    assert after[("ensemble_connections", ())] == 2
    assert after[("ensemble_rooms", ())] == 1 and after[("ensemble_peers", ())] == 2
    assert after[("ensemble_events_total", (("event", "join"),))] == 2
    assert after[("ensemble_events_total", (("event", "chat"),))] == 2
    # Names a client makes up share one label, so they cannot grow the metrics without bound.
    assert after[("ensemble_events_total", (("event", "unknown"),))] == 2
    assert after[("ensemble_errors_total", (("code", "bad_request"),))] == 3
    assert after[("ensemble_redis_errors_total", ())] == 0
    bob.disconnect()
    assert metrics(app)[("ensemble_connections", ())] == 1 and metrics(app)[("ensemble_peers", ())] == 1


def test_rate_limited_events_are_counted(tmp_path):
    app = create_app(make_settings(event_burst=2, events_per_second=0.001, upload_folder=str(tmp_path)))
    client = app.extensions["socketio"].test_client(app)
    for _ in range(4):
        client.emit("media", {"audio": True, "video": True}, callback=True)
    counted = metrics(app)
    assert counted[("ensemble_rate_limited_events_total", ())] == 2
    assert counted[("ensemble_errors_total", (("code", "rate_limited"),))] == 2


def test_metrics_show_redis_errors_and_other_processes_heartbeats(tmp_path):
    with RedisProcess(tmp_path) as store:
        other = RedisRegistry(store.url, RoomLimits())
        app = create_app(make_settings(redis_url=store.url, upload_folder=str(tmp_path)))
        registry = app.extensions["ensemble"].registry
        other.upkeep()
        registry.upkeep()
        ages = metrics(app)
        assert 0 <= ages[("ensemble_process_heartbeat_age_seconds", (("process", other.process_id),))] < 5
        store.stop()
        with pytest.raises(Unavailable):
            registry.upkeep()
        assert metrics(app)[("ensemble_redis_errors_total", ())] >= 1
        answer = app.test_client().get("/healthz")
        assert answer.status_code == 503
        error = answer.get_json()["error"]
        assert answer.get_json()["ok"] is False and error["code"] == "unavailable" and "Connection refused" in error["message"]


def log_record(message, **fields):
    record = logging.LogRecord("ensemble.signaling", logging.INFO, __file__, 1, message, (), None)
    record.fields = fields
    return record


def test_log_lines_carry_fields_as_text_or_json():
    record = log_record("joined", room="standup", peer="p1", replaced=None)
    assert TextFormatter().format(record).endswith("INFO ensemble.signaling: joined room=standup peer=p1")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "joined" and entry["room"] == "standup" and "replaced" not in entry


HOSTILE = "a\n2026-01-01 00:00:00,000 WARNING ensemble.views: forged\r\x1b[31mred\u2028\u2029\x85\x0b\x00\u202e end"


def hostile_record():
    record = logging.LogRecord("ensemble.views", logging.WARNING, __file__, 1, "event %s refused", (HOSTILE,), None)
    record.fields = {"event": HOSTILE, "blocked-uri": "x room=forged", "empty": "", "count": 3}
    return record


def test_text_lines_escape_line_breaks_and_controls_from_fields_and_arguments():
    line = TextFormatter().format(hostile_record())
    assert len(line.splitlines()) == 1 and line.isprintable(), line
    assert "refused event=\"a\\n2026-01-01 00:00:00,000 WARNING ensemble.views: forged\\r\\u001b[31mred" in line
    assert "event a\\n2026-01-01" in line  # the message's argument
    assert "\\u2028\\u2029\\u0085\\u000b\\u0000\\u202e end" in line
    # A value cannot pass for more fields of the same line.
    assert 'blocked-uri="x room=forged" empty="" count=3' in line


def test_a_traceback_stays_below_its_escaped_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("ensemble.views", logging.ERROR, __file__, 1, "failed %s", ("\nforged",), sys.exc_info())
    head, *traceback = TextFormatter().format(record).splitlines()
    assert head.endswith("failed \\nforged") and traceback[0] == "Traceback (most recent call last):"


def test_json_lines_are_one_line_and_give_back_the_hostile_text():
    line = JsonFormatter().format(hostile_record())
    assert len(line.splitlines()) == 1 and line.isprintable(), line
    entry = json.loads(line)
    assert entry["event"] == HOSTILE and entry["message"] == f"event {HOSTILE} refused" and entry["count"] == 3


def test_no_payload_reaches_the_log(connect, caplog):
    caplog.set_level(logging.DEBUG)
    ada, bob = connect(), connect()
    join = ada.emit("join", {"room": "vault", "name": "Ada", "password": "hunter22"}, callback=True)
    bob.emit("join", {"room": "vault", "name": "Bob", "password": "hunter22"}, callback=True)
    ada.emit("chat", {"text": "the secret plan"}, callback=True)
    ada.emit("signal", {"to": join["id"], "kind": "offer", "data": {"type": "offer", "sdp": "v=0 o=- secret-sdp"}}, callback=True)
    logged = "\n".join(TextFormatter().format(record) for record in caplog.records)
    assert "joined" in logged
    for secret in ("hunter22", "the secret plan", "secret-sdp"):
        assert secret not in logged
