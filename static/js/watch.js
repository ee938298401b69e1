/**
 * The watch page's entry: asks the server how the room's broadcast stands
 * (docs/protocol.md, "Broadcasts") every two seconds, and plays its HLS with
 * hls.js once it is live. No Socket.IO, no camera: a viewer is no member.
 */
import Hls from "/static/vendor/hls.light.min.mjs";
import { WatchView } from "./ui/watch-view.js";

const POLL_MS = 2000;
// Segments are 1 s: play 1.5 s behind the newest, and catch up (a little faster) past 5 s.
const HLS_OPTIONS = { enableWorker: false, liveSyncDuration: 1.5, liveMaxLatencyDuration: 5, maxLiveSyncPlaybackRate: 1.2, backBufferLength: 10 };

function main() {
  const page = /** @type {HTMLElement} */ (document.getElementById("watch"));
  const view = new WatchView(page);
  const status = `/api/broadcasts/${encodeURIComponent(page.dataset.room ?? "")}?key=${encodeURIComponent(page.dataset.key ?? "")}`;
  /** @type {Hls | null} */
  let player = null;
  window.ensembleWatch = Object.freeze({ state: () => view.state, latency: () => player?.latency ?? null });
  const poll = async () => {
    const reply = await ask(status);
    if (reply.state === "refused") return view.show("refused");
    if (reply.state === "live" && !player) player = play(view, reply.playlist);
    if (reply.state === "ended") return view.show("ended");
    if (reply.state !== "live" && reply.state !== "unknown") view.show(reply.state);
    setTimeout(poll, POLL_MS);
  };
  if (!Hls.isSupported() && !view.video.canPlayType("application/vnd.apple.mpegurl")) view.show("failed", "This browser cannot play live video.");
  else poll();
}

/** The broadcast's status, or `unknown` while the server cannot be reached. @param {string} url */
async function ask(url) {
  try {
    const response = await fetch(url, { cache: "no-store" });
    if (response.status === 403) return { state: "refused" };
    const reply = await response.json();
    return reply.ok ? reply : { state: "unknown" };
  } catch {
    return { state: "unknown" }; // asked again in two seconds
  }
}

/** Play the playlist: with hls.js, or natively where the browser plays HLS itself (Safari on iOS). @param {WatchView} view @param {string} playlist */
function play(view, playlist) {
  const video = view.video;
  view.show("live");
  if (!Hls.isSupported()) {
    video.src = playlist;
    start(video);
    return null;
  }
  const player = new Hls(HLS_OPTIONS);
  player.on(Hls.Events.MANIFEST_PARSED, () => start(video));
  player.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) player.recoverMediaError();
    else player.startLoad(); // a network error: a segment may come late, ask again
  });
  player.loadSource(playlist);
  player.attachMedia(video);
  return player;
}

/** Start playing; where the browser allows no sound without a tap, start muted (the controls unmute). @param {HTMLVideoElement} video */
function start(video) {
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {
      // Not even muted: the person presses the video's own play button.
    });
  });
}

main();
