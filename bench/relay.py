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

`--share FILE` makes them share analysis as Ensemble's browsers do (issue 15):
each appends a prepared trailer (static/js/sharing/packet.js: a packet of the
picture's person mask and faces, age 0, with its tail) to the encoded frames it
sends. FILE is JSON, per photo a list of base64 trailers used in turn, frame by
frame ("" for a frame that carries none), so the list also sets the metadata
rate: `["<mask and faces>", "<mask>"]` gives 15 masks and 7.5 faces a second at
15 fps. libvpx ignores the bytes a receiver leaves on. bench/analysis.py
(`--shared`) prepares them with the page's own engines. `--receive-only`: the
members send no video, they only take what the browsers send. `--want mask
faces`: each member tells each browser over the link's data channel what it
wants of its camera (a browser analyses its own camera only for peers that want
something).

Benchmarks start it with `relay_members(...)`, at the lowest CPU priority
(SCHED_IDLE): what little it needs comes from time the measured browser leaves.
"""

import argparse
import asyncio
import base64
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


def read_trailers(path):
    """`--share`'s file: per photo, the trailers its frames carry in turn (bytes; b"" for none)."""
    shared = json.loads(Path(path).read_text())
    return {photo: [base64.b64decode(trailer) for trailer in trailers] for photo, trailers in shared.items()}


def with_trailer(frame, trailers, index):
    """Frame number `index`'s bytes as sent: the encoded frame, then its turn's trailer (if any)."""
    return frame + trailers[index % len(trailers)] if trailers else frame


class LoopedVideo(MediaStreamTrack):
    """Encoded frames sent in a loop at `fps`, with timestamps that keep rising across
    loops (a receiver drops frames whose time goes backwards), each with its turn of
    `trailers` appended (none when empty)."""

    kind = "video"
    CLOCK = 90_000  # the RTP video clock

    def __init__(self, frames, fps, trailers=()):
        super().__init__()
        self._frames, self._fps = frames, fps
        self._trailers = list(trailers)
        self._sent = 0
        self._started = None

    async def recv(self):
        self._started = self._started or time.monotonic()
        await asyncio.sleep(max(0.0, self._started + self._sent / self._fps - time.monotonic()))
        packet = av.Packet(with_trailer(self._frames[self._sent % len(self._frames)], self._trailers, self._sent))
        packet.pts = self._sent * self.CLOCK // self._fps
        packet.time_base = fractions.Fraction(1, self.CLOCK)
        self._sent += 1
        return packet


class RelayMember:
    """One room member: a signaling client and one RTCPeerConnection per browser that calls it.
    `frames`: what it sends (None: nothing, it only receives); `trailers`: see LoopedVideo;
    `wants`: what it asks each browser to share of its camera ("mask", "faces", …)."""

    def __init__(self, loop, url, room, name, frames, fps, timings=False, trailers=(), wants=()):
        self._loop = loop
        self._timings = timings
        self._frames, self._fps, self._trailers = frames, fps, trailers
        self._wants = wants
        self._room, self._name = room, name
        self._links = {}
        self._signals = asyncio.Queue()
        self._client = EnsembleClient(url, timeout=10)

    def join(self):
        # Signals arrive on the client's thread; they are handled in order on the event loop.
        self._client.on("signal", lambda message: self._loop.call_soon_threadsafe(self._signals.put_nowait, {**message, "at": time.time()}))
        self._client.on("peer-left", lambda peer: self._loop.call_soon_threadsafe(self._signals.put_nowait, {"left": peer["id"]}))
        self._client.connect()
        self._client.join(self._room, self._name, media={"audio": False, "video": self._frames is not None})

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
        if self._frames is not None and not any(rtp.track for rtp in link.getSenders()):
            link.addTrack(LoopedVideo(self._frames, self._fps, self._trailers))
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
        if self._wants:
            # The page's one data channel (static/js/call/peer.js): negotiated, id 0, small JSON messages.
            channel = link.createDataChannel("ensemble", negotiated=True, id=0)
            wants = {"type": "wants", **{want: want in self._wants for want in ("mask", "faces", "landmarks", "expressions")}}
            channel.on("open", lambda: channel.send(json.dumps(wants)))

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


async def run(url, room, photos, fps, timings=False, first=1, shared=None, send=True, wants=()):
    loop = asyncio.get_running_loop()
    trailers = read_trailers(shared) if shared else {}
    with tempfile.TemporaryDirectory() as folder:
        members = [RelayMember(loop, url, room, f"R{first + index}", read_frames(make_video(folder, photo, fps)) if send else None,
                               fps, timings, trailers.get(photo, ()), wants)
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
def relay_members(url, room, photos, fps=15, idle=True, timings=None, separate=False, shared=None, send=True, wants=()):
    """Run the members of `room` (one per photo) in a separate process while the block runs.
    `idle`: at SCHED_IDLE, which gets only CPU time nothing else wants; `timings`: a file that
    receives `--timings` lines (and anything else the members print to stderr); `separate`:
    one process per member, so they answer offers side by side as separate machines do,
    not one after another on one event loop; `shared`: a `--share` file (the trailers their
    frames carry); `send=False`: members that only receive; `wants`: see `--want`."""
    priority = ["chrt", "--idle", "0"] if idle else []
    groups = [[photo] for photo in photos] if separate else [photos]
    processes = []
    try:
        first = 1
        for group in groups:
            command = [*priority, sys.executable, __file__, url, room, "--photos", *group, "--fps", str(fps), "--first", str(first)]
            command += ["--timings"] if timings else []
            command += ["--share", str(shared)] if shared else []
            command += [] if send else ["--receive-only"]
            command += ["--want", *wants] if wants else []
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
    parser.add_argument("--share", metavar="FILE", help="JSON: per photo, the base64 trailers its frames carry in turn")
    parser.add_argument("--receive-only", action="store_true", help="send no video, only receive")
    parser.add_argument("--want", nargs="+", default=[], choices=["mask", "faces", "landmarks", "expressions"],
                        help="ask each browser to share these of its camera")
    options = parser.parse_args()
    asyncio.run(run(options.url, options.room, options.photos, options.fps, options.timings, options.first,
                    options.share, not options.receive_only, options.want))


if __name__ == "__main__":
    main()
