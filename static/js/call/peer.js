import { Emitter } from "../lib/emitter.js";
import { asFailure } from "../lib/failure.js";
import { IceWatchdog } from "./ice-watchdog.js";
import { readMessage } from "./channel-message.js";
import { LinkQuality, audioLevel } from "./link-quality.js";

/**
 * @typedef {"offer" | "answer" | "candidate"} SignalKind
 * @typedef {RTCSessionDescriptionInit | RTCIceCandidateInit} SignalData a description (offer, answer) or a candidate, as JSON
 * @typedef {{
 *   signal: [kind: SignalKind, data: SignalData], track: [stream: MediaStream], state: [state: RTCPeerConnectionState | "closed"],
 *   error: [failure: import("../lib/failure.js").Failure], "relay-unusable": [report: {url: string, problem: string}],
 *   message: [message: unknown], "channel-open": [],
 * }} PeerEvents
 * @typedef {{codecs: readonly string[], sender: (sender: RTCRtpSender) => void, receiver: (receiver: RTCRtpReceiver) => void}} Transforms
 *   installs an encoded transform on a video sender or receiver; called in the task that created it
 *   (Chromium never runs a transform assigned later); `codecs`: the video codecs (MIME types) the
 *   transforms work with (sharing/packet.js TRAILER_CODECS), put first
 */

/** An offer unanswered this long was lost on its way, or its answer was: send it again,
 * sooner than the other side's watchdog would start an offer of its own. */
const ANSWER_TIMEOUT_MS = 2500;
const MAX_ANSWER_WAIT_MS = 20_000;

/**
 * One RTCPeerConnection to one remote peer, negotiated with the "perfect
 * negotiation" pattern: both sides run this same code and only `polite`
 * differs, so simultaneous offers (glare) resolve themselves.
 *
 * A PeerLink never sees a socket. It emits `signal(kind, data)` for the caller
 * to deliver and takes the other side's signals through `handleSignal`.
 *
 * Events: `signal(kind, data)`, `track(stream)` when remote media arrives,
 * `state(connectionState)`, `error(failure)` (the one failure path, code `negotiation`), and
 * `relay-unusable({url, problem})` once when the link has not connected after a
 * while and no TURN server gave us a relay address (its IceWatchdog tells why).
 *
 * Signals can be lost (a server process cut off from the others drops what it
 * relays): a lost candidate is healed by the ICE restart of the watchdog
 * (ice-watchdog.js), a lost offer or answer by offering again when no answer came.
 * Statistics are read by link-quality.js.
 *
 * Besides media, each link has one data channel to the other page, negotiated
 * up front (no extra round of signaling): `send(message)` and the `message`
 * event carry small JSON messages (what each side wants shared, see sharing/);
 * `channel-open` says when it can carry them.
 */
/** @extends {Emitter<PeerEvents>} */
export class PeerLink extends Emitter {
  #pc;
  #polite;
  #makingOffer = false;
  #ignoreOffer = false;
  #settingRemoteAnswer = false;
  #incoming = Promise.resolve();
  /** @type {Map<string, RTCRtpSender>} */
  #senders = new Map();
  #closed = false;
  #linkQuality;
  #watchdog;
  #answerTimer = 0;
  /** @type {Transforms | null} */
  #transforms;
  #channel;

