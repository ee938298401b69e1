/**
 * The room page. This is the one place that creates objects and connects
 * their events; everything else talks through events and method calls.
 */
import { Analysis } from "./effects/analysis.js";
import { FrameMonitor } from "./effects/frame-monitor.js";
import { RoomEffects } from "./effects/room-effects.js";
import { LocalMedia } from "./media.js";
import { Mesh } from "./mesh.js";
import { inviteLink, rememberName, rememberedName, rememberedPassword, rememberPassword } from "./rooms.js";
import { SceneRoom } from "./scene/scene-room.js";
import { SceneSchema } from "./scene/schema.js";
import { RoomSession } from "./session.js";
import { SignalingClient } from "./signaling.js";
import { ChatPanel } from "./ui/chat.js";
import { Controls } from "./ui/controls.js";
import { Notice } from "./ui/notice.js";
import { PreJoin } from "./ui/prejoin.js";
import { StatsOverlay } from "./ui/stats.js";
import { TileGrid } from "./ui/tiles.js";

const QUALITY_POLL_MS = 2000;
const UNAVAILABLE_RETRY_MS = 2000;
const STATS_REFRESH_MS = 500;

const JOIN_FAILURES = {
  room_full: "This room is full. A video mesh stays smooth only for a few people; try again when someone leaves.",
  wrong_password: "This room has a password. Enter it to join.",
  unreachable: "The server cannot be reached. Retrying…",
  unavailable: "The server is having trouble. Retrying…",
};

