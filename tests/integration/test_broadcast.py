"""Broadcasts against `python server.py` (gevent) with a real ffmpeg: WebM chunks made by ffmpeg
posted as a broadcaster's page posts them, HLS read back and checked with ffprobe, and every
refusal of docs/protocol.md ("Broadcasts")."""

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ensemble_client import EnsembleClient
from harness.servers import Deployment
from tests.waiting import eventually

H264 = "video/webm;codecs=h264,opus"
VP8 = "video/webm;codecs=vp8,opus"
CHUNK_BYTES = 32 * 1024


def recording(folder, codec, seconds=6):
    """A recording like a broadcaster's MediaRecorder makes: Matroska, moving picture, a tone."""
    video = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"] if codec == "h264" else ["-c:v", "libvpx", "-b:v", "500k"]
    path = Path(folder) / f"{codec}.webm"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), *video, "-g", "15", "-c:a", "libopus", "-f", "matroska" if codec == "h264" else "webm", str(path)],
        check=True,
    )
    data = path.read_bytes()
    return [data[start:start + CHUNK_BYTES] for start in range(0, len(data), CHUNK_BYTES)]


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recordings")
    return {"h264": recording(folder, "h264"), "vp8": recording(folder, "vp8")}


@pytest.fixture
def start(start, tmp_path):
    """`start(**settings)`: the conftest's server, broadcasting into tmp_path/broadcasts, silence and grace short."""

    def start_broadcasting(**settings):
        defaults = {"broadcast_folder": str(tmp_path / "broadcasts"), "broadcast_silence_seconds": 3, "broadcast_grace_seconds": 4}
        return start(**{**defaults, **settings})

    return start_broadcasting


@pytest.fixture
def member():
    """`member(server, room)`: an EnsembleClient joined to `room`, closed after the test."""
    opened = []

    def join(server, room="stage", name="Ada"):
        client = EnsembleClient(server.url).connect()
        opened.append(client)
        client.join(room, name)
        return client

    yield join
    for client in opened:
        if client.connected:
            client.close()


def call(server, method, path, body=None, headers=None):
    """(status, JSON reply) of one HTTP request."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def begin(server, client, media_type=H264, room=None):
    return call(server, "POST", f"/api/broadcasts/{room or client.room}", {"type": media_type}, client.member_header)


def send(server, client, seq, chunk, room=None):
    return call(server, "POST", f"/api/broadcasts/{room or client.room}/chunks/{seq}", chunk, client.member_header)


def send_all(server, client, chunks, first=0):
    for seq, chunk in enumerate(chunks, first):
        status, reply = send(server, client, seq, chunk)
        assert status == 200 and reply["next"] == seq + 1, reply


def status_of(server, room, key):
    return call(server, "GET", f"/api/broadcasts/{room}?key={key}")


def key_of(started):
    return started["watch"].split("key=")[1]


def fetch(server, path):
    with urllib.request.urlopen(server.url + path, timeout=5) as response:
        return response.read()


def playlist(server, room, key):
    return fetch(server, status_of(server, room, key)[1]["playlist"]).decode()


def codecs(server, folder, path):
    """The codec of each stream of a segment, as ffprobe reads it."""
    segment = Path(folder) / "segment.ts"
    segment.write_bytes(fetch(server, path))
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "json", str(segment)], capture_output=True, check=True
    )
    return sorted(stream["codec_name"] for stream in json.loads(probe.stdout)["streams"])


def parent(pid):
    try:
        return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError):
        return 0


def ffmpeg_children(server):
    """The pids of the ffmpeg processes the server (or its gunicorn worker) started."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if command == "ffmpeg" and server.pid in (parent(entry.name), parent(parent(entry.name))):
            found.append(int(entry.name))
    return found


def ended_playlist(server, room, key):
    return "#EXT-X-ENDLIST" in playlist(server, room, key)


@pytest.mark.parametrize("codec, copied", [("h264", True), ("vp8", False)])
def test_a_members_broadcast_becomes_h264_and_aac_hls_ended_when_stopped(start, member, chunks, tmp_path, codec, copied):
    server = start()
    ada = member(server)
    status, started = begin(server, ada, H264 if codec == "h264" else VP8)
    assert status == 201 and started["copy"] is copied and started["watch"].startswith("/r/stage/watch?key=")
    key = key_of(started)
    assert status_of(server, "stage", key)[1]["state"] == "starting"
    send_all(server, ada, chunks[codec])
    eventually(lambda: status_of(server, "stage", key)[1]["state"] == "live", timeout=15)
    assert call(server, "DELETE", "/api/broadcasts/stage", headers=ada.member_header) == (200, {"ok": True})
    assert status_of(server, "stage", key)[1]["state"] == "ended"
    text = playlist(server, "stage", key)
    assert "#EXT-X-ENDLIST" in text and "#EXT-X-TARGETDURATION:" in text
    segments = [line for line in text.splitlines() if line.endswith(".ts")]
    assert len(segments) >= 2, text
    base = status_of(server, "stage", key)[1]["playlist"].rsplit("/", 1)[0]
    assert codecs(server, tmp_path, f"{base}/{segments[0]}") == ["aac", "h264"]


