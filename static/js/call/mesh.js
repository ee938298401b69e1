import { Emitter } from "../lib/emitter.js";
import { PeerLink } from "./peer.js";
import { layerFor } from "./layers.js";
import { SfuRoom } from "./sfu.js";

/**
 * @typedef {{audio: boolean, video: boolean, screen?: boolean}} MediaState
 * @typedef {{id: string, name: string, media: MediaState}} PeerInfo
 * @typedef {import("./peer.js").SignalKind} SignalKind
 * @typedef {import("./peer.js").SignalData} SignalData
 * @typedef {{
 *   "peer-added": [peer: PeerInfo], "peer-updated": [peer: PeerInfo], "peer-removed": [id: string],
 *   stream: [id: string, stream: MediaStream], connection: [id: string, state: RTCPeerConnectionState | "closed"],
 *   signal: [to: string, kind: SignalKind, data: SignalData], error: [id: string, failure: import("../lib/failure.js").Failure],
 *   "relay-unusable": [id: string, report: {url: string, problem: string}],
 *   message: [id: string, message: unknown], "channel-open": [id: string],
 * }} MeshEvents
 * @typedef {{codecs: readonly string[], sender: (sender: RTCRtpSender, peer: string) => void, receiver: (receiver: RTCRtpReceiver, peer: string) => void}} Transforms
 * @typedef {PeerLink | import("./feed-link.js").FeedLink} Link a peer's stream: its own connection (mesh) or its feed on Janus
 * @typedef {import("./sfu.js").SfuDescription} SfuDescription
 */

/**
 * The full mesh: one PeerLink per remote peer of the room. It knows nothing of
 * sockets: `signal(to, kind, data)` events go out through the caller, and the
 * caller feeds in the room's news (`addPeer`, `removePeer`, `handleSignal`,
 * `updateMedia`).
 *
 * Events: `peer-added(info)`, `peer-updated(info)`, `peer-removed(id)`,
 * `stream(id, MediaStream)`, `connection(id, state)`, `signal(to, kind, data)`,
 * `error(id, failure)`, `relay-unusable(id, {url, problem})`, and from each
 * link's data channel `channel-open(id)`, `message(id, message)` (unchecked JSON).
 *
 * A room that moves to Janus (`useSfu`) keeps its peers: each one's mesh link is replaced
 * by its subscription on Janus once that is ready (connected, media arriving), so nobody
 * sees a gap; the events and methods above stay the same whichever carries a stream.
 */
/** @extends {Emitter<MeshEvents>} */
export class Mesh extends Emitter {
  #selfId = "";
  /** @type {RTCConfiguration} */
  #configuration = {};
  #localStream;
  /** @type {Map<string, PeerInfo>} */
  #peers = new Map();
  /** @type {Map<string, Link>} */
  #links = new Map();
  /** @type {SfuRoom | null} the room on Janus, once it moved there */
  #sfu = null;
  /** @type {Map<string, number>} each peer's tile height (device pixels), for its simulcast layer on Janus */
  #viewHeights = new Map();

  /** @type {Transforms | null} */
  #transforms;

  /**
   * @param {MediaStream} localStream the stream whose tracks every peer receives
   * @param {{transforms?: Transforms | null}} [options] installed on every link's video senders and receivers
   */
  constructor(localStream, { transforms = null } = {}) {
    super();
    this.#localStream = localStream;
    this.#transforms = transforms;
  }

  /**
   * Start over for a (re)joined room: drop every old link, connect to `peers`.
   * @param {string} selfId
   * @param {RTCConfiguration} configuration the room's ICE servers and transport policy
   * @param {PeerInfo[]} peers
   * @param {SfuDescription | null} [sfu] the room is on Janus: no mesh links, subscriptions there
   */
  start(selfId, configuration, peers, sfu = null) {
    this.reset();
    this.#selfId = selfId;
    this.#configuration = configuration;
    for (const peer of peers) {
      this.addPeer(peer);
      if (!sfu) this.#link(peer.id, true);
    }
    if (sfu) this.useSfu(sfu);
  }

  /** Whether the room's streams go through Janus. */
  get onSfu() {
    return this.#sfu !== null;
  }

