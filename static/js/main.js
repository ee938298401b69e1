/**
 * The room page. This is the one place that creates objects (`createParts`) and
 * connects their events (the `wire…` functions). Each piece of state has one
 * owner that changes it through its own methods and says so by an event; every
 * failure goes to `failures`, which decides what the person sees.
 */
import { Analysis } from "./effects/analysis.js";
import { FrameMonitor } from "./effects/frame-monitor.js";
import { asFailure, Failure } from "./failure.js";
import { LocalMedia } from "./media.js";
import { Mesh } from "./mesh.js";
import { inviteLink, rememberName, rememberedName, rememberedPassword, rememberPassword } from "./rooms.js";
import { SceneCompositor } from "./scene/compositor.js";
import { SceneEditor } from "./scene/editor.js";
import { download, SceneRecorder } from "./scene/recorder.js";
import { SceneRoom } from "./scene/scene-room.js";
import { SceneSchema } from "./scene/schema.js";
import { SceneSync } from "./scene/sync.js";
import { OwnShare } from "./sharing/own-share.js";
import { SharingTransport } from "./sharing/transport.js";
import { RoomSession } from "./session.js";
import { SignalingClient } from "./signaling.js";
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

const QUALITY_POLL_MS = 2000;
const STATS_REFRESH_MS = 500;
/** From this width the chat opens beside the call at first; narrower, it waits to be asked for. */
const CHAT_BESIDE = "(min-width: 1024px)";
/** How often the microphone levels are read: a receiver keeps only its last packet's level, and a
 * short sound lasts a few packets (20 ms each), so slower sampling misses some. */
