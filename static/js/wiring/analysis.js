/**
 * Analysis's wiring, by main.js: analysis on or off, its failures, the stats
 * overlay, and analysis shared with the room (what each peer wants, your own
 * camera analysed for them, what they share). Connects events only.
 */
import { SELF } from "../call/media.js";
import { wantsIn, wantsMessage } from "../sharing/wants.js";

const STATS_REFRESH_MS = 500;

/** @typedef {import("../main.js").Parts} Parts */

/** Analysis on or off, its failures and the stats overlay. @param {Parts} parts */
export function wireAnalysis({ analysis, controls, failures, stats, monitor, mesh, analyse, ownShare }) {
  analysis.on("error", (failure) => failures.report(failure));
  controls.setAnalysis(analyse);
  analysis.setEnabled(analyse);
  controls.on("toggle-analysis", () => {
    analysis.setEnabled(!analysis.enabled);
    controls.setAnalysis(analysis.enabled);
  });
  setInterval(() => {
    if (!stats.visible) return;
    const names = new Map(mesh.peers().map((peer) => [peer.id, peer.name]));
    stats.render({
      fps: monitor.fps,
      longTasks: monitor.longTasks,
      delays: analysis.delays(),
      engines: analysis.engines(),
      streams: analysis.streamIds().map((id) => ({ name: id === SELF ? "You" : (names.get(id) ?? id), analysis: analysis.describe(id) })),
      sharing: ownShare.describe(),
    });
  }, STATS_REFRESH_MS);
}

/**
 * Analysis shared with the room: each page tells each peer what it would analyse of its
 * stream, analyses its own camera for those who want it, and takes what peers share.
 * @param {Parts} parts
 */
export function wireSharing({ transport, ownShare, analysis, mesh, media, scene, tiles }) {
  transport.on("received", (peer, { frame, packet }) => {
    if (packet.mask) analysis.receive(peer, "mask", { mask: packet.mask, fingerprint: packet.fingerprint ?? null }, frame);
    if (packet.faces) analysis.receive(peer, "faces", { faces: packet.faces }, frame);
  });
  // A damaged frame's packets are dropped where they were read (transform.js); a sender whose
  // frames keep arriving damaged is dropped: its stream is analysed here (SourcePicker).
  transport.on("damaged", (peer) => analysis.damaged(peer));
  analysis.on("wants", (id, wants) => {
    if (id !== SELF) mesh.send(id, wantsMessage(wants));
  });
  mesh.on("channel-open", (id) => mesh.send(id, wantsMessage(analysis.wants(id))));
  mesh.on("message", (id, message) => {
    const wants = wantsIn(message);
    if (wants) ownShare.setWants(id, wants);
  });
  mesh.on("peer-removed", (id) => {
    ownShare.forget(id);
    transport.forget(id);
  });
  const sendingCamera = () => ownShare.setSendingCamera(!media.state.screen && !scene.sharing);
  media.on("state", sendingCamera);
  scene.on("share", sendingCamera);
  // Your own tile's video is what is analysed for your peers, from when the tile is made to when it goes:
  // whichever handler of `joined` or `left` runs first.
  tiles.on("added", (id, tile) => id === SELF && ownShare.setVideo(tile.video));
  tiles.on("removed", (id) => id === SELF && ownShare.setVideo(null));
}
