import { Emitter } from "../lib/emitter.js";
import { asFailure } from "../lib/failure.js";
import { Greeting } from "./greeting.js";
import { IceWatchdog } from "./ice-watchdog.js";
import { readMessage } from "./channel-message.js";
import { LinkQuality, audioLevel } from "./link-quality.js";

/** A subscribe answered "no such feed" (the publisher is not up yet) is tried again this often. */
const NO_SUCH_FEED = 428;
const RESUBSCRIBE_MS = 500;
const HELLO_MS = 1000;
/** A subscription connected but showing no media (a camera off, a muted sender) is ready after this anyway. */
const READY_ANYWAY_MS = 3000;
/** A subscription whose video shows no new frame for this long, while the peer says its camera is on, is made anew. */
const VIDEO_STALL_MS = 6000;
/** A subscription not ready this long after Janus took it (a request lost or refused, ICE that never connects) is made anew. */
const READY_WITHIN_MS = 15_000;

/**
 * @typedef {import("./peer.js").PeerEvents & {ready: [], hangup: []}} FeedEvents
 * @typedef {{
 *   peer: string, selfId: string, feed: number, session: import("./janus.js").JanusSession, room: number, roomToken: () => string,
 *   configuration: RTCConfiguration, receiver: ((receiver: RTCRtpReceiver) => void) | null,
 *   say: (message: {to: string, hello?: import("./greeting.js").Hello, message?: unknown}) => void,
 *   videoExpected: () => boolean,
 * }} FeedOptions
 *   `selfId`: our own peer id, which messages to us carry in `to`; `roomToken`: the VideoRoom token now (renewed meanwhile); `receiver`: installs the encoded
 *   transform on a video receiver, in the task that created it; `say`: a message on our own
 *   published data channel (what the peer hears from us); `videoExpected`: whether the peer
 *   says it sends video now (camera or screen on)
 */

/**
 * One peer's stream through Janus: a VideoRoom subscription to its feed, on a connection of
 * its own. To the rest of the page it is what a PeerLink is (`remoteStream`, `track`,
 * `state`, `quality()`, `audioLevel()`, `send`, `message`, `channel-open`), so the grid,
 * effects and sharing do not know which transport carries a stream; it never sends media.
 *
 * Janus offers, we answer. A subscribe that Janus answers "no such feed" (the peer has not
 * published yet) is asked again every RESUBSCRIBE_MS; a failed or stalled connection
 * restarts ICE (Janus offers again, with fresh credentials). `ready` says once that it
 * is connected and media arrives (or READY_ANYWAY_MS after connecting, for a sender
 * with nothing on); `hangup` that Janus ended the subscription (the feed went), that
 * its video has shown no frame for VIDEO_STALL_MS while the peer sends video, or that it
 * is not ready READY_WITHIN_MS after Janus took it (or failed to take it): the owner
 * subscribes again, as for a feed that went.
 */
/** @extends {Emitter<FeedEvents>} */
export class FeedLink extends Emitter {
  #options;
  #session;
  /** @type {number} the Janus handle, 0 before attaching */
  #handle = 0;
  #pc;
  #closed = false;
  #ready = false;
  #watchingVideo = false;
  #linkQuality;
  #watchdog;
  #greeting;
  #timers = new Set();
  #readyTimer = /** @type {any} */ (0);
  /** The video stream's mid in the subscription (Janus names it), once subscribed. */
  #videoMid = "";
  /** The simulcast layer asked for (null: Janus's choice, the highest) and the one Janus was told. */
  /** @type {number | null} */
  #layer = null;
  /** @type {number | null} */
  #layerSet = null;

