/**
 * The call's wiring, by main.js: the room's news, the mesh and its tiles, chat,
 * your camera and microphone, joining and leaving, the control bar, who is
 * speaking and how each link fares. Connects events only; main.js creates
 * every object.
 */
import { asFailure, Failure } from "../lib/failure.js";
import { inviteLink, rememberName, rememberedName, rememberedPassword, rememberPassword } from "../call/rooms.js";
import { SELF } from "../call/media.js";

const QUALITY_POLL_MS = 2000;
/** From this width the chat opens beside the call at first; narrower, it waits to be asked for. */
const CHAT_BESIDE = "(min-width: 1024px)";
/** How often the microphone levels are read: a receiver keeps only its last packet's level, and a
 * short sound lasts a few packets (20 ms each), so slower sampling misses some. */
const SPEAKING_SAMPLE_MS = 50;

/** @typedef {import("../main.js").Parts} Parts */

/** What the server says about the room goes to the mesh, the chat and the scene. @param {Parts} parts */
export function wireRoomNews({ signaling, session, mesh, chat, scene, view, announcer }) {
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
export function wireMesh(parts) {
  const { mesh, signaling, tiles, roomEffects, analysis, analyse, failures } = parts;
  mesh.on("signal", (to, kind, data) => {
    signaling.request("signal", { to, kind, data }).catch(() => {
      // A peer that just left is `unknown_peer`; its `peer-left` cleans up the link. A lost
      // offer or answer is sent again by the link, a lost candidate healed by its ICE restart.
    });
  });
  const sizes = watchTileHeights(mesh);
  mesh.on("peer-added", (peer) => {
    sizes.watch(peer.id, tiles.add({ id: peer.id, name: peer.name }).video);
    tiles.get(peer.id)?.setMedia(peer.media);
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
    const video = tiles.get(id)?.video;
    if (video) sizes.forget(video);
    roomEffects.detach(id);
    tiles.remove(id);
    peopleChanged(parts);
  });
  mesh.on("stream", (id, stream) => {
    const tile = tiles.get(id);
    tile?.setStream(stream);
    // A tile's video starts the engines (once), as the scene and your own share do.
    if (tile && analyse && stream.getVideoTracks().length && roomEffects.attach(id, tile)) analysis.run();
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

/**
 * Each remote tile's height (device pixels) goes to the mesh as it changes: on Janus it picks
 * the simulcast layer that fills the tile (a pinned tile the high one, a small one the low).
 * @param {import("../call/mesh.js").Mesh} mesh
 */
function watchTileHeights(mesh) {
  /** @type {WeakMap<Element, string>} */
  const peers = new WeakMap();
  const observer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const id = peers.get(entry.target);
      if (id) mesh.setViewHeight(id, Math.round(entry.contentRect.height * devicePixelRatio));
    }
  });
  return {
    /** @param {string} id @param {HTMLVideoElement} video */
    watch(id, video) {
      peers.set(video, id);
      observer.observe(video);
    },
    /** @param {HTMLVideoElement} video */
    forget(video) {
      observer.unobserve(video);
    },
  };
}

/** @param {Parts} parts */
export function wireChat({ chat, signaling, session, failures, controls }) {
  signaling.on("chat", (message) => chat.add(message, session.self.id));
  chat.on("open", (open, hadFocus) => controls.setChat(open, !open && hadFocus));
  chat.on("unread", (count) => controls.setUnread(count));
  chat.setOpen(matchMedia(CHAT_BESIDE).matches, { focus: false });
  controls.setChat(chat.open);
  chat.on("send", (text) => signaling.request("chat", { text }).catch((failure) => failures.report(failure, { context: "chat" })));
  failures.showIn("chat", (failure) => chat.note(`Not sent: ${failure.message}`));
}

/** The camera, microphone or screen changed: the peers, your tile and the room hear of it. @param {Parts} parts */
export function wireLocalMedia({ media, mesh, tiles, controls, session, scene, failures }) {
  media.on("track", (kind, track) => {
    // While the scene is shared it goes out instead of the camera; your own tile keeps the camera.
    if (!(kind === "video" && scene.sharing)) sendTrack(mesh, failures, kind, track);
    tiles.get(SELF)?.setStream(media.stream);
  });
  media.on("state", (state) => {
    controls.setState(state);
    tiles.get(SELF)?.setMedia(state);
    session.sendMedia(state).catch(() => {
      // Sent again with the next change, and carried in the next (re)join.
    });
  });
}

/**
 * @param {import("../call/mesh.js").Mesh} mesh @param {import("../ui/failures.js").Failures} failures
 * @param {"audio" | "video"} kind @param {MediaStreamTrack | null} track
 */
export function sendTrack(mesh, failures, kind, track) {
  mesh.setTrack(kind, track).catch((error) => failures.report(asFailure(error, "negotiation")));
}

/** Pre-join, joining, being refused, leaving and coming back. @param {Parts} parts */
export function wireJoining(parts) {
  const { session, view, chat, tiles, scene, media, failures, room, prejoin } = parts;
  session.on("joined", (reply) => {
    failures.clearAll();
    view.show("call");
    view.setLinkState(null);
    chat.setEnabled(true);
    const self = tiles.add({ id: SELF, name: reply.name, self: true });
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
  session.on("left", (reason) => {
    tiles.clearRemote();
    tiles.remove(SELF);
    scene.setMember(null);
    scene.reset();
    media.stop();
    view.show("left", reason === "replaced" ? "You are in this room on another page now (a reload or a second tab)." : "");
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
export async function showPreJoin(parts, askPassword) {
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
export async function startMedia({ media, failures }, wanted) {
  try {
    await media.start(wanted);
    return true;
  } catch (failure) {
    failures.report(asFailure(failure, "media-failed")); // a Failure already (media.start)
    return false;
  }
}

/** @param {Parts} parts @param {import("../ui/devices.js").DeviceKind} kind @param {string} id */
function switchDevice({ media, failures }, kind, id) {
  media.useDevice(kind, id).catch((failure) => failures.report(failure));
}

/** The control bar. @param {Parts} parts */
export function wireControls(parts) {
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
export function wireSpeaking({ speaking, session, tiles, ownLevel }) {
  speaking.on("change", (who, active) => tiles.setSpeaking(who, active));
  session.on("joined", () => speaking.start(SPEAKING_SAMPLE_MS));
  session.on("left", () => {
    speaking.stop();
    ownLevel.close();
  });
}

/** Each remote tile's connection dot follows its call's statistics. @param {Parts} parts */
export function pollConnections({ tiles, mesh }) {
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

/** Who the scene can show: you (once joined) and everyone with a video tile. @param {Parts} parts */
function updateSceneSources({ mesh, tiles, session, scene }) {
  const remote = mesh.peers().flatMap((peer) => {
    const video = tiles.get(peer.id)?.video;
    return video ? [{ id: peer.id, name: peer.name, video }] : [];
  });
  const self = tiles.get(SELF);
  scene.setSources(self ? [{ id: SELF, name: session.self.name, video: self.video }, ...remote] : remote);
}

/** Someone came or went. @param {Parts} parts */
function peopleChanged(parts) {
  const { mesh, session, view } = parts;
  view.setPeopleCount(session.joined ? mesh.peers().length + 1 : null);
  updateSceneSources(parts);
}
