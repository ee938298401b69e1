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
members send no video, they only take what the browsers send. `--pages-only`: the members neither link to nor subscribe to each other, only to
the browsers (benchmarks: on real laptops they would, but not on the measured
browser's account). `--want mask
faces`: each member tells each browser over the link's data channel what it
wants of its camera (a browser analyses its own camera only for peers that want
something).

Rooms on Janus (issue 23): when the server says the room is on the SFU (`sfu`, in
the join's reply or as an event), each member publishes its video to Janus and
subscribes to every other member's feed, as a page does (bench/janus_seat.py).
After "ready", stdin takes commands, one a line: `leave NAME` makes member NAME
leave the room over Socket.IO while its Janus session goes on (a member removed
while its page still runs: the server must kick it). What happens on Janus is
printed on stdout, a JSON line each: {"member", "event", …} (janus_seat.py).

Benchmarks start it with `relay_members(...)`, at the lowest CPU priority
(SCHED_IDLE): what little it needs comes from time the measured browser leaves.
"""

import argparse
import asyncio
import base64
import contextlib
import fractions
import json
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaBlackhole  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402

from bench.janus_seat import JanusSeat  # noqa: E402
from ensemble_client import EnsembleClient  # noqa: E402
from harness.browsers import framed_photo  # noqa: E402

# Janus tokens are renewed this long before they expire, or at half their life if sooner (as a page does).
RENEW_AHEAD_SECONDS = 60
# The stand-ins' names (R1, R2, …): `pages_only` tells them from the pages by it.
STAND_IN_NAME = re.compile(r"R\d+")


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

    def __init__(self, loop, url, room, name, frames, fps, timings=False, trailers=(), wants=(), pages_only=False):
        self._loop = loop
        self._timings = timings
        self._frames, self._fps, self._trailers = frames, fps, trailers
        self._wants = wants
        self._room, self._name = room, name
        self._links = {}
        self._seat = None
        self._renewal = None
        self._pages_only = pages_only
        self._names = {}  # peer id -> name, of everyone in the room
        self._signals = asyncio.Queue()
        self._client = EnsembleClient(url, timeout=10)

    @property
    def name(self):
        return self._name

    def join(self):
        # Signals arrive on the client's thread; they are handled in order on the event loop.
        self._client.on("signal", lambda message: self.tell({**message, "at": time.time()}))
        self._client.on("peer-left", lambda peer: self.tell({"left": peer["id"]}))
        self._client.on("sfu", lambda description: self.tell({"sfu": description}))
        self._client.on("peer-joined", lambda peer: self._names.update({peer["id"]: peer["name"]}))
        self._client.connect()
        reply = self._client.join(self._room, self._name, media={"audio": False, "video": self._frames is not None})
        self._names.update({peer["id"]: peer["name"] for peer in reply["peers"]})
        if "sfu" in reply:
            self.tell({"sfu": reply["sfu"]})
        else:  # in the mesh the one who joins calls everyone already there, as a page does
            for peer in reply["peers"]:
                if self.wanted(peer["id"]):
                    self.tell({"call": peer["id"]})

    def wanted(self, peer):
        """Whether to link to (or subscribe to) `peer`: everyone, or with `pages_only` no other stand-in."""
        return not (self._pages_only and STAND_IN_NAME.fullmatch(self._names.get(peer, "")))

    def tell(self, message):
        """A message for serve(), from any thread."""
        self._loop.call_soon_threadsafe(self._signals.put_nowait, message)

    async def serve(self):
        while True:
            message = await self._signals.get()
            try:
                if "left" in message:
                    link = self._links.pop(message["left"], None)
                    if link:
                        await link.close()
                    if self._seat:
                        self._seat.forget(message["left"])
                elif "sfu" in message:
                    await self._on_sfu(message["sfu"])
                elif "call" in message:
                    await self._call(message["call"])
                elif message.get("command") == "leave":
                    if self._renewal:
                        self._renewal.cancel()
                    await asyncio.to_thread(self._client.leave)
                    self._report("left-room", at=time.time())
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
        if kind == "answer" and sender in self._links:
            await self._links[sender].setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="answer"))
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

    async def _call(self, peer):
        """Offer a page our video (and to take its audio and video), with the page's data channel."""
        link = self._open(peer, channel=True)
        if self._frames is not None:
            link.addTrack(LoopedVideo(self._frames, self._fps, self._trailers))
        else:
            link.addTransceiver("video", direction="recvonly")
        link.addTransceiver("audio", direction="recvonly")
        await link.setLocalDescription(await link.createOffer())
        await asyncio.to_thread(self._client.signal, peer, "offer", {"type": "offer", "sdp": link.localDescription.sdp})

    async def _on_sfu(self, description):
        """The room is on Janus (or moved to another instance): publish there, subscribe to the others."""
        if self._seat and self._seat.same_room(description):
            await self._seat.update(description)
            return
        if self._seat:
            await self._seat.close()
        track = LoopedVideo(self._frames, self._fps, self._trailers) if self._frames is not None else None
        self._seat = JanusSeat(self._client.id, description, track, self._report, wanted=self.wanted)
        asyncio.ensure_future(self._sit(self._seat))
        if self._renewal is None:
            self._renewal = asyncio.ensure_future(self._renew_tokens(description["tokens"]["expires"]))

    async def _renew_tokens(self, expires):
        """Fresh Janus tokens before these expire, as a page asks for them (static/js/call/session.js);
        a refused ask (the link is down, or the member has left) is tried again a little later."""
        while True:
            left = expires - time.time()
            await asyncio.sleep(max(1.0, min(left - RENEW_AHEAD_SECONDS, left / 2)))
            try:
                reply = await asyncio.to_thread(self._client.request, "sfu-token", {})
            except Exception:  # noqa: BLE001 — whatever failed, the next ask is the cure
                expires = time.time() + 10
                continue
            expires = reply["tokens"]["expires"]
            if self._seat:
                self._seat.set_tokens(reply["tokens"])

    async def _sit(self, seat):
        try:
            await seat.start()
        except Exception as error:  # reported: the caller waits on what it expects
            self._report("janus-failed", error=f"{type(error).__name__}: {error}")

    def _report(self, event, **fields):
        print(json.dumps({"member": self._name, "event": event, **fields}), flush=True)

    def _open(self, peer, channel=False):
        # No ICE servers: aiortc's default is Google's STUN server, off this machine.
        link = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        drop = MediaBlackhole()
        if self._wants or channel:
            # The page's one data channel (static/js/call/peer.js): negotiated, id 0, small JSON messages.
            data = link.createDataChannel("ensemble", negotiated=True, id=0)
            wants = {"type": "wants", **{want: want in self._wants for want in ("mask", "faces", "landmarks", "expressions")}}
            if self._wants:
                data.on("open", lambda: data.send(json.dumps(wants)))

        @link.on("track")
        def on_track(track):
            drop.addTrack(track)
            asyncio.ensure_future(drop.start())

        @link.on("connectionstatechange")
        async def on_state():
            # The page closed it (the room moved to Janus, or it left): nothing more to send it.
            if link.connectionState in ("closed", "failed") and self._links.get(peer) is link:
                del self._links[peer]
                await link.close()

        self._links[peer] = link
        return link

    async def close(self):
        if self._renewal:
            self._renewal.cancel()
        for link in self._links.values():
            await link.close()
        if self._seat:
            await self._seat.close()
        self._client.close()


async def run(url, room, photos, fps, timings=False, first=1, shared=None, send=True, wants=(), pages_only=False):
    loop = asyncio.get_running_loop()
    trailers = read_trailers(shared) if shared else {}
    with tempfile.TemporaryDirectory() as folder:
        members = [RelayMember(loop, url, room, f"R{first + index}", read_frames(make_video(folder, photo, fps)) if send else None,
                               fps, timings, trailers.get(photo, ()), wants, pages_only)
                   for index, photo in enumerate(photos)]
        for member in members:
            await asyncio.to_thread(member.join)
        tasks = [asyncio.ensure_future(member.serve()) for member in members]
        print("ready", flush=True)
        by_name = {member.name: member for member in members}
        while line := await asyncio.to_thread(sys.stdin.readline):  # until the caller closes our stdin
            command, _, name = line.strip().partition(" ")
            if command == "leave" and name in by_name:
                by_name[name].tell({"command": "leave"})
        for task in tasks:
            task.cancel()
        for member in members:
            await member.close()


class RelayControl:
    """What `relay_members` yields: commands to the members, and what they report."""

    def __init__(self, processes):
        self._processes = processes
        self._reports = queue.Queue()
        self.reports = []
        for process in processes:
            threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with contextlib.suppress(json.JSONDecodeError):
                self._reports.put(json.loads(line))

    def leave(self, name):
        """Member `name` leaves the room over Socket.IO; its Janus session goes on."""
        for process in self._processes:
            process.stdin.write(f"leave {name}\n")
            process.stdin.flush()

    def seen(self):
        """Every report so far (for a failure's message)."""
        while True:
            try:
                self.reports.append(self._reports.get_nowait())
            except queue.Empty:
                return list(self.reports)

    def wait_for(self, event, member=None, timeout=30, **fields):
        """The first report of `event` (by `member`, with `fields`) seen so far or within `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            for report in self.reports:
                if report["event"] == event and member in (None, report["member"]) and fields.items() <= report.items():
                    return report
            try:
                self.reports.append(self._reports.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise TimeoutError(f"no {event} from {member or 'any member'} within {timeout} s: {self.reports}") from None


@contextlib.contextmanager
def relay_members(url, room, photos, fps=15, idle=True, timings=None, separate=False, shared=None, send=True, wants=(), first=1,
                  pages_only=False):
    """Run the members of `room` (one per photo) in a separate process while the block runs.
    `idle`: at SCHED_IDLE, which gets only CPU time nothing else wants; `timings`: a file that
    receives `--timings` lines (and anything else the members print to stderr); `separate`:
    one process per member, so they answer offers side by side as separate machines do,
    not one after another on one event loop; `shared`: a `--share` file (the trailers their
    frames carry); `send=False`: members that only receive; `wants`: see `--want`; `first`:
    the number in the first member's name; `pages_only`: see `--pages-only`. Yields a RelayControl."""
    priority = ["chrt", "--idle", "0"] if idle else []
    groups = [[photo] for photo in photos] if separate else [photos]
    processes = []
    try:
        for group in groups:
            command = [*priority, sys.executable, __file__, url, room, "--photos", *group, "--fps", str(fps), "--first", str(first)]
            command += ["--timings"] if timings else []
            command += ["--share", str(shared)] if shared else []
            command += [] if send else ["--receive-only"]
            command += ["--want", *wants] if wants else []
            command += ["--pages-only"] if pages_only else []
            processes.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=timings, text=True))
            first += len(group)
        for process in processes:
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the relay members did not start (exit code {process.wait(10)})")
        yield RelayControl(processes)
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
    parser.add_argument("--pages-only", action="store_true", help="link to and subscribe to the pages only, not to other stand-ins")
    options = parser.parse_args()
    asyncio.run(run(options.url, options.room, options.photos, options.fps, options.timings, options.first,
                    options.share, not options.receive_only, options.want, options.pages_only))


if __name__ == "__main__":
    main()