  /** @param {FeedOptions} options */
  constructor(options) {
    super();
    this.#options = options;
    this.#session = options.session;
    this.peer = options.peer;
    this.remoteStream = new MediaStream();
    this.#pc = new RTCPeerConnection(options.configuration);
    this.#linkQuality = new LinkQuality(this.#pc);
    this.#watchdog = new IceWatchdog({
      iceServers: options.configuration.iceServers ?? [],
      // Before Janus's offer there is no ICE to restart (a restart then is refused as a request on an
      // unconfigured subscriber): the subscribe is under way, which the ready timer watches instead.
      state: () => (this.#pc.remoteDescription ? this.connectionState : "connecting"),
      restart: () => this.restartIce(),
      relayUnusable: (report) => this.emit("relay-unusable", report),
    });
    this.#greeting = new Greeting(
      (hello) => options.say({ to: options.peer, hello }),
      () => this.emit("channel-open"),
    );
    this.#pc.ontrack = ({ track, transceiver }) => {
      if (track.kind === "video") options.receiver?.(transceiver.receiver); // the task that created it
      this.#addRemoteTrack(track);
    };
    this.#pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.#watchdog.candidateGathered(candidate);
      if (this.#handle) this.#session.trickle(this.#handle, candidate ? candidate.toJSON() : null);
    };
    this.#pc.onicecandidateerror = (event) => this.#watchdog.candidateError(event);
    this.#pc.onconnectionstatechange = () => this.#onConnectionState();
    this.#pc.ondatachannel = ({ channel }) => {
      channel.onmessage = ({ data }) => this.#receive(data);
    };
  }

  get handle() {
    return this.#handle;
  }

  get connectionState() {
    return this.#closed ? "closed" : this.#pc.connectionState;
  }

  /** Whether the peer hears our messages (`channel-open` was emitted). */
  get channelOpen() {
    return this.#greeting.open;
  }

  /** Subscribe to the feed; failures go to `error`, and a subscription that does not come up says `hangup`. */
  async start() {
    this.#readyWithin();
    try {
      this.#handle = await this.#session.attach();
      if (this.#closed) return this.#session.detach(this.#handle);
      await this.#subscribe();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** READY_WITHIN_MS from now (the feed is up, or the attempt starts), not ready is `hangup`. */
  #readyWithin() {
    clearTimeout(this.#readyTimer);
    this.#readyTimer = setTimeout(() => {
      if (!this.#ready && !this.#closed) this.emit("hangup");
    }, READY_WITHIN_MS);
  }

  /** Something Janus pushed for this handle. @param {Record<string, any>} message */
  handleEvent(message) {
    if (this.#closed) return;
    if (message.jsep?.type === "offer") this.#answer(message.jsep).catch((error) => this.#fail(error));
    else if (message.janus === "hangup") this.emit("hangup"); // the feed went (kicked, or its page republishes)
  }

  /** What the peer said on its data channel to us (JSON text, unchecked). @param {unknown} data */
  #receive(data) {
    const said = readMessage(data); // undefined for what is not one of ours: nothing to read
    if (said?.to !== this.#options.selfId) return; // said to someone else: everyone subscribed to the peer hears it
    if ("hello" in said) this.#greeting.heard(said.hello);
    else if ("message" in said) this.emit("message", said.message);
  }

  /** A small JSON message to the peer over our published data channel; false until it hears us. @param {unknown} message */
  send(message) {
    if (this.#closed || !this.#greeting.open) return false;
    this.#options.say({ to: this.peer, message });
    return true;
  }

  /** Nothing to send on a subscription: what we send goes out on our one publication. */
  async setTrack() {}

  /** @param {RTCIceServer[]} iceServers */
  async renewIceServers(iceServers) {
    if (this.#closed) return;
    this.#pc.setConfiguration({ ...this.#pc.getConfiguration(), iceServers });
    this.#watchdog.setIceServers(iceServers);
  }

  /** Ask Janus for a fresh offer with new ICE credentials (once it has made one). */
  restartIce() {
    if (this.#closed || !this.#handle || !this.#pc.remoteDescription) return;
    this.#session.message(this.#handle, { request: "configure", restart: true }).catch((error) => this.#fail(error));
  }

  quality() {
    return this.#linkQuality.read();
  }

  /** How loud the peer's microphone is now (0–1), as PeerLink reads it. */
  audioLevel() {
    return this.#closed ? 0 : audioLevel(this.#pc);
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchdog.stop();
    clearTimeout(this.#readyTimer);
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.#handle) this.#session.detach(this.#handle);
    this.#pc.close();
    for (const track of this.remoteStream.getTracks()) this.remoteStream.removeTrack(track);
    this.emit("state", "closed");
    this.removeAllListeners();
  }

  async #subscribe() {
    const { room, feed, roomToken } = this.#options;
    let reply;
    try {
      reply = await this.#session.message(this.#handle, { request: "join", ptype: "subscriber", room, streams: [{ feed }], token: roomToken() });
    } catch (error) {
      if (/** @type {{status?: number}} */ (error).status !== NO_SUCH_FEED || this.#closed) throw error;
      this.#readyWithin(); // the peer is not publishing yet: the wait for it is not ours to cut short
      this.#setTimer(() => this.#subscribe().catch((failure) => this.#fail(failure)), RESUBSCRIBE_MS);
      return;
    }
    const video = (reply.data.streams ?? []).find((/** @type {{type?: string}} */ stream) => stream.type === "video");
    this.#videoMid = video?.mid ?? "";
    if (reply.jsep) await this.#answer(reply.jsep);
    this.#sendLayer();
  }

  /** The simulcast layer this peer's tile needs (layers.js `layerFor`); sent to Janus when it changes. @param {number} layer */
  setLayer(layer) {
    this.#layer = layer;
    this.#sendLayer();
  }

  /** The layer asked for, null before any. */
  get layer() {
    return this.#layer;
  }

  #sendLayer() {
    const layer = this.#layer;
    if (layer === null || layer === this.#layerSet || !this.#videoMid || this.#closed) return;
    this.#layerSet = layer;
    this.#session.message(this.#handle, { request: "configure", streams: [{ mid: this.#videoMid, substream: layer }] }).catch((error) => {
      this.#layerSet = null; // asked again with the next change
      this.#fail(error);
    });
  }

  /** Janus's offer (the first, a renegotiation or an ICE restart): answer and start. @param {RTCSessionDescriptionInit} offer */
  async #answer(offer) {
    await this.#pc.setRemoteDescription(offer);
    await this.#pc.setLocalDescription();
    if (this.#closed) return;
    this.#watchdog.stateChanged(this.#pc.connectionState); // ICE starts now: a connection that stays "new" is restarted
    const answer = /** @type {RTCSessionDescription} */ (this.#pc.localDescription).toJSON(); // set just now
    await this.#session.message(this.#handle, { request: "start" }, answer);
  }

  /** @param {MediaStreamTrack} track */
  #addRemoteTrack(track) {
    for (const old of this.remoteStream.getTracks().filter((t) => t.kind === track.kind)) this.remoteStream.removeTrack(old);
    this.remoteStream.addTrack(track);
    track.addEventListener("unmute", () => this.#checkReady());
    this.emit("track", this.remoteStream);
  }

  #onConnectionState() {
    const state = this.#pc.connectionState;
    this.emit("state", state);
    this.#watchdog.stateChanged(state);
    if (state !== "connected") return;
    this.#checkReady();
    this.#setTimer(() => this.#becomeReady(), READY_ANYWAY_MS);
    this.#sayHello();
    if (!this.#watchingVideo) {
      this.#watchingVideo = true;
      this.#setTimer(() => this.#watchVideo(-1), VIDEO_STALL_MS);
    }
  }

  /**
   * Every VIDEO_STALL_MS once connected: no new video frame decoded since the last look
   * (`decoded` then) while the peer sends video is a subscription gone wrong (no video
   * offered, or frames that never decode): `hangup`, and the owner makes a new one.
   * @param {number} decoded
   */
  async #watchVideo(decoded) {
    if (this.#closed) return;
    let now = 0;
    (await this.#pc.getStats()).forEach((stat) => {
      if (stat.type === "inbound-rtp" && stat.kind === "video") now += stat.framesDecoded ?? 0;
    });
    if (this.#closed) return;
    if (now === decoded && this.#options.videoExpected()) return void this.emit("hangup");
    this.#setTimer(() => this.#watchVideo(now), VIDEO_STALL_MS);
  }

  #sayHello() {
    if (this.#closed || !this.#greeting.pending) return;
    this.#greeting.tick();
    this.#setTimer(() => this.#sayHello(), HELLO_MS);
  }

  #checkReady() {
    if (this.#pc.connectionState === "connected" && this.remoteStream.getTracks().some((track) => !track.muted)) this.#becomeReady();
  }

  #becomeReady() {
    if (this.#ready || this.#closed) return;
    this.#ready = true;
    this.emit("ready");
  }

  /** @param {() => void} run @param {number} ms */
  #setTimer(run, ms) {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  /** @param {unknown} error */
  #fail(error) {
    if (!this.#closed) this.emit("error", asFailure(error, "sfu"));
  }
}
