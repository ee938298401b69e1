/**
 * The room page. This is the one place that creates objects (`createParts`) and
 * connects their events (the `wire…` functions of wiring/, one module for the
 * call, analysis and the scene). Each piece of state has one owner that changes
 * it through its own methods and says so by an event; every failure goes to
 * `failures`, which decides what the person sees.
 */
import { Analysis } from "./analysis/analysis.js";
import { FrameMonitor } from "./analysis/frame-monitor.js";
import { Failure } from "./lib/failure.js";
import { LocalMedia, SELF } from "./call/media.js";
import { Mesh } from "./call/mesh.js";
import { rememberedPassword } from "./call/rooms.js";
import { SceneCompositor } from "./scene/compositor.js";
import { SceneBroadcaster } from "./scene/broadcaster.js";
import { SceneEditor } from "./scene/editor.js";
import { SceneRecorder } from "./scene/recorder.js";
import { SceneRoom } from "./scene/scene-room.js";
import { SceneSync } from "./scene/sync.js";
import { OwnShare } from "./sharing/own-share.js";
import { SharingTransport } from "./sharing/transport.js";
import { SourcePicker } from "./sharing/source-picker.js";
import { RoomSession } from "./call/session.js";
import { SignalingClient } from "./call/signaling.js";
import { Announcer } from "./ui/announcer.js";
import { ChatPanel } from "./ui/chat.js";
import { Controls } from "./ui/controls.js";
import { Failures } from "./ui/failures.js";
import { Notice } from "./ui/notice.js";
import { PreJoin } from "./ui/prejoin.js";
import { RoomEffects } from "./ui/room-effects.js";
import { RoomView } from "./ui/room-view.js";
import { ScenePanel } from "./ui/scene-panel.js";
import { OwnLevel } from "./ui/own-level.js";
import { SpeakingDetector } from "./ui/speaking.js";
import { StatsOverlay } from "./ui/stats.js";
import { TileGrid } from "./ui/tile-grid.js";
import { wireAnalysis, wireSharing } from "./wiring/analysis.js";
import {
  pollConnections,
  showPreJoin,
  startMedia,
  wireChat,
  wireControls,
  wireJoining,
  wireLocalMedia,
  wireMesh,
  wireRoomNews,
  wireSpeaking,
} from "./wiring/call.js";
import { wireScene } from "./wiring/scene.js";

/**
 * @typedef {ReturnType<typeof createParts>} Parts
 * @typedef {Readonly<{state: RoomSession["state"], connection: Mesh["quality"], analysis: Analysis["describe"], sharing: OwnShare["describe"],
 *   performance: () => {fps: number, longTasks: number[], delays: Record<string, number>},
 *   engines: Analysis["engines"], scene: SceneRoom["describe"], drawnFrames: SceneRoom["drawnFrames"], snapshot: SceneRoom["snapshot"]}>} TestSurface
 *   `window.ensemble` (types/globals.d.ts)
 */

function main() {
  const page = /** @type {HTMLElement} */ (document.getElementById("app"));
  const failures = new Failures(new Notice(part(page, "notice")));
  if (!LocalMedia.supported) {
    failures.report(new Failure("unsupported", "This browser cannot use cameras here. Use a current Chrome or Chromium, on https:// or localhost."));
    return;
  }
  const parts = createParts(page, failures, new URLSearchParams(location.search));
  exposeTestSurface(parts);
  wireRoomNews(parts);
  wireMesh(parts);
  wireChat(parts);
  wireLocalMedia(parts);
  wireJoining(parts);
  wireControls(parts);
  wireSpeaking(parts);
  wireAnalysis(parts);
  wireSharing(parts);
  wireScene(parts);
  pollConnections(parts);
  start(parts);
}

/** @param {HTMLElement} page @param {string} id */
function part(page, id) {
  return /** @type {HTMLElement} */ (page.querySelector(`#${id}`));
}