def test_refusals_are_structured_and_leave_the_broadcast_working(start, member, chunks):
    server = start()
    ada, bob = member(server, name="Ada"), member(server, name="Bob")
    other_room = member(server, room="elsewhere", name="Cy")
    # strangers: no credential, a wrong one, a member of another room
    assert call(server, "POST", "/api/broadcasts/stage", {"type": H264})[1]["error"]["code"] == "not_joined"
    status, reply = call(server, "POST", "/api/broadcasts/stage", {"type": H264}, {"X-Ensemble-Member": f"{ada.id}:wrongtoken"})
    assert (status, reply["error"]["code"]) == (403, "not_joined")
    assert begin(server, other_room, room="stage")[0] == 403
    assert begin(server, ada, "video/mp4;codecs=avc1")[1]["error"] == {
        "code": "unsupported_media", "message": "Broadcast WebM with H.264, VP8 or VP9 video (and Opus sound).", "field": "type"}
    status, started = begin(server, ada)
    assert status == 201
    # one broadcaster a room: a second member, and the same one again
    assert begin(server, bob)[0:1] == (409,) and begin(server, bob)[1]["error"]["code"] == "broadcast_busy"
    assert begin(server, ada)[1]["error"]["code"] == "broadcast_busy"
    # chunks from anyone but the broadcaster
    assert call(server, "POST", "/api/broadcasts/stage/chunks/0", chunks["h264"][0])[0] == 403
    busy = {"ok": False, "error": {"code": "broadcast_busy", "message": "Someone else in this room is broadcasting it."}}
    assert send(server, bob, 0, chunks["h264"][0]) == (409, busy)
    assert send(server, other_room, 0, chunks["h264"][0], room="stage")[0] == 403
    # not media, out of order, too large, empty
    status, reply = send(server, ada, 0, b"<html>definitely not a recording</html>" * 10)
    assert (status, reply["error"]["code"]) == (415, "unsupported_media")
    status, reply = send(server, ada, 3, chunks["h264"][0])
    assert (status, reply["error"]["code"], reply["expected"]) == (409, "out_of_order", 0)
    status, reply = send(server, ada, 0, b"\x1a\x45\xdf\xa3" + bytes(4 * 1024 * 1024))
    assert (status, reply["error"]["code"]) == (413, "too_large")
    assert send(server, ada, 0, b"")[1]["error"]["code"] == "bad_request"
    # none of it reached ffmpeg: the recording still plays from chunk 0
    send_all(server, ada, chunks["h264"])
    status, reply = send(server, ada, 1, chunks["h264"][1])
    assert (status, reply["expected"]) == (409, len(chunks["h264"]))
    eventually(lambda: status_of(server, "stage", key_of(started))[1]["state"] == "live", timeout=15)
    assert len(ffmpeg_children(server)) == 1


def test_a_process_runs_at_most_its_cap_of_broadcasts(start, member):
    server = start(broadcasts_per_process=1)
    ada, cy = member(server, "stage"), member(server, "other")
    assert begin(server, ada)[0] == 201
    status, reply = begin(server, cy)
    assert (status, reply["error"]["code"]) == (503, "unavailable")


def test_a_dead_ffmpeg_is_started_again_once_then_the_broadcast_ends(start, member, chunks):
    server = start(broadcast_silence_seconds=10, broadcast_grace_seconds=20)
    ada = member(server)
    key = key_of(begin(server, ada)[1])
    half = len(chunks["h264"]) - 4
    send_all(server, ada, chunks["h264"][:half])
    first = eventually(lambda: ffmpeg_children(server))[0]
    eventually(lambda: status_of(server, "stage", key)[1]["state"] == "live", timeout=15)
    os.kill(first, signal.SIGKILL)
    eventually(lambda: ffmpeg_children(server) and ffmpeg_children(server)[0] != first, timeout=5, what="ffmpeg started again")
    status, reply = send(server, ada, half, chunks["h264"][half])
    assert status == 200 and reply["restarted"] is True
    assert "restarted" not in send(server, ada, half + 1, chunks["h264"][half + 1])[1]  # told once
    os.kill(ffmpeg_children(server)[0], signal.SIGKILL)
    eventually(lambda: status_of(server, "stage", key)[1]["state"] == "ended", timeout=5)
    status, reply = send(server, ada, half + 2, chunks["h264"][half + 2])
    assert (status, reply["error"]["code"]) == (503, "unavailable") and "failed twice" in reply["error"]["message"]
    assert ended_playlist(server, "stage", key)
    assert "ffmpeg died: started again" in server.log()


