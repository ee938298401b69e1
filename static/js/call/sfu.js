import { Emitter } from "../lib/emitter.js";
import { asFailure } from "../lib/failure.js";
import { FeedLink } from "./feed-link.js";
import { IceWatchdog } from "./ice-watchdog.js";
import { JanusSession } from "./janus.js";
import { simulcastEncodings } from "./layers.js";

/** A lost session (Janus restarted, the network dropped) is joined again after this. */
const REJOIN_MS = 2000;
/** A subscription Janus ended is made again after this. */
const RESUBSCRIBE_MS = 500;
/** The peer id our encoded transforms are told for the one publication (SharingTransport keys senders by it). */
export const PUBLICATION = "sfu";

/**
 * @typedef {{url: string, room: number, feeds: Record<string, number>, tokens: {core: string, room: string, expires: number}}} SfuDescription
 *   the server's `sfu` event (docs/protocol.md, "Rooms on Janus")
 * @typedef {{codecs: readonly string[], sender: (sender: RTCRtpSender, peer: string) => void, receiver: (receiver: RTCRtpReceiver, peer: string) => void}} Transforms
 * @typedef {{feed: [peer: string, link: FeedLink], error: [failure: import("../lib/failure.js").Failure]}} SfuEvents
 */

/**
 * This page in a room on Janus: one session, one publication of the local stream (audio,
 * video in simulcast layers fitted to the picture (layers.js) and a data channel, with the encoded transforms installed as the senders are
 * made), and a FeedLink per peer whose feed the server named. `feed(peer, link)` says when a
 * subscription is made; the caller adopts it as that peer's link.
 *
 * A lost session is joined again after REJOIN_MS, with fresh subscriptions; failures go
 * to `error` (the one failure path, code `sfu`).
 */
/** @extends {Emitter<SfuEvents>} */
export class SfuRoom extends Emitter {
  #selfId;
  #localStream;
  /** @type {(peer: string) => boolean} */
  #videoExpected;
  #configuration;
  #transforms;
  /** @type {SfuDescription} */
  #description;
  /** @type {JanusSession | null} */
  #session = null;
  #handle = 0;
  /** @type {RTCPeerConnection | null} */
  #pc = null;
  /** @type {RTCDataChannel | null} */
  #channel = null;
  /** @type {Map<"audio" | "video", RTCRtpSender>} */
  #senders = new Map();
  /** @type {Map<string, FeedLink>} */
  #links = new Map();
  /** @type {IceWatchdog | null} */
  #watchdog = null;
  #closed = false;
  #rejoinTimer = /** @type {any} */ (0);

  /**
   * @param {{selfId: string, description: SfuDescription, localStream: MediaStream, configuration: RTCConfiguration, transforms: Transforms | null,
   *   videoExpected: (peer: string) => boolean}} options `videoExpected`: whether a peer says it sends video now
   */
  constructor({ selfId, description, localStream, configuration, transforms, videoExpected }) {
    super();
    this.#selfId = selfId;
    this.#videoExpected = videoExpected;
    this.#description = description;
    this.#localStream = localStream;
    this.#configuration = configuration;
    this.#transforms = transforms;
  }

  /** Whether `description` names the same Janus room as this one's. @param {SfuDescription} description */
  sameRoom(description) {
    return description.url === this.#description.url && description.room === this.#description.room;
  }

