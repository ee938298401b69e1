import { Emitter } from "../lib/emitter.js";
import { TRAILER_CODECS } from "./packet.js";

/**
 * Shared analysis on the wire: one worker (transform.js) through which every
 * video sender and receiver of the page runs its encoded frames. Results of
 * your own camera go out with the next frame to each peer; results peers
 * attached to theirs come back as `received` events.
 *
 * The encoder does not know about the bytes appended to its frames, so while
 * they flow each video sender's bitrate cap is lowered by what they take.
 *
 * Events: `received(peer, {frame, packet, bytes})` (frame: the RTP time of the
 * frame analysed), `damaged(peer, error)`.
 *
 * @typedef {import("./packet.js").Packet} Packet
 * @typedef {{mask?: import("../analysis/masks.js").PersonMask, faces?: import("../analysis/engines/faces.js").Face[]}} ModelResult
 */
/** @extends {Emitter<{received: [peer: string, arrival: {frame: number, packet: Packet, bytes: number}], damaged: [peer: string, error: string]}>} */
export class SharingTransport extends Emitter {
  /** @type {Worker | null} */
  #worker = null;
  /** @type {Map<RTCRtpSender, string>} the video senders, to each peer */
  #senders = new Map();
  #sent = { bytesPerSecond: 0, packetsPerSecond: 0 };
  /** @type {Map<RTCRtpSender, number>} the cap last set on each sender (bits a second; 0: none), or for simulcast the trailers' rate it was set for */
  #caps = new Map();
  /** @type {Map<RTCRtpSender, LayerCaps>} what capLayers set on each simulcast sender */
  #layers = new Map();
  /** Packets received from peers so far, and how many of them could not be read. */
  #received = { packets: 0, damaged: 0 };

  /** Whether this browser can carry analysis with its video frames. */
  static get supported() {
    return typeof RTCRtpScriptTransform !== "undefined" && typeof Worker !== "undefined";
  }

  /** @param {{enabled: boolean}} options `enabled: false`: frames pass through untouched, nothing is read or sent */
  constructor({ enabled }) {
    super();
    if (!enabled || !SharingTransport.supported) return;
    this.#worker = new Worker(new URL("./transform.js", import.meta.url), { type: "module", name: "sharing" });
    this.#worker.onmessage = ({ data }) => this.#heard(data);
  }

  get enabled() {
    return this.#worker !== null;
  }