def test_the_broadcast_ends_when_its_broadcaster_leaves(start, member, chunks):
    server = start()
    ada = member(server)
    key = key_of(begin(server, ada)[1])
    send_all(server, ada, chunks["h264"])
    eventually(lambda: status_of(server, "stage", key)[1]["state"] == "live", timeout=15)
    left = time.monotonic()
    ada.leave()
    eventually(lambda: status_of(server, "stage", key)[1]["state"] == "ended", timeout=5)
    assert time.monotonic() - left < 3 and ended_playlist(server, "stage", key)
    assert not ffmpeg_children(server)


def test_a_silent_broadcast_ends_and_its_files_go_after_the_grace(start, member, chunks, tmp_path):
    server = start()  # silence 3 s, grace 4 s
    ada = member(server)
    started = begin(server, ada)[1]
    key = key_of(started)
    send_all(server, ada, chunks["h264"])
    last = time.monotonic()
    eventually(lambda: status_of(server, "stage", key)[1]["state"] == "ended", timeout=8)
    assert 3 <= time.monotonic() - last and ended_playlist(server, "stage", key)
    stream = tmp_path / "broadcasts" / "live" / started["id"]
    assert stream.is_dir()
    eventually(lambda: not stream.exists() and status_of(server, "stage", key)[1]["state"] == "none", timeout=20)


def test_viewers_need_the_watch_links_secret(start, member, chunks):
    server = start()
    ada = member(server)
    started = begin(server, ada)[1]
    key = key_of(started)
    with urllib.request.urlopen(server.url + started["watch"], timeout=5) as page:
        assert page.read().startswith(b"<!doctype html>")
        policy = dict(part.split(" ", 1) for part in page.headers["Content-Security-Policy"].split("; "))
        assert (policy["media-src"], policy["connect-src"]) == ("'self' blob:", "'self'")
        assert "camera=()" in page.headers["Permissions-Policy"]
    for wrong in ("", "nope", key[:-1] + ("A" if key[-1] != "A" else "B")):
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(server, f"/r/stage/watch?key={wrong}")
        assert refused.value.code == 403
        status, reply = status_of(server, "stage", wrong)
        assert (status, reply["error"]["code"]) == (403, "wrong_password")
    playlist_path = f"/hls/{started['id']}/index.m3u8"
    expected = {"ok": True, "state": "starting", "playlist": playlist_path, "started": pytest.approx(time.time(), abs=30)}
    assert status_of(server, "stage", key) == (200, expected)
    assert status_of(server, "nobody", "") == (200, {"ok": True, "state": "none"})
    with pytest.raises(urllib.error.HTTPError) as missing:
        fetch(server, "/hls/../rooms/stage.json")
    assert missing.value.code == 404


class Site:
    """The deployment's https address as `call` and `fetch` use it (urllib, trusting its certificate)."""

    def __init__(self, deployment):
        self.url = deployment.url
        context = ssl.create_default_context(cafile=str(deployment.certificate))
        urllib.request.install_opener(urllib.request.build_opener(urllib.request.HTTPSHandler(context=context)))


def test_through_nginx_a_rooms_chunks_reach_one_process_and_nginx_serves_the_segments(tmp_path, chunks):
    """Two gunicorn processes behind the shipped nginx config: every chunk lands on the process
    running the room's ffmpeg (one chunk elsewhere would be refused `not_found`), any process
    answers a viewer's status, and nginx serves the playlist and segments from the shared folder."""
    (tmp_path / "site").mkdir()
    with Deployment(tmp_path / "site") as deployment:
        site = Site(deployment)
        first, second = deployment.servers
        with EnsembleClient(first.url) as ada:
            ada.join("stage", "Ada")
            room = "stage"
            started = begin(site, ada, room=room)[1]
            send_all(site, ada, chunks["h264"])
            key = key_of(started)
            for process in (first, second):
                eventually(lambda process=process: status_of(process, room, key)[1]["state"] == "live", timeout=15)
            owners = [server for server in deployment.servers if ffmpeg_children(server)]
            assert len(owners) == 1
            text = playlist(site, room, key)
            segment = [line for line in text.splitlines() if line.endswith(".ts")][0]
            base = status_of(site, room, key)[1]["playlist"].rsplit("/", 1)[0]
            assert codecs(site, tmp_path, f"{base}/{segment}") == ["aac", "h264"]
            with urllib.request.urlopen(f"{site.url}{base}/index.m3u8", timeout=5) as response:
                assert response.headers["Content-Type"] == "application/vnd.apple.mpegurl"
                assert response.headers["Cache-Control"] == "no-cache"
            # nginx answered the playlist and segments itself, from the folder (no upstream)
            served = [line for line in (deployment.nginx.folder / "access.log").read_text().splitlines() if base in line]
            assert served and all(line.endswith("upstream=-") for line in served), served
            assert call(site, "DELETE", f"/api/broadcasts/{room}", headers=ada.member_header) == (200, {"ok": True})
            assert ended_playlist(site, room, key)
