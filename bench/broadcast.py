"""Broadcast benchmark: ffmpeg's CPU per broadcast (H.264 copied against VP8 transcoded), how
soon a posted chunk is in a listed segment, and 50 viewers of one broadcast through the shipped
nginx config with no segment missed; with --glass, the glass-to-glass delay in Chromium
(bench/broadcast_glass.py).

A recording like a broadcaster's (1280×720, 30 fps, Opus) is made by ffmpeg once, then posted
in 500 ms chunks at the pace it was recorded, as a page's MediaRecorder would post it.

    .venv/bin/python bench/broadcast.py [--seconds 30] [--viewers 50]
    .venv/bin/python bench/broadcast.py --glass [--seconds 40] [--chunk-ms 500 ...] [--live-sync 1.5 ...] [--segment 1 ...]
"""

import argparse
import itertools
import json
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.broadcast_glass import glass_to_glass  # noqa: E402
from ensemble_client import EnsembleClient  # noqa: E402
from harness.servers import Deployment, ServerProcess  # noqa: E402

CHUNK_SECONDS = 0.5
TICKS = 100  # clock ticks a second (os.sysconf("SC_CLK_TCK") on Linux)


def recording(folder, codec, seconds):
    """(chunks, seconds each chunk covers): a 720p30 WebM recording cut where 500 ms of it ends."""
    video = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-g", "30"] if codec == "h264" else [
        "-c:v", "libvpx", "-b:v", "2500k", "-deadline", "realtime", "-cpu-used", "8", "-g", "30"]
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = Path(folder) / f"{codec}.webm"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds), *video, "-pix_fmt", "yuv420p",
         "-c:a", "libopus", "-f", "matroska" if codec == "h264" else "webm", "-cluster_time_limit", "500", str(path)],
        check=True,
    )
    data = path.read_bytes()
    count = int(seconds / CHUNK_SECONDS)
    size = -(-len(data) // count)
    return [data[start:start + size] for start in range(0, len(data), size)]


def post(url, path, body, headers, context=None):
    request = urllib.request.Request(url + path, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=15, context=context) as response:
        return json.load(response)


def broadcast(url, member_url, room, codec, chunks, context=None, on_chunk=None):
    """Post a broadcast in real time; returns its watch key and id."""
    client = EnsembleClient(member_url).connect()
    client.join(room, "Bench")
    types = {"h264": "video/webm;codecs=h264,opus", "vp8": "video/webm;codecs=vp8,opus"}
    started = post(url, f"/api/broadcasts/{room}", json.dumps({"type": types[codec]}).encode(), client.member_header, context)
    begin = time.monotonic()
    for seq, chunk in enumerate(chunks):
        time.sleep(max(0.0, begin + (seq + 1) * CHUNK_SECONDS - time.monotonic()))
        post(url, f"/api/broadcasts/{room}/chunks/{seq}", chunk, client.member_header, context)
        if on_chunk:
            on_chunk(seq, time.monotonic())
    request = urllib.request.Request(url + f"/api/broadcasts/{room}", method="DELETE", headers=client.member_header)
    urllib.request.urlopen(request, timeout=15, context=context).read()
    client.close()
    return started


def parent(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def cpu_seconds(pid):
    """User and system CPU of a process and its waited-for children, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / TICKS


def ffmpeg_cpu(folder, codec, seconds):
    """CPU % of one core taken by the broadcast's ffmpeg (the server process's children named ffmpeg)."""
    chunks = recording(folder, codec, seconds)
    with ServerProcess(folder, broadcast_folder=Path(folder) / f"broadcasts-{codec}") as server:
        before = cpu_seconds(server.pid)
        started = time.monotonic()
        seen = {}

        def watch_ffmpeg():
            while time.monotonic() - started < seconds + 5:
                for entry in Path("/proc").iterdir():
                    try:
                        if (entry / "comm").read_text().strip() == "ffmpeg" and parent(entry.name) == server.pid:
                            seen[entry.name] = cpu_seconds(entry.name)
                    except (OSError, ValueError):
                        continue
                time.sleep(0.5)

        watcher = threading.Thread(target=watch_ffmpeg, daemon=True)
        watcher.start()
        broadcast(server.url, server.url, "cpu", codec, chunks)
        elapsed = time.monotonic() - started
        watcher.join()
        server_cpu = cpu_seconds(server.pid) - before
    return {"codec": codec, "ffmpeg_cpu_percent": round(100 * sum(seen.values()) / elapsed, 1),
            "server_cpu_percent_incl_children": round(100 * server_cpu / elapsed, 1), "seconds": round(elapsed, 1)}


def viewer(site, playlist, context, stop, result):
    """Poll the playlist every 0.5 s as hls.js does and fetch every segment once; count what is missed."""
    base = playlist.rsplit("/", 1)[0]
    fetched, last = set(), None
    while not stop.is_set():
        try:
            with urllib.request.urlopen(site + playlist, timeout=5, context=context) as response:
                text = response.read().decode()
        except OSError:
            result["errors"] += 1
            time.sleep(0.5)
            continue
        sequence = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
        names = [line for line in text.splitlines() if line.endswith(".ts")]
        for offset, name in enumerate(names):
            number = sequence + offset
            if number in fetched:
                continue
            if last is not None and number > last + 1:
                result["missed"] += number - last - 1
            try:
                with urllib.request.urlopen(f"{site}{base}/{name}", timeout=5, context=context) as response:
                    response.read()
                fetched.add(number)
                last = number
            except OSError:
                result["errors"] += 1
        if "#EXT-X-ENDLIST" in text:
            break
        time.sleep(0.5)
    result["segments"] += len(fetched)


def viewers_through_nginx(folder, seconds, count):
    chunks = recording(folder, "h264", seconds)
    (Path(folder) / "site").mkdir(parents=True, exist_ok=True)
    with Deployment(Path(folder) / "site") as site:
        context = ssl.create_default_context(cafile=str(site.certificate))
        holder, posted = {}, {}
        stop = threading.Event()
        results = [{"missed": 0, "errors": 0, "segments": 0} for _ in range(count)]

        def run():
            holder["started"] = broadcast(site.url, site.servers[0].url, "crowd", "h264", chunks, context,
                                          on_chunk=lambda seq, at: posted.setdefault(seq, at))

        sender = threading.Thread(target=run)
        sender.start()
        while "started" not in holder and not posted:
            time.sleep(0.1)
        while True:  # the status needs the key, which the start's reply holds: read it from the folder instead
            records = list((Path(folder) / "site" / "broadcasts" / "rooms").glob("crowd.json"))
            if records:
                playlist = f"/hls/{json.loads(records[0].read_text())['id']}/index.m3u8"
                break
            time.sleep(0.1)
        stream = Path(folder) / "site" / "broadcasts" / "live" / playlist.split("/")[2]
        # when each segment is first listed, against when the chunks ending its media time were posted
        listed = {}

        def note_listing():
            while not stop.is_set():
                try:
                    text = (stream / "index.m3u8").read_text()
                except FileNotFoundError:
                    time.sleep(0.05)
                    continue
                for name in re.findall(r"s(\d+)\.ts", text):
                    listed.setdefault(int(name), time.monotonic())
                time.sleep(0.05)

        threading.Thread(target=note_listing, daemon=True).start()
        while not (stream / "index.m3u8").exists():
            time.sleep(0.1)
        threads = [threading.Thread(target=viewer, args=(site.url, playlist, context, stop, result)) for result in results]
        for thread in threads:
            thread.start()
        sender.join()
        for thread in threads:
            thread.join(30)
        stop.set()
        # segment n holds media time [n, n+1) s; the chunk that completes n+1 s of media is number 2(n+1)-1
        delays = sorted(listed[n] - posted[2 * (n + 1) - 1] for n in listed if 2 * (n + 1) - 1 in posted)
    return {
        "viewers": count, "missed_segments": sum(r["missed"] for r in results), "errors": sum(r["errors"] for r in results),
        "segments_per_viewer_min": min(r["segments"] for r in results), "segments_per_viewer_max": max(r["segments"] for r in results),
        "listed_after_chunk_s_median": round(delays[len(delays) // 2], 2) if delays else None,
        "listed_after_chunk_s_max": round(delays[-1], 2) if delays else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--glass", action="store_true", help="the glass-to-glass delay in Chromium instead")
    parser.add_argument("--chunk-ms", type=int, nargs="*", default=[None], help="with --glass: MediaRecorder chunk lengths to try")
    parser.add_argument("--live-sync", type=float, nargs="*", default=[None], help="with --glass: hls.js liveSyncDuration values to try")
    parser.add_argument("--segment", type=float, nargs="*", default=[None], help="with --glass: HLS segment lengths (s) to try")
    options = parser.parse_args()
    if options.glass:
        for chunk_ms, live_sync, segment in itertools.product(options.chunk_ms, options.live_sync, options.segment):
            print(json.dumps(glass_to_glass(options.seconds, chunk_ms, live_sync, segment)), flush=True)
        return
    with tempfile.TemporaryDirectory() as folder:
        for codec in ("h264", "vp8"):
            print(json.dumps(ffmpeg_cpu(Path(folder) / codec, codec, options.seconds)), flush=True)
        print(json.dumps(viewers_through_nginx(Path(folder) / "nginx", options.seconds, options.viewers)), flush=True)


if __name__ == "__main__":
    main()