const SPEAKING_SAMPLE_MS = 50;

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
  const analysis = new Analysis({ monitor });
  const analyse = params.get("analysis") !== "off";
  const roomEffects = new RoomEffects(analysis, {
    segmentation: params.get("segmentation") === "bodypix" ? "bodypix" : "selfie",
    faces: params.get("faces") ?? "224",
    workers: params.get("workers") !== "off",
  });
  const sceneSection = part(page, "scene");
  const scenePart = (/** @type {string} */ name) => /** @type {any} */ (sceneSection.querySelector(`[data-scene="${name}"]`));
  const compositor = new SceneCompositor(scenePart("canvas"), (id) => analysis.latest(id), { cpuCanvas: params.get("canvas") === "cpu" });
  const scene = new SceneRoom({
    compositor,
    editor: new SceneEditor({ canvas: scenePart("canvas"), overlay: scenePart("overlay"), text: scenePart("text"), error: scenePart("error"), compositor }),
    sync: new SceneSync((edit, version) => signaling.request("scene", { scene: edit, version })),
    recorder: new SceneRecorder(scenePart("canvas")),
    analysis,
    analyse: () => {
      if (analyse) roomEffects.start();
    },
  });
  const ownShare = new OwnShare({ analysis, transport, enabled: analyse, analyse: () => roomEffects.start() });
  const ownLevel = new OwnLevel();
  const tiles = new TileGrid(part(page, "tiles"));
  /** @type {SpeakingDetector} */
  const speaking = new SpeakingDetector(() => {
    const levels = new Map(tiles.remoteIds().map((id) => [id, mesh.audioLevel(id)]));
    if (tiles.get("self")) levels.set("self", ownLevel.level(media.stream));
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

/** What the server says about the room goes to the mesh, the chat and the scene. @param {Parts} parts */
function wireRoomNews({ signaling, session, mesh, chat, scene, view, announcer }) {
  const news = (/** @type {string} */ text) => {
    chat.note(text);
    announcer.say(text);
  };
  signaling.on("peer-joined", (peer) => {
    mesh.addPeer(peer);
    news(`${peer.name} joined`);
  });
  signaling.on("peer-left", ({ id }) => {
    const peer = mesh.peers().find((candidate) => candidate.id === id);
    mesh.removePeer(id);
    if (peer) news(`${peer.name} left`);
  });
  signaling.on("signal", ({ from, kind, data }) => mesh.handleSignal(from, kind, data));
  signaling.on("media", ({ id, ...media }) => mesh.updateMedia(id, media));
  signaling.on("scene", (state) => scene.receive(state));
  // The server lost its room store and put us back: give the room back what it lost.
  signaling.on("restored", () => scene.restored());
  signaling.on("disconnected", () => {
    if (!session.joined) return;
    view.setLinkState("Reconnecting…");
    chat.setEnabled(false);
  });
}

/** The mesh's peers become tiles; its signals go out through the server. @param {Parts} parts */
function wireMesh(parts) {
  const { mesh, signaling, tiles, roomEffects, analyse, failures } = parts;
  mesh.on("signal", (to, kind, data) => {
    signaling.request("signal", { to, kind, data }).catch(() => {
      // A peer that just left is `unknown_peer`; its `peer-left` cleans up the link. A lost
      // offer or answer is sent again by the link, a lost candidate healed by its ICE restart.
    });
  });
  mesh.on("peer-added", (peer) => {
    tiles.add({ id: peer.id, name: peer.name }).setMedia(peer.media);
    tiles.setScreenShared(peer.id, Boolean(peer.media.screen));
    const stream = mesh.remoteStream(peer.id);
    if (stream?.getTracks().length) tiles.get(peer.id)?.setStream(stream);
    peopleChanged(parts);
  });
  mesh.on("peer-updated", (peer) => {
    tiles.get(peer.id)?.setName(peer.name);
    tiles.get(peer.id)?.setMedia(peer.media);
    tiles.setScreenShared(peer.id, Boolean(peer.media.screen));
    updateSceneSources(parts);
  });
  mesh.on("peer-removed", (id) => {
    roomEffects.detach(id);
    tiles.remove(id);
    peopleChanged(parts);
  });
  mesh.on("stream", (id, stream) => {
    const tile = tiles.get(id);
    tile?.setStream(stream);
    if (tile && analyse && stream.getVideoTracks().length) roomEffects.attach(id, tile);
  });
  mesh.on("connection", (id, state) => {
    tiles.get(id)?.setConnectionState(state);
    if (state === "connected") failures.clear("relay-unusable", id);
  });
  mesh.on("error", (id, failure) => failures.report(failure, { subject: id }));
  mesh.on("relay-unusable", (id, { url, problem }) => {
    const name = mesh.peers().find((peer) => peer.id === id)?.name ?? "someone";
    const message =
      `Cannot connect to ${name}: the relay server ${url.split("?")[0]} ${problem}. ` +
      "Whoever runs this site should check that the relay runs and the site's TURN settings (TURN_URLS, TURN_SECRET).";
    failures.report(new Failure("relay-unusable", message), { subject: id });
  });
}

/** @param {Parts} parts */
function wireChat({ chat, signaling, session, failures, controls }) {
  signaling.on("chat", (message) => chat.add(message, session.self.id));
  chat.on("open", (open, hadFocus) => controls.setChat(open, !open && hadFocus));
  chat.on("unread", (count) => controls.setUnread(count));
  chat.setOpen(matchMedia(CHAT_BESIDE).matches, { focus: false });
  controls.setChat(chat.open);
  chat.on("send", (text) => signaling.request("chat", { text }).catch((failure) => failures.report(failure, { context: "chat" })));
  failures.showIn("chat", (failure) => chat.note(`Not sent: ${failure.message}`));
}

/** The camera, microphone or screen changed: the peers, your tile and the room hear of it. @param {Parts} parts */
function wireLocalMedia({ media, mesh, tiles, controls, session, scene, failures }) {
  media.on("track", (kind, track) => {
    // While the scene is shared it goes out instead of the camera; your own tile keeps the camera.
    if (!(kind === "video" && scene.sharing)) sendTrack(mesh, failures, kind, track);
    tiles.get("self")?.setStream(media.stream);
  });
  media.on("state", (state) => {
    controls.setState(state);
    tiles.get("self")?.setMedia(state);
    session.sendMedia(state).catch(() => {
      // Sent again with the next change, and carried in the next (re)join.
    });
  });
}

/** @param {Mesh} mesh @param {Failures} failures @param {"audio" | "video"} kind @param {MediaStreamTrack | null} track */
function sendTrack(mesh, failures, kind, track) {
  mesh.setTrack(kind, track).catch((error) => failures.report(asFailure(error, "negotiation")));
}

/** Pre-join, joining, being refused, leaving and coming back. @param {Parts} parts */
function wireJoining(parts) {
  const { session, view, chat, tiles, scene, media, failures, room, prejoin } = parts;
  session.on("joined", (reply) => {
    failures.clearAll();
    view.show("call");
    view.setLinkState(null);
    chat.setEnabled(true);
    const self = tiles.add({ id: "self", name: reply.name, self: true });
    self.setStream(media.stream);
    self.setMedia(media.state);
    scene.joined(reply.scene);
    scene.setMember({ id: reply.id, token: reply.token });
    for (const message of reply.chat) chat.add(message, reply.id);
    rememberName(reply.name);
    history.replaceState(null, "", `/r/${encodeURIComponent(room)}`);
    peopleChanged(parts);
    refreshDevices(parts);
  });
  session.on("error", (failure, { retrying }) => {
    if (failure.code === "wrong_password" || failure.code === "bad_request") {
      rememberPassword(room, "");
      showPreJoin(parts, failure.code === "wrong_password");
      failures.report(failure);
    } else {
      failures.report(failure, { actions: retrying ? [] : [{ label: "Try again", run: () => session.retry() }] });
    }
  });
  session.on("left", () => {
    tiles.clearRemote();
    tiles.remove("self");
    scene.setMember(null);
    scene.reset();
    media.stop();
    view.show("left");
    peopleChanged(parts);
  });
  prejoin.on("submit", async ({ name, muted, cameraOff, password }) => {
    media.setAudioEnabled(!muted);
    await media.setVideoEnabled(!cameraOff).catch((failure) => failures.report(failure));
    if (password) rememberPassword(room, password);
    session.join({ name, password: password ?? rememberedPassword(room), media: { audio: !muted, video: !cameraOff } });
  });
  prejoin.on("device", (kind, id) => switchDevice(parts, kind, id));
  view.on("rejoin", async () => {
    view.show(null);
    await startMedia(parts, session.request.media);
    session.retry();
  });
}

/** @param {Parts} parts @param {boolean} askPassword */
async function showPreJoin(parts, askPassword) {
  const { view, prejoin, session, params, media } = parts;
  view.show("prejoin");
  prejoin.show({
    name: session.request.name || params.get("name")?.trim() || rememberedName(),
    stream: media.stream,
    devices: await refreshDevices(parts),
    selected: (kind) => media.deviceId(kind),
    askPassword,
  });
}

/** The device lists of the pre-join form and the controls. @param {Parts} parts */
async function refreshDevices({ media, controls, failures }) {
  try {
    const devices = await media.devices();
    controls.setDevices(devices, (kind) => media.deviceId(kind));
    return devices;
  } catch (error) {
    failures.report(asFailure(error, "media-failed", "The cameras and microphones could not be listed"));
    return { audioinput: [], videoinput: [] };
  }
}

/** @param {Parts} parts @param {{audio: boolean, video: boolean}} wanted @returns {Promise<boolean>} whether media started */
async function startMedia({ media, failures }, wanted) {
  try {
    await media.start(wanted);
    return true;
  } catch (failure) {
    failures.report(asFailure(failure, "media-failed")); // a Failure already (media.start)
    return false;
  }
}

/** @param {Parts} parts @param {import("./ui/devices.js").DeviceKind} kind @param {string} id */
function switchDevice({ media, failures }, kind, id) {
  media.useDevice(kind, id).catch((failure) => failures.report(failure));
}

/** The control bar. @param {Parts} parts */
function wireControls(parts) {
  const { controls, media, session, room, failures, stats, scene, chat, tiles, speaking, announcer } = parts;
  controls.on("device", (kind, id) => switchDevice(parts, kind, id));
  controls.on("toggle-audio", () => media.setAudioEnabled(!media.state.audio));
  controls.on("toggle-video", () => media.setVideoEnabled(!media.state.video).catch((failure) => failures.report(failure)));
  controls.on("share-screen", () => {
    if (media.state.screen) media.stopScreen();
    else media.shareScreen().catch((failure) => failures.report(failure));
  });
  controls.on("copy-link", () => {
    navigator.clipboard
      .writeText(inviteLink(room))
      .then(() => announcer.say("Invite link copied"))
      .catch((error) => failures.report(new Failure("copy", `Copy this link: ${inviteLink(room)}`, { cause: error })));
  });
  controls.on("leave", () => session.leave());
  controls.on("toggle-stats", () => {
    stats.setVisible(!stats.visible);
    controls.setStats(stats.visible);
  });
  controls.on("toggle-scene", () => scene.setShown(!scene.shown));
  controls.on("toggle-chat", () => chat.setOpen(!chat.open));
  controls.on("pin-speaker", () => tiles.pin(tiles.pinned ? null : speaking.lastActive));
  scene.on("shown", (shown) => {
    controls.setScene(shown);
    tiles.setCompact(shown);
  });
  tiles.on("pinned", (id) => announcer.say(id ? `${tiles.get(id)?.name ?? "Someone"} pinned` : "Nobody pinned"));
}

/** The speaking rings and the active speaker, while in the room. @param {Parts} parts */
function wireSpeaking({ speaking, session, tiles, ownLevel }) {
  speaking.on("change", (who, active) => tiles.setSpeaking(who, active));
  session.on("joined", () => speaking.start(SPEAKING_SAMPLE_MS));
  session.on("left", () => {
    speaking.stop();
    ownLevel.close();
  });
}

/** Analysis on or off, its failures and the stats overlay. @param {Parts} parts */
function wireAnalysis({ analysis, roomEffects, controls, failures, stats, monitor, mesh, analyse, ownShare }) {
  roomEffects.on("error", (failure) => failures.report(failure));
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
      streams: analysis.streamIds().map((id) => ({ name: names.get(id) ?? id, analysis: analysis.describe(id) })),
      sharing: ownShare.describe(),
    });
  }, STATS_REFRESH_MS);
}

