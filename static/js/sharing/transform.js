/**
 * The shared-analysis worker: every video sender and receiver of the page runs
 * its encoded frames through here (RTCRtpScriptTransform), from the moment it
 * is created, since Chromium never runs a transform assigned later.
 *
 * A sender's frames leave as they came until the page hands over a result
 * about one of its camera frames; the next VP8 or VP9 frame to each peer
 * carries it as a packet (packet.js; a frame carries at most two), with the age that names the frame analysed in that
 * peer's own RTP clock. A receiver's frames lose their trailer, if they carry
 * one, and the decoded packet goes to the page. Other codecs pass untouched
 * (an H.264 or AV1 decoder does not skip trailing bytes). A frame carries at most
 * TRAILERS_PER_FRAME packets; a receiver reads no more than that of any frame,
 * and a frame with more, or with sizes that do not add up, is one `damaged`
 * message (what a hostile peer stacks costs one pass over the frame).
 *
 * Messages from the page: `{type: "result", mask, faces, fingerprint, detail, capturedAt}`
 * (one model's result of one camera frame, encoded here; capturedAt: ms since
 * the epoch, lib/timing.js `epochMs`). To the page: `{type:
 * "received", peer, frame, packet}`, `{type: "damaged", peer, error}` and once
 * a second `{type: "sent", bytes, packets}` (bytes of trailers to all peers).
 */
import { epochMs } from "../lib/timing.js";
import { appendTrailer, decodePacket, encodePacket, PacketError, splitTrailers, TRAILER_CODECS, TRAILERS_PER_FRAME, withAge } from "./packet.js";

const RTP_HZ = 90; // video RTP clock ticks a millisecond
/** A packet is sent only this soon after its frame was captured; later it would mislead. */
const FRESH_MS = 500;
/** How far (ms) a frame's predicted RTP time may be from a frame sent for the two to be the same. */
const SNAP_MS = 20;
const RECENT = 90; // frames remembered per sender: 3–6 s

/**
 * This module's global scope, a dedicated worker's, as far as it is used here.
 * @type {{onmessage: ((event: MessageEvent) => void) | null, onrtctransform: ((event: any) => void) | null,
 *   postMessage: (message: unknown, transfer?: Transferable[]) => void}}
 */
const scope = /** @type {any} */ (self);

/** @type {Array<{packet: Uint8Array, capturedAt: number, id: number}>} the newest packets from the page, oldest first */
let pending = [];
const PENDING = 4; // a mask and a faces result can come between two frames; each frame carries what is new
let nextId = 1;
const sent = { bytes: 0, packets: 0 };

scope.onmessage = ({ data }) => {
  if (data.type === "result") {
    const packet = encodePacket({ age: 0, mask: data.mask, faces: data.faces, fingerprint: data.fingerprint }, data.detail);
    pending = [...pending.slice(1 - PENDING), { packet, capturedAt: data.capturedAt, id: nextId++ }];
  }
};

scope.onrtctransform = ({ transformer }) => {
  const { side, peer } = transformer.options;
  const step = side === "send" ? layeredSendStep() : receiveStep(peer);
  transformer.readable.pipeThrough(new TransformStream({ transform: step })).pipeTo(transformer.writable);
};

setInterval(() => {
  scope.postMessage({ type: "sent", ...sent });
  sent.bytes = 0;
  sent.packets = 0;
}, 1000);

/**
 * A sender's frames, each RTP stream (SSRC) on its own: a simulcast sender (a room on Janus)
 * encodes each picture once per layer, each layer has its receivers, so each carries every packet.
 * @returns {(frame: any, controller: TransformStreamDefaultController) => void}
 */
function layeredSendStep() {
  /** @type {Map<number, (frame: any, controller: TransformStreamDefaultController) => void>} */
  const layers = new Map();
  return (frame, controller) => {
    const ssrc = frame.getMetadata().synchronizationSource ?? 0;
    let step = layers.get(ssrc);
    if (!step) layers.set(ssrc, (step = sendStep(new SenderClock())));
    step(frame, controller);
  };
}