  /** Bytes and packets of analysis sent a second, to all peers together (the last second). */
  get rate() {
    return { ...this.#sent };
  }

  /** Packets received from all peers so far, and how many could not be read (damaged or of another version). */
  get received() {
    return { ...this.#received };
  }

  /** For Mesh: installs the worker on every video sender and receiver, and names the codecs it works with (nothing when disabled). */
  get transforms() {
    const worker = this.#worker;
    if (!worker) return null;
    return {
      codecs: TRAILER_CODECS,
      sender: (/** @type {RTCRtpSender} */ sender, /** @type {string} */ peer) => {
        sender.transform = new RTCRtpScriptTransform(worker, { side: "send", peer });
        this.#senders.set(sender, peer);
      },
      receiver: (/** @type {RTCRtpReceiver} */ receiver, /** @type {string} */ peer) => {
        receiver.transform = new RTCRtpScriptTransform(worker, { side: "receive", peer });
      },
    };
  }

  /**
   * One model's result of one of your camera frames, for every peer.
   * @param {ModelResult} result @param {number} capturedAt ms since the epoch (lib/timing.js `epochMs`)
   * @param {{landmarks: boolean, expressions: boolean}} detail what of each face to send
   * @param {import("./packet.js").Fingerprint | null} [fingerprint] of the frame analysed
   */
  send(result, capturedAt, detail, fingerprint = null) {
    const mask = result.mask ? { ...result.mask, alpha: result.mask.alpha.slice() } : null; // the page keeps its own
    this.#worker?.postMessage({ type: "result", mask, faces: result.faces ?? null, fingerprint, detail, capturedAt }, mask ? [mask.alpha.buffer] : []);
  }

  /** A peer is gone: forget its senders. @param {string} peer */
  forget(peer) {
    for (const [sender, owner] of this.#senders) {
      if (owner !== peer) continue;
      this.#senders.delete(sender);
      this.#caps.delete(sender);
      this.#layers.delete(sender);
    }
  }

  /** @param {any} data a message from transform.js */
  #heard(data) {
    if (data.type === "received") {
      this.#received.packets += 1;
      this.emit("received", data.peer, { frame: data.frame, packet: data.packet, bytes: data.bytes });
    } else if (data.type === "damaged") {
      this.#received.damaged += 1;
      this.emit("damaged", data.peer, data.error);
    }
    else if (data.type === "sent") {
      this.#sent = { bytesPerSecond: data.bytes, packetsPerSecond: data.packets };
      this.#capBitrates();
    }
  }

  /**
   * Lower each video sender's cap by what analysis adds to it, or lift the cap when none
   * is sent. The cap otherwise is WebRTC's own default for the picture's size.
   */
  #capBitrates() {
    const perPeer = this.#senders.size ? (this.#sent.bytesPerSecond * 8) / this.#senders.size : 0;
    for (const sender of this.#senders.keys()) {
      const parameters = sender.getParameters();
      if (!parameters.encodings?.length) continue;
      const simulcast = parameters.encodings.length > 1;
      const settings = sender.track?.getSettings();
      const single = perPeer && settings?.width && settings.height ? Math.max(MIN_VIDEO_BPS, defaultCap(settings.width, settings.height) - perPeer) : 0;
      const cap = simulcast ? Math.round(perPeer) : single;
      const previous = this.#caps.get(sender) ?? 0;
      if (cap === previous || (cap && previous && Math.abs(cap - previous) < previous * 0.02)) continue;
      this.#caps.set(sender, cap);
      if (simulcast) this.#layers.set(sender, capLayers(parameters.encodings, perPeer, this.#layers.get(sender)));
      else if (cap) parameters.encodings[0].maxBitrate = Math.round(cap);
      else delete parameters.encodings[0].maxBitrate;
      sender.setParameters(parameters).catch(() => {
        // The link closed, or renegotiated meanwhile: the next second's report sets it again.
        this.#caps.delete(sender);
      });
    }
  }
}

const MIN_VIDEO_BPS = 150_000;
/** No simulcast layer is capped below this for the trailers' sake (the lowest is sent at 150 kbit/s). */
const MIN_LAYER_BPS = 100_000;

/**
 * @typedef {{base: (number | undefined)[], set: (number | undefined)[]}} LayerCaps
 *   each layer's own cap (its publisher's: call/layers.js) and the cap set on it here
 */

/**
 * A simulcast sender's encodings (a publication on Janus), each layer's own cap lowered by its
 * share of the trailers (`bps`, all layers together: every layer's frames carry them), or given
 * back its own cap when `bps` is 0. `known` is what this returned last time for the sender: a
 * cap still as it was set here is read as its own one; any other (the publisher fitted its
 * layers to a new picture) is taken as the layer's own cap from now on. Changes `encodings`.
 * @param {RTCRtpEncodingParameters[]} encodings @param {number} bps @param {LayerCaps | undefined} known
 * @returns {LayerCaps}
 */
export function capLayers(encodings, bps, known) {
  const base = encodings.map((encoding, index) => (known && encoding.maxBitrate === known.set[index] ? known.base[index] : encoding.maxBitrate));
  const active = encodings.filter((encoding) => encoding.active !== false).length || 1;
  const set = base.map((cap) => (cap === undefined || !bps ? cap : Math.max(MIN_LAYER_BPS, Math.round(cap - bps / active))));
  encodings.forEach((encoding, index) => {
    if (set[index] === undefined) delete encoding.maxBitrate;
    else encoding.maxBitrate = set[index];
  });
  return { base, set };
}

/**
 * WebRTC's default cap for camera video of this size (bits a second), which the
 * bitrate estimate stays under when nothing else caps it.
 * @param {number} width @param {number} height
 */
export function defaultCap(width, height) {
  const pixels = width * height;
  if (pixels <= 320 * 240) return 600_000;
  if (pixels <= 640 * 480) return 1_700_000;
  if (pixels <= 960 * 540) return 2_000_000;
  return 2_500_000;
}