/**
 * Analysis shared with the room: each page tells each peer what it would analyse of its
 * stream, analyses its own camera for those who want it, and takes what peers share.
 * @param {Parts} parts
 */
function wireSharing({ transport, ownShare, analysis, mesh, media, scene, tiles, session }) {
  transport.on("received", (peer, { frame, packet }) => {
    if (packet.mask) analysis.receive(peer, "mask", { mask: packet.mask, fingerprint: packet.fingerprint ?? null }, frame);
    if (packet.faces) analysis.receive(peer, "faces", { faces: packet.faces }, frame);
  });
  // A damaged packet is dropped where it was read (transform.js); a sender that only sends
  // such packets is, to this page, one that does not share: its stream is analysed here.
  analysis.on("wants", (id, wants) => {
    if (id !== "self") mesh.send(id, { type: "wants", ...wants });
  });
  mesh.on("channel-open", (id) => mesh.send(id, { type: "wants", ...analysis.wants(id) }));
  mesh.on("message", (id, message) => {
    if (/** @type {{type?: unknown}} */ (message)?.type === "wants") ownShare.setWants(id, message);
  });
  mesh.on("peer-removed", (id) => {
    ownShare.forget(id);
    transport.forget(id);
  });
  const sendingCamera = () => ownShare.setSendingCamera(!media.state.screen && !scene.sharing);
  media.on("state", sendingCamera);
  scene.on("share", sendingCamera);
  session.on("joined", () => ownShare.setVideo(tiles.get("self")?.video ?? null));
  session.on("left", () => ownShare.setVideo(null));
}

