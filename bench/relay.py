"""Stand-ins for other people's machines: room members that send a ready-made video.

    .venv/bin/python bench/relay.py URL ROOM --photos sample1 sample2 sample3 [--fps 15]

Each photo becomes one member of ROOM (named R1, R2, …). It answers the
browsers' offers with aiortc and sends a VP8 file that ffmpeg made once from a
face-api demo photo (640 px wide, with a little camera noise so the decoder
has real work), packet by packet, without decoding or encoding it again. So
the browser being measured receives real WebRTC video, while the senders cost
this machine almost nothing, as if they were elsewhere. What the browsers send
back is received and dropped. Prints "ready" once everyone has joined and runs
until stdin closes. `--timings` prints one JSON line a negotiation to stderr:
when the offer arrived, when the answer was ready and when the server had
taken it (time.time(), seconds).

Benchmarks start it with `relay_members(...)`, at the lowest CPU priority
(SCHED_IDLE): what little it needs comes from time the measured browser leaves.
"""

import argparse
import asyncio
import contextlib
import fractions
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaBlackhole  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402

from ensemble_client import EnsembleClient  # noqa: E402
from harness.browsers import framed_photo  # noqa: E402


def make_video(folder, photo, fps):
    """A 4 s VP8 WebM of a demo photo or close-up with a key frame every second (a receiver can start within one)."""
    path = Path(folder) / f"{photo}-{fps}fps.webm"
    if not path.exists():
        source, framing = framed_photo(photo)
        subprocess.run(
            [shutil.which("ffmpeg") or "ffmpeg", "-loglevel", "error", "-loop", "1", "-i", str(source),
             "-vf", f"{framing},noise=alls=6:allf=t,format=yuv420p", "-r", str(fps), "-t", "4",
             "-c:v", "libvpx", "-b:v", "600k", "-g", str(fps), "-deadline", "realtime", "-cpu-used", "8", "-an", str(path)],
            check=True,
        )
    return path


def read_frames(path):
    """The encoded frames of a video file, in order."""
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(video=0) if packet.size]


class LoopedVideo(MediaStreamTrack):
    """Encoded frames sent in a loop at `fps`, with timestamps that keep rising across
    loops (a receiver drops frames whose time goes backwards)."""

    kind = "video"
    CLOCK = 90_000  # the RTP video clock

    def __init__(self, frames, fps):
        super().__init__()
        self._frames, self._fps = frames, fps
        self._sent = 0
        self._started = None

    async def recv(self):
        self._started = self._started or time.monotonic()
        await asyncio.sleep(max(0.0, self._started + self._sent / self._fps - time.monotonic()))
        packet = av.Packet(self._frames[self._sent % len(self._frames)])
        packet.pts = self._sent * self.CLOCK // self._fps
        packet.time_base = fractions.Fraction(1, self.CLOCK)
        self._sent += 1
        return packet


class RelayMember:
    """One room member: a signaling client and one RTCPeerConnection per browser that calls it."""

    def __init__(self, loop, url, room, name, frames, fps, timings=False):
        self._loop = loop
        self._timings = timings
        self._frames, self._fps = frames, fps
        self._room, self._name = room, name
        self._links = {}
        self._signals = asyncio.Queue()
        self._client = EnsembleClient(url, timeout=10)

    def join(self):
        # Signals arrive on the client's thread; they are handled in order on the event loop.
        self._client.on("signal", lambda message: self._loop.call_soon_threadsafe(self._signals.put_nowait, {**message, "at": time.time()}))
        self._client.on("peer-left", lambda peer: self._loop.call_soon_threadsafe(self._signals.put_nowait, {"left": peer["id"]}))
        self._client.connect()
        self._client.join(self._room, self._name, media={"audio": False, "video": True})

    async def serve(self):
        while True:
            message = await self._signals.get()
            try:
                if "left" in message:
                    link = self._links.pop(message["left"], None)
                    if link:
                        await link.close()
                else:
                    await self._handle(message["from"], message["kind"], message["data"], message["at"])
            except Exception as error:  # one browser's bad signal must not stop the others
                print(f"{self._name}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)

    async def _handle(self, sender, kind, data, arrived):
        if kind == "candidate":
            link = self._links.get(sender)
            if link and data.get("candidate"):
                candidate = candidate_from_sdp(data["candidate"].split(":", 1)[1])
                candidate.sdpMid, candidate.sdpMLineIndex = data.get("sdpMid"), data.get("sdpMLineIndex")
                await link.addIceCandidate(candidate)
            return
        if kind != "offer":
            return
        link = self._links.get(sender) or self._open(sender)
        await link.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        if not any(rtp.track for rtp in link.getSenders()):
            link.addTrack(LoopedVideo(self._frames, self._fps))
        await link.setLocalDescription(await link.createAnswer())
        answer = {"type": "answer", "sdp": link.localDescription.sdp}
        ready = time.time()
        await asyncio.to_thread(self._client.signal, sender, "answer", answer)
        if self._timings:
            times = {"member": self._name, "peer": sender, "offer": arrived, "answer": ready, "sent": time.time()}
            print(json.dumps(times), file=sys.stderr, flush=True)

    def _open(self, peer):
        # No ICE servers: aiortc's default is Google's STUN server, off this machine.
        link = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        drop = MediaBlackhole()

        @link.on("track")
        def on_track(track):
            drop.addTrack(track)
            asyncio.ensure_future(drop.start())

        self._links[peer] = link
        return link

    async def close(self):
        for link in self._links.values():
            await link.close()
        self._client.close()


async def run(url, room, photos, fps, timings=False, first=1):
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as folder:
        members = [RelayMember(loop, url, room, f"R{first + index}", read_frames(make_video(folder, photo, fps)), fps, timings)
                   for index, photo in enumerate(photos)]
        for member in members:
            await asyncio.to_thread(member.join)
        tasks = [asyncio.ensure_future(member.serve()) for member in members]
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the caller closes our stdin
        for task in tasks:
            task.cancel()
        for member in members:
            await member.close()


@contextlib.contextmanager
def relay_members(url, room, photos, fps=15, idle=True, timings=None, separate=False):
    """Run the members of `room` (one per photo) in a separate process while the block runs.
    `idle`: at SCHED_IDLE, which gets only CPU time nothing else wants; `timings`: a file that
    receives `--timings` lines (and anything else the members print to stderr); `separate`:
    one process per member, so they answer offers side by side as separate machines do,
    not one after another on one event loop."""
    priority = ["chrt", "--idle", "0"] if idle else []
    groups = [[photo] for photo in photos] if separate else [photos]
    processes = []
    try:
        first = 1
        for group in groups:
            command = [*priority, sys.executable, __file__, url, room, "--photos", *group, "--fps", str(fps), "--first", str(first)]
            command += ["--timings"] if timings else []
            processes.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=timings, text=True))
            first += len(group)
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the relay members did not start (exit code {process.wait(10)})")
        yield
    finally:
        for process in processes:
            process.stdin.close()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("room")
    parser.add_argument("--photos", nargs="+", default=["sample1"])
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--timings", action="store_true", help="one JSON line a negotiation on stderr")
    parser.add_argument("--first", type=int, default=1, help="the number in the first member's name")
    options = parser.parse_args()
    asyncio.run(run(options.url, options.room, options.photos, options.fps, options.timings, options.first))


if __name__ == "__main__":
    main()