/**
 * @param {SenderClock} clock
 * @returns {(frame: any, controller: TransformStreamDefaultController) => void}
 */
function sendStep(clock) {
  let sentId = 0;
  return (frame, controller) => {
    const metadata = frame.getMetadata();
    const rtp = clock.saw(metadata.rtpTimestamp);
    const fresh = epochMs() - FRESH_MS;
    let carried = 0;
    for (const packet of TRAILER_CODECS.includes(metadata.mimeType) ? pending : []) {
      if (packet.id <= sentId || packet.capturedAt < fresh) continue;
      const age = rtp - clock.frameAt(packet.capturedAt);
      if (age < 0 || carried === TRAILERS_PER_FRAME) break; // about a frame not sent yet, or the frame is full: a later frame carries it
      sentId = packet.id;
      carried += 1;
      const aged = withAge(packet.packet, age);
      frame.data = appendTrailer(frame.data, aged);
      sent.bytes += aged.length;
      sent.packets += 1;
    }
    controller.enqueue(frame);
  };
}

/**
 * Each frame's trailers cut off and read: at most TRAILERS_PER_FRAME packets, each a
 * `received` message, or one `damaged` message for the frame (then none of its packets counts).
 * @param {string} peer
 * @returns {(frame: any, controller: TransformStreamDefaultController) => void}
 */
function receiveStep(peer) {
  return (frame, controller) => {
    const data = frame.data;
    const { video, packets, damage } = splitTrailers(data);
    if (video !== data) frame.data = video;
    try {
      if (damage) throw new PacketError(damage);
      const carrier = frame.getMetadata().rtpTimestamp;
      const read = packets.map((bytes) => ({ packet: decodePacket(bytes), bytes: bytes.length })); // all, before any is posted
      for (const { packet, bytes } of read) {
        const transfer = packet.mask ? [packet.mask.alpha.buffer] : [];
        scope.postMessage({ type: "received", peer, frame: (carrier - packet.age) >>> 0, bytes, packet }, transfer);
      }
    } catch (error) {
      scope.postMessage({ type: "damaged", peer, error: /** @type {Error} */ (error).message });
    }
    controller.enqueue(frame);
  };
}

/**
 * One sender's RTP clock against the capture clock. Chromium stamps each frame
 * with 90 × its capture time in ms plus an offset random per stream. A frame
 * cannot leave before it was captured, so `rtp − 90 × now` of the frames
 * going out bounds that offset from above, and the frame that left soonest
 * after its capture comes nearest: a frame is named within the shortest
 * capture-to-sending delay of the last few seconds (tens of ms), early rather
 * than late. Receivers find the very frame by its fingerprint (fingerprint.js).
 */
class SenderClock {
  /** @type {number[]} recent RTP times, unwrapped */
  #recent = [];
  /** @type {number[]} `rtp − 90 × now` of the same frames */
  #offsets = [];
  #wraps = 0;
  #last = -1;

  /** A frame going out now. @param {number} rtp as the frame has it (32 bits) @returns {number} unwrapped */
  saw(rtp) {
    if (this.#last >= 0 && rtp < this.#last - 2 ** 31) this.#wraps += 1;
    this.#last = rtp;
    const unwrapped = rtp + this.#wraps * 2 ** 32;
    this.#recent.push(unwrapped);
    this.#offsets.push(unwrapped - RTP_HZ * epochMs());
    if (this.#recent.length > RECENT) {
      this.#recent.shift();
      this.#offsets.shift();
    }
    return unwrapped;
  }

  /** The unwrapped RTP time of the frame captured at `capturedAt` (ms since the epoch). @param {number} capturedAt */
  frameAt(capturedAt) {
    const predicted = RTP_HZ * capturedAt + Math.max(...this.#offsets);
    const distance = (/** @type {number} */ rtp) => Math.abs(rtp - predicted);
    const nearest = this.#recent.reduce((best, rtp) => (distance(rtp) < distance(best) ? rtp : best), Infinity);
    return distance(nearest) <= SNAP_MS * RTP_HZ ? nearest : Math.round(predicted);
  }
}