/** Every object of the page, each created once, here. @param {HTMLElement} page @param {Failures} failures @param {URLSearchParams} params */
function createParts(page, failures, params) {
  const room = page.dataset.room ?? "";
  const media = new LocalMedia();
  const signaling = new SignalingClient();
  const transport = new SharingTransport({ enabled: params.get("share") !== "off" });
  const mesh = new Mesh(media.stream, { transforms: transport.transforms });
  const prejoin = new PreJoin(part(page, "prejoin"));
  const monitor = new FrameMonitor();
  const analysis = new Analysis({
    monitor,
    newSourceChoice: () => new SourcePicker(),
    engines: {
      segmentation: params.get("segmentation") === "bodypix" ? "bodypix" : "selfie",
      faces: params.get("faces") ?? "224",
      workers: params.get("workers") !== "off",
    },
  });
  const analyse = params.get("analysis") !== "off";
  const roomEffects = new RoomEffects(analysis);
  const sceneSection = part(page, "scene");
  const scenePart = (/** @type {string} */ name) => /** @type {any} */ (sceneSection.querySelector(`[data-scene="${name}"]`));
  const compositor = new SceneCompositor(scenePart("canvas"), (id) => analysis.latest(id), { cpuCanvas: params.get("canvas") === "cpu" });
  const scene = new SceneRoom({
    compositor,
    editor: new SceneEditor({ canvas: scenePart("canvas"), overlay: scenePart("overlay"), text: scenePart("text"), error: scenePart("error"), compositor }),
    sync: new SceneSync((edit, version) => signaling.request("scene", { scene: edit, version })),
    recorder: new SceneRecorder(scenePart("canvas")),
    broadcaster: new SceneBroadcaster(scenePart("canvas"), room, () => roomSound(media, mesh)),
    analysis,
    analyse: () => {
      if (analyse) analysis.run();
    },
  });
  const ownShare = new OwnShare({ analysis, transport, enabled: analyse, analyse: () => analysis.run() });
  const ownLevel = new OwnLevel();
  const tiles = new TileGrid(part(page, "tiles"));
  /** @type {SpeakingDetector} */
  const speaking = new SpeakingDetector(() => {
    const levels = new Map(tiles.remoteIds().map((id) => [id, mesh.audioLevel(id)]));
    if (tiles.get(SELF)) levels.set(SELF, ownLevel.level(media.stream));
    return levels;
  });
  return {
    room,
    params,
    analyse,
    failures,
    media,
    signaling,
    mesh,
    session: new RoomSession({ room, signaling, mesh }),
    view: new RoomView(page, prejoin),
    prejoin,
    tiles,
    speaking,
    ownLevel,
    announcer: new Announcer(part(page, "announcer")),
    chat: new ChatPanel(part(page, "chat")),
    controls: new Controls(part(page, "controls"), {
      settings: /** @type {HTMLDialogElement} */ (part(page, "settings")),
      shortcuts: /** @type {HTMLDialogElement} */ (part(page, "shortcuts")),
    }),
    stats: new StatsOverlay(part(page, "stats")),
    monitor,
    analysis,
    roomEffects,
    transport,
    ownShare,
    scene,
    scenePanel: new ScenePanel(sceneSection),
  };
}

/** The room's sound for a broadcast: our microphone and everyone's. @param {LocalMedia} media @param {Mesh} mesh */
function roomSound(media, mesh) {
  const remote = mesh.peers().flatMap(({ id }) => mesh.remoteStream(id)?.getAudioTracks() ?? []);
  return [...media.stream.getAudioTracks(), ...remote];
}

/** `window.ensemble`: read-only, for tests, benchmarks and the stats overlay (docs/protocol.md). @param {Parts} parts */
function exposeTestSurface({ session, analysis, monitor, scene, ownShare, mesh }) {
  window.ensemble = Object.freeze({
    state: () => session.state(),
    connection: (/** @type {string} */ peerId) => mesh.quality(peerId),
    analysis: (/** @type {string} */ peerId) => analysis.describe(peerId),
    sharing: () => ownShare.describe(),
    performance: () => ({ fps: monitor.fps, longTasks: [...monitor.longTasks], delays: analysis.delays() }),
    engines: () => analysis.engines(),
    scene: () => scene.describe(),
    drawnFrames: (/** @type {string} */ peerId) => scene.drawnFrames(peerId),
    snapshot: () => scene.snapshot(),
  });
  monitor.start();
}

/** Start the camera and join, or ask first. @param {Parts} parts */
async function start(parts) {
  const { params, session, room, signaling } = parts;
  window.addEventListener("pagehide", () => signaling.close());
  if (document.readyState === "complete") signaling.warmUp();
  else window.addEventListener("load", () => signaling.warmUp(), { once: true });
  const name = params.get("name")?.trim();
  const wanted = { audio: params.get("muted") !== "1", video: params.get("camera") !== "off" };
  const mediaReady = await startMedia(parts, wanted);
  if (name && mediaReady) session.join({ name, password: rememberedPassword(room), media: wanted });
  else await showPreJoin(parts, false);
}

main();