  /**
   * The room is on Janus (`sfu` from the server): publish there and subscribe to every peer's
   * feed; a description of another instance or room (the room moved) starts over there.
   * @param {SfuDescription} description
   */
  useSfu(description) {
    if (!this.#selfId) return; // not in a room
    if (this.#sfu?.sameRoom(description)) return this.#sfu.update(description);
    this.#sfu?.close();
    const transforms = this.#transforms;
    const videoExpected = (/** @type {string} */ peer) => {
      const media = this.#peers.get(peer)?.media;
      return Boolean(media?.video || media?.screen);
    };
    const sfu = new SfuRoom({ selfId: this.#selfId, description, localStream: this.#localStream, configuration: this.#configuration, transforms, videoExpected });
    this.#sfu = sfu;
    sfu.on("feed", (id, link) => {
      this.#applyLayer(id, link);
      this.#adoptWhenReady(id, link);
    });
    sfu.on("error", (failure) => this.emit("error", "", failure));
    sfu.start();
  }

  /**
   * How high the peer's tile is now (device pixels): on Janus, its subscription takes the
   * simulcast layer that fills it (layers.js). @param {string} id @param {number} height
   */
  setViewHeight(id, height) {
    this.#viewHeights.set(id, height);
    this.#applyLayer(id, this.#links.get(id));
  }

  /** @param {string} id @param {Link | undefined} link */
  #applyLayer(id, link) {
    const height = this.#viewHeights.get(id);
    if (link && !(link instanceof PeerLink) && height !== undefined) link.setLayer(layerFor(height));
  }

  /** Renewed tokens for Janus. @param {SfuDescription["tokens"]} tokens */
  setSfuTokens(tokens) {
    this.#sfu?.setTokens(tokens);
  }

  /**
   * Fresh ICE servers (TURN credentials that expire later) for every link, now and to come.
   * @param {RTCIceServer[]} iceServers
   */
  renewIceServers(iceServers) {
    this.#configuration = { ...this.#configuration, iceServers };
    for (const link of this.#links.values()) link.renewIceServers(iceServers).catch(() => {}); // a link closed meanwhile needs none
    this.#sfu?.renewIceServers(iceServers);
  }

  /**
   * Someone is (or will be) in the room. Its link opens with its first offer: the
   * newer member of a pair offers first, so joining never makes both sides offer at once.
   * @param {PeerInfo} peer
   */
  addPeer(peer) {
    if (peer.id === this.#selfId) return; // news of our own membership (put back after a store loss)
    const known = this.#peers.has(peer.id);
    const info = { id: peer.id, name: peer.name, media: { ...peer.media } };
    this.#peers.set(peer.id, info);
    this.emit(known ? "peer-updated" : "peer-added", info);
  }

  /** @param {string} id */
  removePeer(id) {
    this.#links.get(id)?.close();
    this.#links.delete(id);
    this.#viewHeights.delete(id);
    this.#sfu?.forget(id);
    if (this.#peers.delete(id)) this.emit("peer-removed", id);
  }

  /** @param {string} id @param {MediaState} media */
  updateMedia(id, media) {
    const peer = this.#peers.get(id);
    if (!peer) return;
    peer.media = { audio: media.audio, video: media.video, screen: Boolean(media.screen) };
    this.emit("peer-updated", peer);
  }

  /**
   * A signal from another peer. One from a peer not yet announced (its offer can
   * overtake our join reply) opens the link early; the name follows.
   * @param {string} from @param {SignalKind} kind @param {SignalData} data
   */
  handleSignal(from, kind, data) {
    if (!this.#selfId) return; // not in a room: nothing to negotiate
    const link = this.#links.get(from);
    // On Janus, a mesh link is only ever one made before the move: no new ones.
    if (this.#sfu && !(link instanceof PeerLink)) return;
    if (!this.#peers.has(from)) this.addPeer({ id: from, name: "…", media: { audio: true, video: true } });
    return this.#link(from, false).handleSignal(kind, data);
  }

  /** Send another track of a kind to everyone. @param {"audio" | "video"} kind @param {MediaStreamTrack | null} track */
  setTrack(kind, track) {
    const links = [...this.#links.values()].map((link) => link.setTrack(kind, track, this.#localStream));
    return Promise.all([...links, this.#sfu?.setTrack(kind, track)]);
  }

  /** A small JSON message to one peer over its data channel; false if not open. @param {string} id @param {unknown} message */
  send(id, message) {
    return this.#links.get(id)?.send(message) ?? false;
  }

  /** @param {string} id */
  remoteStream(id) {
    return this.#links.get(id)?.remoteStream ?? null;
  }

  /** @param {string} id */
  quality(id) {
    return this.#links.get(id)?.quality() ?? Promise.resolve(null);
  }

  /**
   * The peer's microphone level now (0–1); 0 once it says it muted (the last packets before
   * the mute would otherwise read as speech for up to a second more).
   * @param {string} id
   */
  audioLevel(id) {
    if (this.#peers.get(id)?.media.audio === false) return 0;
    return this.#links.get(id)?.audioLevel() ?? 0;
  }

  /** `transport`: what carries the peer's stream now (null: nothing yet). `layer`: the simulcast layer asked for on Janus. @returns {Array<PeerInfo & {connectionState: string, transport: "mesh" | "sfu" | null, layer: number | null}>} */
  peers() {
    return [...this.#peers.values()].map((peer) => {
      const link = this.#links.get(peer.id);
      return {
        id: peer.id,
        name: peer.name,
        connectionState: link?.connectionState ?? "new",
        transport: link instanceof PeerLink ? "mesh" : link ? "sfu" : null,
        layer: link instanceof PeerLink ? null : (link?.layer ?? null),
        media: { ...peer.media },
      };
    });
  }

  reset() {
    for (const id of [...this.#peers.keys()]) this.removePeer(id);
    this.#sfu?.close();
    this.#sfu = null;
    this.#selfId = "";
  }

  /** The mesh link to a peer, created if needed. @param {string} id @param {boolean} initiate */
  #link(id, initiate) {
    const existing = this.#links.get(id);
    if (existing instanceof PeerLink) return existing;
    const transforms = this.#transforms;
    const link = new PeerLink({
      polite: this.#selfId > id,
      configuration: this.#configuration,
      localStream: this.#localStream,
      initiate,
      transforms: transforms && { codecs: transforms.codecs, sender: (sender) => transforms.sender(sender, id), receiver: (receiver) => transforms.receiver(receiver, id) },
    });
    link.on("signal", (kind, data) => this.emit("signal", id, kind, data));
    this.#links.set(id, link);
    this.#forward(id, link);
    return link;
  }

  /**
   * A peer's subscription on Janus takes over from its mesh link (closed then) once ready;
   * one of a peer that left meanwhile is dropped.
   * @param {string} id @param {import("./feed-link.js").FeedLink} link
   */
  #adoptWhenReady(id, link) {
    link.on("ready", () => {
      if (!this.#peers.has(id)) return link.close();
      const old = this.#links.get(id);
      this.#links.set(id, link);
      old?.close();
      this.emit("stream", id, link.remoteStream);
      this.emit("connection", id, link.connectionState);
      if (link.channelOpen) this.emit("channel-open", id);
    });
    this.#forward(id, link);
  }

  /**
   * A link's events, as the peer's, while it is the peer's link.
   * @param {string} id @param {Link} link
   */
  #forward(id, link) {
    const current = () => this.#links.get(id) === link;
    const events = /** @type {Emitter<import("./peer.js").PeerEvents>} */ (/** @type {unknown} */ (link)); // FeedLink's events are PeerLink's and more
    events.on("message", (message) => current() && this.emit("message", id, message));
    events.on("channel-open", () => current() && this.emit("channel-open", id));
    events.on("track", (stream) => current() && this.emit("stream", id, stream));
    events.on("state", (state) => current() && this.emit("connection", id, state));
    events.on("relay-unusable", (report) => current() && this.emit("relay-unusable", id, report));
    // Reported only: a description or candidate that cannot be applied is not cured by
    // restarting ICE (that looped on a bad SDP). The link heals what can heal by itself:
    // an unanswered offer is sent again, a stalled or failed connection restarts ICE.
    events.on("error", (failure) => this.emit("error", id, failure));
  }
}