function main() {
  const page = /** @type {HTMLElement} */ (document.getElementById("app"));
  const room = page.dataset.room ?? "";
  const params = new URLSearchParams(location.search);
  const element = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const notice = new Notice(element("notice"));

  if (!LocalMedia.supported) {
    notice.show(LocalMedia.messageFor("unsupported"), { code: "unsupported" });
    return;
  }

  const media = new LocalMedia();
  const signaling = new SignalingClient();
  const mesh = new Mesh(media.stream);
  const session = new RoomSession({ room, signaling, mesh });
  const tiles = new TileGrid(element("tiles"));
  const chat = new ChatPanel(/** @type {HTMLOListElement} */ (element("chat-log")), /** @type {HTMLFormElement} */ (element("chat-form")));
  const controls = new Controls(element("controls"));
  const prejoin = new PreJoin(element("prejoin"));
  const monitor = new FrameMonitor();
  const analysis = new Analysis({ monitor });
  const roomEffects = new RoomEffects(analysis, {
    segmentation: params.get("segmentation") === "bodypix" ? "bodypix" : "selfie",
    faces: params.get("faces") ?? "224",
    workers: params.get("workers") !== "off",
  });
  const stats = new StatsOverlay(element("stats"));
  const analyse = params.get("analysis") !== "off";
  let selfTile = null;
  const scene = new SceneRoom({
    section: element("scene"),
    send: (edit, version) => signaling.request("scene", { scene: edit, version }),
    cpuCanvas: params.get("canvas") === "cpu",
    analysis,
    analyse: () => {
      if (analyse) roomEffects.start();
    },
  });
  let sharingScene = false;

  window.ensemble = Object.freeze({
    state: () => session.state(),
    analysis: (/** @type {string} */ peerId) => analysis.describe(peerId),
    performance: () => ({ fps: monitor.fps, longTasks: [...monitor.longTasks], delays: analysis.delays() }),
    engines: () => structuredClone(analysis.info),
    scene: () => scene.describe(),
    snapshot: () => scene.snapshot(),
  });
  monitor.start();

  const show = (/** @type {"prejoin" | "call" | "left" | null} */ section) => {
    element("call").hidden = section !== "call";
    element("left").hidden = section !== "left";
    if (section !== "prejoin") prejoin.hide();
  };
  const updateSceneSources = () => {
    const remote = mesh.peers().map((peer) => ({ id: peer.id, name: peer.name, video: tiles.get(peer.id)?.video })).filter((source) => source.video);
    scene.setSources(selfTile ? [{ id: "self", name: session.self.name, video: selfTile.video }, ...remote] : remote);
  };
  const countPeople = () => {
    const count = mesh.peers().length + (session.joined ? 1 : 0);
    element("people-count").textContent = session.joined ? `${count} in the room` : "";
  };

  // --- the room's news flows into the mesh -----------------------------------
  signaling.on("peer-joined", (peer) => {
    mesh.addPeer(peer);
    chat.note(`${peer.name} joined`);
  });
  signaling.on("peer-left", ({ id }) => {
    const peer = mesh.peers().find((candidate) => candidate.id === id);
    mesh.removePeer(id);
    if (peer) chat.note(`${peer.name} left`);
  });
  signaling.on("signal", ({ from, kind, data }) => mesh.handleSignal(from, kind, data));
  signaling.on("media", ({ id, audio, video }) => mesh.updateMedia(id, { audio, video }));
  signaling.on("chat", (message) => chat.add(message, session.self.id));
  signaling.on("scene", (state) => scene.receive(state));
  chat.on("send", (text) => {
    signaling.request("chat", { text }).catch((error) => chat.note(`Not sent: ${error.message}`));
  });
  signaling.on("disconnected", () => {
    if (!session.joined) return;
    element("link-state").hidden = false;
    element("link-state").textContent = "Reconnecting…";
    chat.setEnabled(false);
  });
  signaling.on("reconnected", () => session.rejoin().catch(retryJoin));
  // The server lost its room store and put us back: give the room back what it lost.
  signaling.on("restored", () => scene.restored());

  mesh.on("signal", (to, kind, data) => {
    signaling.request("signal", { to, kind, data }).catch(() => {
      // A peer that just left is `unknown_peer`; its `peer-left` cleans up the link.
    });
  });
  mesh.on("peer-added", (peer) => {
    tiles.add({ id: peer.id, name: peer.name }).setMedia(peer.media);
    const stream = mesh.remoteStream(peer.id);
    if (stream?.getTracks().length) tiles.get(peer.id)?.setStream(stream);
    countPeople();
    updateSceneSources();
  });
  mesh.on("peer-updated", (peer) => {
    tiles.get(peer.id)?.setName(peer.name);
    tiles.get(peer.id)?.setMedia(peer.media);
    updateSceneSources();
  });
  mesh.on("peer-removed", (id) => {
    roomEffects.detach(id);
    tiles.remove(id);
    countPeople();
    updateSceneSources();
  });
  mesh.on("stream", (id, stream) => {
    const tile = tiles.get(id);
    tile?.setStream(stream);
    if (tile && analyse && stream.getVideoTracks().length) roomEffects.attach(id, tile);
  });
  let relayNoticeFor = ""; // the peer the last "relay unusable" notice is about
  mesh.on("connection", (id, state) => {
    tiles.get(id)?.setConnectionState(state);
    if (state === "connected" && id === relayNoticeFor) notice.hide("relay-unusable");
  });
  mesh.on("error", (id, error) => console.warn(`connection to ${id} failed; restarting ICE`, error));
  mesh.on("relay-unusable", (id, { url, problem }) => {
    relayNoticeFor = id;
    const name = mesh.peers().find((peer) => peer.id === id)?.name ?? "someone";
    notice.show(
      `Cannot connect to ${name}: the relay server ${url.split("?")[0]} ${problem}. ` +
        "Whoever runs this site should check that the relay runs and the site's TURN settings (TURN_URLS, TURN_SECRET).",
      { code: "relay-unusable" },
    );
  });

  // --- analysis -----------------------------------------------------------------
  roomEffects.on("problem", (message) => notice.show(message, { kind: "info", code: "analysis" }));
  analysis.on("problem", (model, message) => notice.show(message, { kind: "info", code: `analysis-${model}` }));
  controls.setAnalysis(analyse);
  analysis.setEnabled(analyse);
  controls.on("toggle-analysis", () => {
    analysis.setEnabled(!analysis.enabled);
    controls.setAnalysis(analysis.enabled);
  });
  controls.on("toggle-stats", () => {
    stats.setVisible(!stats.visible);
    controls.setStats(stats.visible);
  });
  setInterval(() => {
    const names = new Map(mesh.peers().map((peer) => [peer.id, peer.name]));
    stats.render({
      fps: monitor.fps,
      longTasks: monitor.longTasks,
      delays: analysis.delays(),
      engines: analysis.info,
      streams: analysis.streamIds().map((id) => ({ name: names.get(id) ?? id, analysis: analysis.describe(id) })),
    });
  }, STATS_REFRESH_MS);

  // --- the composed scene ---------------------------------------------------------
  loadScenes()
    .then((catalogue) => scene.useCatalogue(catalogue))
    .catch((error) => notice.show(`Example scenes are not available: ${error.message}`, { kind: "info", code: "scenes" }));
  controls.on("toggle-scene", () => {
    scene.setShown(!scene.shown);
    controls.setScene(scene.shown);
  });
  scene.on("problem", (message) => notice.show(message, { kind: "info", code: "scene" }));
  scene.on("share", (track) => {
    // The scene goes out instead of the camera; your own tile and cut-out keep the camera.
    sharingScene = track !== null;
    mesh.setTrack("video", track ?? media.stream.getVideoTracks()[0] ?? null);
  });

  // --- local media ------------------------------------------------------------
  media.on("track", (kind, track) => {
    if (!(kind === "video" && sharingScene)) mesh.setTrack(kind, track);
    selfTile?.setStream(media.stream);
  });
  media.on("state", (state) => {
    controls.setState(state);
    selfTile?.setMedia(state);
    session.sendMedia(state).catch(() => {
      // Sent again with the next change, and carried in the next (re)join.
    });
  });

  // --- joining and leaving -----------------------------------------------------
  session.on("joined", (reply) => {
    notice.hide();
    show("call");
    element("link-state").hidden = true;
    chat.setEnabled(true);
    selfTile = tiles.add({ id: "self", name: reply.name, self: true });
    selfTile.setStream(media.stream);
    selfTile.setMedia(media.state);
    scene.joined(reply.scene);
    updateSceneSources();
    for (const message of reply.chat) chat.add(message, reply.id);
    rememberName(reply.name);
    history.replaceState(null, "", `/r/${encodeURIComponent(room)}`);
    countPeople();
    refreshDevices();
  });
  session.on("failed", (error) => {
    const message = JOIN_FAILURES[error.code] ?? error.message;
    if (error.code === "wrong_password" || error.code === "bad_request") {
      rememberPassword(room, "");
      showPreJoin(error.code === "wrong_password");
      notice.show(message, { code: error.code });
    } else if (error.code === "unreachable" || error.code === "unavailable") {
      notice.show(message, { code: error.code, kind: "info" });
    } else {
      notice.show(message, { code: error.code, actions: [{ label: "Try again", run: () => join(lastRequest) }] });
    }
  });
  session.on("left", () => {
    tiles.clearRemote();
    tiles.remove("self");
    selfTile = null;
    scene.reset();
    updateSceneSources();
    media.stop();
    show("left");
    countPeople();
  });

  let lastRequest = { name: "", password: /** @type {string | null} */ (null), media: { audio: true, video: true } };
  const join = (/** @type {typeof lastRequest} */ request) => {
    lastRequest = request;
    return session.join(request).catch(retryJoin);
  };
  /** `failed` showed the refusal; a join that can work later is tried again by itself. */
  const retryJoin = (/** @type {{code: string}} */ error) => {
    if (error.code === "unreachable") {
      const stop = signaling.on(signaling.everConnected ? "reconnected" : "connected", () => {
        stop();
        join(lastRequest);
      });
    } else if (error.code === "unavailable") {
      setTimeout(() => session.rejoin().catch(retryJoin), UNAVAILABLE_RETRY_MS);
    }
  };

  const startMedia = async (/** @type {{audio: boolean, video: boolean}} */ wanted) => {
    try {
      await media.start(wanted);
      return true;
    } catch (error) {
      notice.show(error.message, { code: `media-${error.code}` });
      return false;
    }
  };

  const refreshDevices = async () => {
    const devices = await media.devices();
    controls.setDevices(devices, (kind) => media.deviceId(kind));
    return devices;
  };

  const showPreJoin = async (askPassword) => {
    show("prejoin");
    prejoin.show({
      name: lastRequest.name || params.get("name")?.trim() || rememberedName(),
      stream: media.stream,
      devices: await refreshDevices(),
      selected: (kind) => media.deviceId(kind),
      askPassword,
    });
  };

  prejoin.on("submit", async ({ name, muted, cameraOff, password }) => {
    media.setAudioEnabled(!muted);
    await media.setVideoEnabled(!cameraOff).catch((error) => notice.show(error.message, { code: `media-${error.code}` }));
    if (password) rememberPassword(room, password);
    join({ name, password: password ?? rememberedPassword(room), media: { audio: !muted, video: !cameraOff } });
  });
  prejoin.on("device", (kind, id) => switchDevice(kind, id));
  controls.on("device", (kind, id) => switchDevice(kind, id));
  const switchDevice = (kind, id) =>
    media.useDevice(kind, id).catch((error) => notice.show(error.message, { code: `media-${error.code}` }));

  controls.on("toggle-audio", () => media.setAudioEnabled(!media.state.audio));
  controls.on("toggle-video", () =>
    media.setVideoEnabled(!media.state.video).catch((error) => notice.show(error.message, { code: `media-${error.code}` })),
  );
  controls.on("share-screen", () => {
    if (media.state.screen) return media.stopScreen();
    media.shareScreen().catch((error) => notice.show(error.message, { kind: "info", code: "screen" }));
  });
  controls.on("copy-link", () => {
    navigator.clipboard
      .writeText(inviteLink(room))
      .then(() => controls.flash("copy-link", "Link copied"))
      .catch(() => notice.show(`Copy this link: ${inviteLink(room)}`, { kind: "info", code: "copy" }));
  });
  controls.on("leave", () => session.leave());
  element("rejoin").addEventListener("click", async () => {
    show(null);
    await startMedia(lastRequest.media);
    join(lastRequest);
  });

  setInterval(() => {
    for (const id of tiles.remoteIds()) {
      mesh.quality(id).then((report) => report && tiles.get(id)?.setQuality(report));
    }
  }, QUALITY_POLL_MS);
  window.addEventListener("pagehide", () => signaling.close());

  // --- start -------------------------------------------------------------------
  (async () => {
    const name = params.get("name")?.trim();
    const startAudio = params.get("muted") !== "1";
    const startVideo = params.get("camera") !== "off";
    const mediaReady = await startMedia({ audio: startAudio, video: startVideo });
    if (name && mediaReady) {
      join({ name, password: rememberedPassword(room), media: { audio: startAudio, video: startVideo } });
    } else {
      await showPreJoin(false);
    }
  })();
}

/** The scene schema and the example scenes, from the server. */
async function loadScenes() {
  const [schema, response] = await Promise.all([SceneSchema.load(), fetch("/api/scenes")]);
  if (!response.ok) throw new Error(`the example scenes could not be loaded (${response.status})`);
  return { schema, examples: (await response.json()).scenes };
}

main();