  /** Join the room and publish; then subscribe to every feed named. */
  async start() {
    const session = new JanusSession({ url: this.#description.url, token: this.#description.tokens.core });
    this.#session = session;
    session.on("event", (handle, message) => this.#heard(handle, message));
    session.on("closed", (failure) => this.#lost(failure));
    try {
      await session.open();
      this.#handle = await session.attach();
      const { room, feeds, tokens } = this.#description;
      await session.message(this.#handle, { request: "join", ptype: "publisher", room, id: feeds[this.#selfId], token: tokens.room, display: this.#selfId });
      await this.#publish();
    } catch (error) {
      if (this.#session === session) this.#lost(asFailure(error, "sfu"));
      return;
    }
    this.#subscribeAll();
  }

  /** The room's news: who has which feed now (a member joined), fresh tokens. @param {SfuDescription} description */
  update(description) {
    this.#description = description;
    this.#session?.setToken(description.tokens.core);
    if (this.#pc) this.#subscribeAll();
  }

  /** Renewed tokens (`sfu-token`), for every request from now on. @param {{core: string, room: string, expires: number}} tokens */
  setTokens(tokens) {
    this.#description = { ...this.#description, tokens };
    this.#session?.setToken(tokens.core);
  }

  /** A peer left: its subscription goes. @param {string} peer */
  forget(peer) {
    this.#links.get(peer)?.close();
    this.#links.delete(peer);
    const { [peer]: _gone, ...feeds } = this.#description.feeds;
    this.#description = { ...this.#description, feeds };
  }

  /** Send another track of a kind (null: nothing), without renegotiating. @param {"audio" | "video"} kind @param {MediaStreamTrack | null} track */
  async setTrack(kind, track) {
    const sender = this.#senders.get(kind);
    if (!sender) return;
    await sender.replaceTrack(track);
    if (kind === "video" && track) await this.#fitLayers(sender, track);
  }

  /** The simulcast layers fitted to the picture now sent (a screen is larger than a camera). @param {RTCRtpSender} sender @param {MediaStreamTrack} track */
  async #fitLayers(sender, track) {
    const { width = 0, height = 0 } = track.getSettings();
    const fitted = simulcastEncodings(width, height);
    const parameters = sender.getParameters();
    if (parameters.encodings.length !== fitted.length) return; // not simulcast (cannot be, but then nothing to fit)
    parameters.encodings = parameters.encodings.map((encoding, index) => ({ ...encoding, ...fitted[index] }));
    await sender.setParameters(parameters);
  }

  /** @param {RTCIceServer[]} iceServers */
  renewIceServers(iceServers) {
    this.#configuration = { ...this.#configuration, iceServers };
    this.#pc?.setConfiguration({ ...this.#pc.getConfiguration(), iceServers });
    this.#watchdog?.setIceServers(iceServers);
    for (const link of this.#links.values()) link.renewIceServers(iceServers);
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#rejoinTimer);
    this.#teardown();
    this.removeAllListeners();
  }

  /** Offer our audio, video and data channel; the transforms go on the video sender as it is made. */
  async #publish() {
    const pc = new RTCPeerConnection(this.#configuration);
    this.#pc = pc;
    this.#watchdog = new IceWatchdog({
      iceServers: this.#configuration.iceServers ?? [],
      // Until Janus answers our offer there is no ICE to restart: the publish is under way.
      state: () => (this.#closed ? "closed" : pc.remoteDescription ? pc.connectionState : "connecting"),
      restart: () => this.#restartIce(),
      relayUnusable: () => {}, // each subscription says the same, per peer
    });
    pc.onconnectionstatechange = () => this.#watchdog?.stateChanged(pc.connectionState);
    pc.onicecandidate = ({ candidate }) => this.#session?.trickle(this.#handle, candidate ? candidate.toJSON() : null);
    for (const kind of /** @type {const} */ (["audio", "video"])) {
      const track = this.#localStream.getTracks().find((candidate) => candidate.kind === kind) ?? null;
      const size = track?.getSettings() ?? {};
      const sendEncodings = kind === "video" ? simulcastEncodings(size.width ?? 0, size.height ?? 0) : undefined; // each viewer takes the layer its tile needs
      const transceiver = pc.addTransceiver(track ?? kind, { direction: "sendonly", streams: [this.#localStream], sendEncodings });
      this.#senders.set(kind, transceiver.sender);
      if (kind === "video") this.#transform(transceiver);
    }
    this.#channel = pc.createDataChannel("ensemble");
    await pc.setLocalDescription();
    const offer = /** @type {RTCSessionDescription} */ (pc.localDescription).toJSON(); // set just now
    const reply = await /** @type {JanusSession} */ (this.#session).message(this.#handle, { request: "publish", display: this.#selfId }, offer);
    if (reply.jsep) await pc.setRemoteDescription(reply.jsep);
    this.#watchdog?.stateChanged(pc.connectionState); // ICE starts now: a connection that stays "new" is restarted
  }

  /** @param {RTCRtpTransceiver} transceiver */
  #transform(transceiver) {
    const transforms = this.#transforms;
    if (!transforms) return;
    transforms.sender(transceiver.sender, PUBLICATION);
    const codecs = RTCRtpSender.getCapabilities("video")?.codecs ?? [];
    const first = codecs.filter((codec) => transforms.codecs.includes(codec.mimeType));
    if (first.length) transceiver.setCodecPreferences([...first, ...codecs.filter((codec) => !first.includes(codec))]);
  }

  async #restartIce() {
    const pc = this.#pc;
    const session = this.#session;
    if (!pc?.remoteDescription || !session || this.#closed) return;
    try {
      await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
      const reply = await session.message(this.#handle, { request: "configure" }, /** @type {RTCSessionDescription} */ (pc.localDescription).toJSON());
      if (reply.jsep) await pc.setRemoteDescription(reply.jsep);
    } catch (error) {
      this.emit("error", asFailure(error, "sfu"));
    }
  }

  #subscribeAll() {
    const session = this.#session;
    if (!session || this.#closed) return;
    for (const [peer, feed] of Object.entries(this.#description.feeds)) {
      if (peer === this.#selfId || this.#links.has(peer)) continue;
      const receiver = this.#transforms?.receiver;
      const link = new FeedLink({
        peer,
        selfId: this.#selfId,
        feed,
        session,
        room: this.#description.room,
        roomToken: () => this.#description.tokens.room,
        configuration: this.#configuration,
        receiver: receiver ? (rtpReceiver) => receiver(rtpReceiver, peer) : null,
        say: (message) => this.#say(message),
        videoExpected: () => this.#videoExpected(peer),
      });
      this.#links.set(peer, link);
      link.on("hangup", () => this.#resubscribe(peer, link));
      this.emit("feed", peer, link);
      link.start();
    }
  }

  /**
   * Janus ended a subscription (its feed was kicked or republishes after losing its session):
   * a fresh one in a moment, if the peer is still in the room (else `forget` comes first).
   * @param {string} peer @param {FeedLink} link
   */
  #resubscribe(peer, link) {
    if (this.#links.get(peer) !== link) return;
    this.#links.delete(peer);
    link.close();
    setTimeout(() => this.#subscribeAll(), RESUBSCRIBE_MS);
  }

  /** A message on our data channel: everyone subscribed to us hears it; `to` says whom it is for. @param {unknown} message */
  #say(message) {
    if (this.#channel?.readyState === "open") this.#channel.send(JSON.stringify(message));
  }

  /** @param {number} handle @param {Record<string, any>} message */
  #heard(handle, message) {
    if (handle === this.#handle) return; // our publication: publishers come and go, but feeds are known from the server
    for (const link of this.#links.values()) if (link.handle === handle) link.handleEvent(message);
  }

  /** The session is gone: drop everything and join again in a while. @param {import("../lib/failure.js").Failure} failure */
  #lost(failure) {
    if (this.#closed) return;
    this.emit("error", failure);
    this.#teardown();
    clearTimeout(this.#rejoinTimer);
    this.#rejoinTimer = setTimeout(() => {
      if (!this.#closed) this.start();
    }, REJOIN_MS);
  }

  #teardown() {
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    this.#watchdog?.stop();
    this.#pc?.close();
    this.#pc = null;
    this.#channel = null;
    this.#senders.clear();
    const session = this.#session;
    this.#session = null;
    session?.close();
  }
}