  /**
   * @param {{polite: boolean, configuration: RTCConfiguration, localStream: MediaStream, initiate: boolean, transforms?: Transforms | null}} options
   *   `configuration`: ICE servers and transport policy; `initiate`: this side makes the
   *   first offer (the other side's link is created by that offer); `transforms`: for every video sender and receiver
   */
  constructor({ polite, configuration, localStream, initiate, transforms = null }) {
    super();
    this.#polite = polite;
    this.#transforms = transforms;
    this.remoteStream = new MediaStream();
    this.#pc = new RTCPeerConnection(configuration);
    this.#linkQuality = new LinkQuality(this.#pc);
    this.#watchdog = new IceWatchdog({
      iceServers: configuration.iceServers ?? [],
      state: () => this.connectionState,
      restart: () => this.restartIce(),
      relayUnusable: (report) => this.emit("relay-unusable", report),
    });
    this.#pc.onnegotiationneeded = () => this.#offer();
    this.#pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      this.#watchdog.candidateGathered(candidate);
      this.emit("signal", "candidate", candidate.toJSON());
    };
    this.#pc.ontrack = ({ track, transceiver }) => {
      this.#transform(transceiver); // one created by the other side's offer: this is its first task
      this.#addRemoteTrack(track);
    };
    this.#pc.onconnectionstatechange = () => this.#onConnectionState();
    this.#pc.onicecandidateerror = (event) => this.#watchdog.candidateError(event);
    for (const track of localStream.getTracks()) this.#addTrack(track, localStream);
    if (initiate) {
      // Offer to receive what we do not send, so a peer without camera or microphone still connects.
      for (const kind of ["audio", "video"]) {
        if (this.#senders.has(kind)) continue;
        const transceiver = this.#pc.addTransceiver(kind, { direction: "recvonly" });
        this.#senders.set(kind, transceiver.sender);
        this.#transform(transceiver);
      }
    }
    this.#channel = this.#pc.createDataChannel("ensemble", { negotiated: true, id: 0 });
    this.#channel.onopen = () => this.emit("channel-open");
    this.#channel.onmessage = ({ data }) => this.#receive(data);
  }

  /** Send a small JSON message to the other page; false when the channel is not open (yet). @param {unknown} message */
  send(message) {
    if (this.#channel.readyState !== "open") return false;
    this.#channel.send(JSON.stringify(message));
    return true;
  }

  /** @param {unknown} data */
  #receive(data) {
    const message = readMessage(data);
    if (message !== undefined) this.emit("message", message); // else not one of ours: nothing to read
  }

  /** @param {MediaStreamTrack} track @param {MediaStream} stream */
  #addTrack(track, stream) {
    const sender = this.#pc.addTrack(track, stream);
    this.#senders.set(track.kind, sender);
    this.#transform(this.#pc.getTransceivers().find((candidate) => candidate.sender === sender));
  }

  /**
   * Give a video transceiver its transforms (once) and put the codecs they work with first.
   * @param {RTCRtpTransceiver | undefined} transceiver
   */
  #transform(transceiver) {
    if (!this.#transforms || !transceiver || transceiver.receiver.track.kind !== "video" || transceiver.receiver.transform) return;
    const transforms = this.#transforms;
    transforms.sender(transceiver.sender);
    transforms.receiver(transceiver.receiver);
    const codecs = RTCRtpReceiver.getCapabilities("video")?.codecs ?? [];
    const first = codecs.filter((codec) => transforms.codecs.includes(codec.mimeType));
    if (first.length) transceiver.setCodecPreferences([...first, ...codecs.filter((codec) => !first.includes(codec))]);
  }

  get connectionState() {
    return this.#closed ? "closed" : this.#pc.connectionState;
  }

  /**
   * Apply the other side's signal; signals are applied one at a time, in order.
   * @param {SignalKind} kind
   * @param {SignalData} data
   */
  handleSignal(kind, data) {
    this.#incoming = this.#incoming.then(() => this.#apply(kind, data)).catch((error) => this.#fail(error));
    return this.#incoming;
  }

  /**
   * Send `track` for its kind instead of the current one (null sends nothing),
   * without renegotiating when a sender of that kind exists already.
   * @param {"audio" | "video"} kind
   * @param {MediaStreamTrack | null} track
   * @param {MediaStream} stream the local stream the track belongs to
   */
  async setTrack(kind, track, stream) {
    const sender = this.#senders.get(kind);
    if (sender) {
      const transceiver = this.#pc.getTransceivers().find((candidate) => candidate.sender === sender);
      if (track && transceiver?.direction === "recvonly") {
        transceiver.direction = "sendrecv"; // renegotiates once; later swaps do not
        sender.setStreams(stream);
      }
      await sender.replaceTrack(track);
    } else if (track) {
      this.#addTrack(track, stream);
    }
  }

  /**
   * Fresh ICE servers, used from the next gathering on. A link whose media goes
   * through its own relay allocation restarts ICE now, so an allocation made with
   * the new credentials takes over while the old one still works: coturn goes on
   * refreshing an allocation whose credentials have expired, but nothing obliges
   * a TURN server to.
   * @param {RTCIceServer[]} iceServers
   */
  async renewIceServers(iceServers) {
    if (this.#closed) return;
    this.#pc.setConfiguration({ ...this.#pc.getConfiguration(), iceServers });
    this.#watchdog.setIceServers(iceServers);
    if (await this.#linkQuality.sentThroughOwnRelay()) this.restartIce();
  }

  /** Restart ICE, e.g. after the network changed under a failed connection. */
  restartIce() {
    if (!this.#closed) this.#pc.restartIce();
  }

  /**
   * A connection-quality summary from WebRTC statistics since the last call (link-quality.js).
   * @returns {Promise<import("./link-quality.js").QualityReport>}
   */
  quality() {
    return this.#linkQuality.read();
  }

  /**
   * How loud the remote microphone is now (0–1, linear, as RFC 6464 carries it in
   * each packet): read from the audio receiver's last packet, no statistics report.
   * 0 when nothing arrived for a second (a muted or silent sender).
   */
  audioLevel() {
    return this.#closed ? 0 : audioLevel(this.#pc);
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchdog.stop();
    clearTimeout(this.#answerTimer);
    this.#pc.close();
    for (const track of this.remoteStream.getTracks()) this.remoteStream.removeTrack(track);
    this.emit("state", "closed");
    this.removeAllListeners();
  }

  async #offer() {
    // An offer already being applied answers the need; Chromium asks again once stable.
    if (this.#pc.signalingState !== "stable") return;
    try {
      this.#makingOffer = true;
      await this.#pc.setLocalDescription();
      const description = /** @type {RTCSessionDescription} */ (this.#pc.localDescription).toJSON(); // set just now
      this.emit("signal", /** @type {SignalKind} */ (description.type), description);
      clearTimeout(this.#answerTimer);
      this.#answerTimer = setTimeout(() => this.#offerAgainIfUnanswered(), ANSWER_TIMEOUT_MS);
    } catch (error) {
      this.#fail(error);
    } finally {
      this.#makingOffer = false;
    }
  }

  /** @param {SignalKind} kind @param {SignalData} data */
  async #apply(kind, data) {
    if (this.#closed) return;
    if (kind === "candidate") {
      try {
        await this.#pc.addIceCandidate(/** @type {RTCIceCandidateInit} */ (data));
      } catch (error) {
        // Candidates for an offer we chose to ignore are expected to fail.
        if (!this.#ignoreOffer) throw error;
      }
      return;
    }
    const description = /** @type {RTCSessionDescriptionInit} */ (data);
    // An answer to an offer sent twice arrives twice; the first one settled it.
    if (description.type === "answer" && this.#pc.signalingState === "stable" && !this.#settingRemoteAnswer) return;
    const ready = !this.#makingOffer && (this.#pc.signalingState === "stable" || this.#settingRemoteAnswer);
    const collision = description.type === "offer" && !ready;
    this.#ignoreOffer = !this.#polite && collision;
    if (this.#ignoreOffer) return;
    this.#settingRemoteAnswer = description.type === "answer";
    try {
      await this.#pc.setRemoteDescription(description);
    } finally {
      this.#settingRemoteAnswer = false;
    }
    if (description.type === "offer") {
      await this.#pc.setLocalDescription();
      this.emit("signal", "answer", /** @type {RTCSessionDescription} */ (this.#pc.localDescription).toJSON()); // set just now
    }
  }

  /**
   * No answer came: the offer or its answer was lost. Send the same offer again; the other
   * side applies it (again) and answers. Rolling back and offering anew would not do: a
   * side that had answered keeps its DTLS role, which a fresh offerer can contradict.
   */
  #offerAgainIfUnanswered(waitMs = ANSWER_TIMEOUT_MS) {
    if (this.#closed || this.#pc.signalingState !== "have-local-offer") return;
    this.emit("signal", "offer", /** @type {RTCSessionDescription} */ (this.#pc.localDescription).toJSON()); // the offer still unanswered
    const next = Math.min(2 * waitMs, MAX_ANSWER_WAIT_MS);
    this.#answerTimer = setTimeout(() => this.#offerAgainIfUnanswered(next), next);
  }

  /** @param {MediaStreamTrack} track */
  #addRemoteTrack(track) {
    for (const old of this.remoteStream.getTracks().filter((t) => t.kind === track.kind)) {
      this.remoteStream.removeTrack(old);
    }
    this.remoteStream.addTrack(track);
    this.emit("track", this.remoteStream);
  }

  #onConnectionState() {
    const state = this.#pc.connectionState;
    this.emit("state", state);
    this.#watchdog.stateChanged(state);
  }

  /** @param {unknown} error */
  #fail(error) {
    if (!this.#closed) this.emit("error", asFailure(error, "negotiation"));
  }
}
