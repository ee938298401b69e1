"""How long a person waits from pressing Join until every remote video plays, and where the time goes.

    .venv/bin/python bench/join_time.py [--sizes 2 4 6] [--runs 5] [--analysis on|off]
        [--stand-ins separate|together] [--timeline] [--log FILE]

One measured Chromium (fake camera, 640x480 from a demo photo) joins a room
whose other members are already there: bench/relay.py's stand-ins, which answer
its offers with aiortc and send a ready-made VP8 video, as other people's
machines would. Each runs in a process of its own at normal priority, so they
answer side by side (in one process they answered one after another) and at
once (at SCHED_IDLE they would answer only when the joining browser left them
a moment, which no other person's machine does); they cost little.

The page is opened without `?name=`, so the pre-join form shows; once its
camera preview plays, the name is typed and the form's Join button clicked
(a real mouse click through Playwright). The time runs from the click's
`pointerdown` to the moment every remote tile's video has shown its first
decoded frame (its first `requestVideoFrameCallback`), all on the page's
clock. An init script records the phases in between: the Socket.IO frames of
the join and of the signals, every RTCPeerConnection's descriptions, ICE and
connection states and tracks. `--timeline` prints each phase's median (the
time the last peer reached it). CPU is the browser's whole process tree over
5 s once every video plays.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.relay import relay_members  # noqa: E402
from harness.browsers import CHROMIUM, CLOSE_UPS, chromium_flags, make_photo_camera  # noqa: E402
from harness.servers import ServerProcess  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STAND_IN_PHOTOS = sorted(CLOSE_UPS)

# Runs in the page before its own scripts: records what happens on the way from the click to the pictures.
RECORDER = """(() => {
  const now = () => performance.now();
  const log = (window.__join = { marks: {}, out: [], in: [], pcs: [] });
  const mark = (name) => { log.marks[name] ??= now(); };
  addEventListener('pointerdown', (event) => {
    if (event.target instanceof Element && event.target.closest('#prejoin-form button[type=submit]')) mark('click');
  }, true);
  addEventListener('submit', () => mark('submit'), true);

  // Socket.IO over a WebSocket: "42<ack>[event, payload]" out, "43<ack>[reply]" and "42[event, payload]" in.
  const packet = (text) => {
    const match = /^4([23])(\\d*)(\\[.*)$/s.exec(text);
    if (!match) return null;
    const body = JSON.parse(match[3]);
    return { ack: match[1] === '3', id: match[2], event: match[1] === '2' ? body[0] : null, payload: match[1] === '2' ? body[1] : body[0] };
  };
  const joins = new Set();
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      mark('socket-opening');
      this.addEventListener('open', () => mark('socket-open'));
      this.addEventListener('message', ({ data }) => {
        if (data === '40' || (typeof data === 'string' && data.startsWith('40{'))) mark('socketio-connected');
        const message = typeof data === 'string' ? packet(data) : null;
        if (!message) return;
        if (message.ack && joins.has(message.id)) mark('join-reply');
        if (message.event === 'signal') log.in.push({ at: now(), from: message.payload.from, kind: message.payload.kind });
      });
    }
    send(data) {
      const message = typeof data === 'string' ? packet(data) : null;
      if (message?.event === 'join') { joins.add(message.id); mark('join-sent'); }
      if (message?.event === 'signal') log.out.push({ at: now(), to: message.payload.to, kind: message.payload.kind });
      return super.send(data);
    }
  };

  const NativeConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativeConnection {
    constructor(...args) {
      super(...args);
      const times = { created: now() };
      log.pcs.push(times);
      this.__times = times;
      const once = (name) => { times[name] ??= now(); };
      this.addEventListener('icecandidate', ({ candidate }) => once(candidate ? 'first-candidate' : 'gathered'));
      this.addEventListener('iceconnectionstatechange', () => once(`ice-${this.iceConnectionState}`));
      this.addEventListener('connectionstatechange', () => once(`connection-${this.connectionState}`));
      this.addEventListener('track', ({ track }) => once(`track-${track.kind}`));
    }
    async setLocalDescription(...args) {
      this.__times[`local-start`] ??= now();
      const result = await super.setLocalDescription(...args);
      this.__times[`local-${this.localDescription?.type}`] ??= now();
      return result;
    }
    async setRemoteDescription(...args) {
      const result = await super.setRemoteDescription(...args);
      this.__times[`remote-${this.remoteDescription?.type}`] ??= now();
      return result;
    }
  };

  // Every video given a stream: when it first shows a decoded frame.
  const source = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    ...source,
    set(stream) {
      source.set.call(this, stream);
      if (!stream || !(this instanceof HTMLVideoElement) || this.__times) return;
      const times = (this.__times = { assigned: now() });
      this.addEventListener('playing', () => { times.playing ??= now(); });
      this.requestVideoFrameCallback((at) => { times.frame = at; });
    },
  });
})()"""

# Resolves with the page clock at which every one of `count` remote tiles' videos had shown a frame.
ALL_PLAYING = """count => new Promise((resolve, reject) => {
    const giveUp = performance.now() + 60000;
    const check = () => {
        const videos = [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')];
        const shown = videos.filter(video => video.__times?.frame !== undefined || video.getVideoPlaybackQuality().totalVideoFrames >= 1);
        if (videos.length === count && shown.length === count) {
            return resolve(Math.max(...videos.map(video => video.__times?.frame ?? performance.now())));
        }
        if (performance.now() > giveUp) return reject(new Error(`${shown.length} of ${count} remote videos played within 60 s`));
        setTimeout(check, 20);
    };
    check();
})"""

# The recorder's log, with the times of the remote tiles' videos.
REMOTE_LOG = """() => ({
    ...window.__join,
    videos: [...document.querySelectorAll('.tile:not(.self) video:not(.backdrop)')].map(video => video.__times ?? {}),
})"""

# Phases of the timeline: (label, how to read it off the page's log for one run), each the last peer's time.
PHASES = [
    ("form submitted", lambda log: log["marks"].get("submit")),
    ("join sent", lambda log: log["marks"].get("join-sent")),
    ("join reply", lambda log: log["marks"].get("join-reply")),
    ("peer connections created", lambda log: last(log["pcs"], "created")),
    ("offers sent", lambda log: last_signal(log["out"], "offer")),
    ("answers received", lambda log: last_signal(log["in"], "answer")),
    ("answers applied", lambda log: last(log["pcs"], "remote-answer")),
    ("ICE connected", lambda log: last(log["pcs"], "ice-connected")),
    ("DTLS connected (connectionState)", lambda log: last(log["pcs"], "connection-connected")),
    ("video elements given streams", lambda log: last_video(log["videos"], "assigned")),
    ("first frame shown, every video", lambda log: last_video(log["videos"], "frame")),
]


def last(pcs, key):
    values = [times.get(key) for times in pcs]
    return None if not values or None in values else max(values)


def last_signal(signals, kind):
    firsts = {}
    for signal in signals:
        peer = signal.get("to") or signal.get("from")
        if signal["kind"] == kind and peer not in firsts:
            firsts[peer] = signal["at"]
    return max(firsts.values()) if firsts else None


def last_video(videos, key):
    values = [times.get(key) for times in videos]
    return None if not values or None in values else max(values)


def process_tree_ticks(root_pid):
    """utime + stime of a process and all its descendants, in clock ticks."""
    children, ticks = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(entry))
        ticks[int(entry)] = int(fields[11]) + int(fields[12])
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        total += ticks.get(pid, 0)
        pending.extend(children.get(pid, []))
    return total


def browser_pid(marker):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if marker.encode() in command and b"--type" not in b" ".join(command):
                return int(entry)
    raise RuntimeError(f"no Chromium process with {marker}")


def one_join(driver, server, camera, size, run, options, stand_in_log):
    """One person joins a room of `size - 1` stand-ins: (seconds, CPU %, timeline, stand-ins' answer times)."""
    room = f"join-{size}-{run}"
    stand_ins = options.stand_ins
    photos = [STAND_IN_PHOTOS[index % len(STAND_IN_PHOTOS)] for index in range(size - 1)]
    stand_in_log.seek(0)
    stand_in_log.truncate()
    with relay_members(server.url, room, photos, idle=False, timings=stand_in_log, separate=stand_ins == "separate"):
        marker = f"--ensemble-bench-join={size}-{run}"
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=chromium_flags(camera, extra=[marker]))
        try:
            pid = browser_pid(marker)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.add_init_script(RECORDER)
            page.goto(f"{server.url}/r/{room}" + ("?analysis=off" if options.analysis == "off" else ""))
            page.wait_for_function("() => document.querySelector('#prejoin-video')?.getVideoPlaybackQuality().totalVideoFrames > 0")
            page.get_by_label("Your name").fill("Measured")
            page.wait_for_timeout(1000)  # the person looks at the form a moment; what the page started settles
            page.click("#prejoin-form button[type=submit]")
            end = page.evaluate_handle(ALL_PLAYING, size - 1).json_value()
            log = page.evaluate(REMOTE_LOG)
            click = log["marks"]["click"]
            timeline = {label: (None if (at := read(log)) is None else at - click) for label, read in PHASES}
            before = process_tree_ticks(pid)
            time.sleep(5)
            cpu = 100 * (process_tree_ticks(pid) - before) / CLOCK_TICKS / 5
        finally:
            browser.close()
    stand_in_log.seek(0)
    answers = [json.loads(line) for line in map(str.strip, stand_in_log) if line.startswith("{")]
    answer_ms = [1000 * (entry["sent"] - entry["offer"]) for entry in answers]
    if options.log:
        options.log.write(json.dumps({"people": size, "run": run, "click": click, "end": end, "page": log, "stand_ins": answers}) + "\n")
    return (end - click) / 1000, cpu, timeline, answer_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 6], help="people in the room, the measured one included")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--analysis", choices=["on", "off"], default="on", help="the page's analysis (on: as a person gets it)")
    parser.add_argument("--stand-ins", choices=["separate", "together"], default="separate",
                        help="one process per stand-in (they answer side by side, as other machines do) or all in one")
    parser.add_argument("--timeline", action="store_true", help="print each phase's median after the table")
    parser.add_argument("--log", type=argparse.FileType("w"), help="write every run's page log and stand-in times here (JSON lines)")
    options = parser.parse_args()
    timelines = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver, tempfile.TemporaryFile("w+") as stand_in_log:
        camera = make_photo_camera(folder, "sample3-middle")
        with ServerProcess(folder, mesh_max=max(options.sizes)) as server:
            print("| people | Join → every remote video playing, median (runs) | stand-ins' offer → answer sent, median | browser CPU, median |")
            print("| --- | --- | --- | --- |", flush=True)
            for size in options.sizes:
                try:
                    results = [one_join(driver, server, camera, size, run, options, stand_in_log) for run in range(options.runs)]
                except Exception as error:  # an overloaded machine is a result too: report it
                    print(f"| {size} | did not finish: {str(error).splitlines()[0][:90]} | | |", flush=True)
                    continue
                times = [seconds for seconds, *_ in results]
                cpu = statistics.median(percent for _, percent, *_ in results)
                answers = [ms for *_, answer_ms in results for ms in answer_ms]
                answer = f"{statistics.median(answers):.0f} ms" if answers else "–"
                runs = ", ".join(f"{value:.2f}" for value in times)
                print(f"| {size} | {statistics.median(times):.2f} s ({runs}) | {answer} | {cpu:.0f} % of one core |", flush=True)
                timelines[size] = [timeline for _, _, timeline, _ in results]
    if options.timeline:
        print_timelines(timelines, options.sizes)


def print_timelines(timelines, sizes):
    sizes = [size for size in sizes if size in timelines]
    print("\n| after the click (the last peer, median of runs) | " + " | ".join(f"{size} people" for size in sizes) + " |")
    print("| --- |" + " --- |" * len(sizes))
    for label, _ in PHASES:
        cells = []
        for size in sizes:
            values = [timeline[label] for timeline in timelines[size] if timeline[label] is not None]
            cells.append(f"{statistics.median(values):.0f} ms" if values else "–")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