/** The composed scene, its toolbar, and its picture going into the call. @param {Parts} parts */
function wireScene({ scene, scenePanel, mesh, media, failures }) {
  loadScenes()
    .then((catalogue) => {
      scene.useCatalogue(catalogue);
      scenePanel.setExamples(catalogue.examples);
    })
    .catch((error) => failures.report(asFailure(error, "scene-catalogue", "Example scenes are not available")));
  scenePanel.on("example", (id) => scene.useExample(id));
  scenePanel.on("private", (on) => scene.setPrivate(on));
  scenePanel.on("align", (on) => scene.setAlignFaces(on));
  scenePanel.on("restack", (direction) => scene.restack(direction));
  scenePanel.on("upload", (file) => scene.upload(file));
  scenePanel.on("photo", () => scene.takePhoto());
  scenePanel.on("record", () => scene.toggleRecording());
  scenePanel.on("share", () => scene.toggleShare());
  scene.on("shown", (shown) => scenePanel.setShown(shown));
  scene.on("state", (state) => scenePanel.setScene(state));
  scenePanel.setScene(scene.viewState);
  scene.on("recording", (recording) => scenePanel.setRecording(recording));
  scene.on("status", (text) => scenePanel.say(text));
  scene.on("photo", (blob) => download(blob, `ensemble-${stamp()}.png`));
  scene.on("video", (blob) => download(blob, `ensemble-${stamp()}.webm`));
  scene.on("share", (track) => {
    scenePanel.setSharing(track !== null);
    sendTrack(mesh, failures, "video", track ?? media.stream.getVideoTracks()[0] ?? null);
  });
  scene.on("error", (failure) => failures.report(failure, { context: failure.code === "upload" ? "scene-status" : "" }));
  failures.showIn("scene-status", (failure) => scenePanel.say(failure.message));
}

/** Who the scene can show: you (once joined) and everyone with a video tile. @param {Parts} parts */
function updateSceneSources({ mesh, tiles, session, scene }) {
  const remote = mesh.peers().flatMap((peer) => {
    const video = tiles.get(peer.id)?.video;
    return video ? [{ id: peer.id, name: peer.name, video }] : [];
  });
  const self = tiles.get("self");
  scene.setSources(self ? [{ id: "self", name: session.self.name, video: self.video }, ...remote] : remote);
}

/** Someone came or went. @param {Parts} parts */
function peopleChanged(parts) {
  const { mesh, session, view } = parts;
  view.setPeopleCount(session.joined ? mesh.peers().length + 1 : null);
  updateSceneSources(parts);
}

/** Each remote tile's connection dot follows its call's statistics. @param {Parts} parts */
function pollConnections({ tiles, mesh }) {
  setInterval(() => {
    for (const id of tiles.remoteIds()) {
      mesh.quality(id).then(
        (report) => report && tiles.get(id)?.setQuality(report),
        () => {
          // The call closed between listing and asking: its tile goes with it.
        },
      );
    }
  }, QUALITY_POLL_MS);
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

/** The scene schema and the example scenes, from the server. */
async function loadScenes() {
  const [schema, response] = await Promise.all([SceneSchema.load(), fetch("/api/scenes")]);
  if (!response.ok) throw new Error(`the example scenes could not be loaded (${response.status})`);
  return { schema, examples: (await response.json()).scenes };
}

function stamp() {
  return new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
}

main();
