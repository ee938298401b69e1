import { Fingerprinter, fingerprintDistance } from "./fingerprint.js";

/**
 * The last few frames each remote video showed, by RTP time, so that a person
 * can be drawn from the very frame their shared mask was computed on (a mask
 * comes a little before or a few frames after its frame is shown). A frame is
 * kept as a VideoFrame: a handle to the decoded picture, no pixels copied.
 *
 * @typedef {import("./packet.js").Fingerprint} Fingerprint
 * @typedef {{rtp: number, frame: VideoFrame, print?: Fingerprint | null | Promise<unknown>}} Kept
 *   `print`: undefined until asked for, a promise while it is taken
 */
/** How far (RTP ticks) from the frame a mask names the frame it was computed on is looked for: 300 ms. */
const MATCH_TICKS = 90 * 300;
/**
 * Fingerprints of the same frame, sent and decoded, differ by 0–0.5 on average (VP8 at 150–500 kbps); those of
 * neighbouring frames of a moving person by 2 or more (measured with tests/e2e/test_sharing_alignment.py's moving camera).
 */
const SAME_PICTURE = 1.5;
/** Under this, a fingerprint is taken to be of that very frame (decoding leaves 0.1–0.4): the search stops there. */
const VERY_FRAME = 0.6;
/** Frames shown are fingerprinted as they come while masks were matched to this video within this long. */
const MATCHING_MS = 1000;
/** Between frames equally like a fingerprint, the one nearer the frame named wins: this much distance a second apart. */
const NEARER_PER_SECOND = 2;

export class FrameHistory {
  /** @type {Map<string, {video: HTMLVideoElement, frames: Kept[], callback: number, current: number | null, matchedAt: number}>} */
  #watched = new Map();
  #keep;
  #fingerprinter = new Fingerprinter();
  /** @type {WeakMap<Fingerprint, number>} the frame each mask's fingerprint was found to be (the same picture) */
  #found = new WeakMap();

  /** @param {{keep?: number}} [options] frames kept per video: 15 is a second at 15 fps, half at 30 */
  constructor({ keep = 15 } = {}) {
    this.#keep = keep;
  }

  static get supported() {
    return typeof VideoFrame !== "undefined" && "requestVideoFrameCallback" in HTMLVideoElement.prototype;
  }

  /** Keep the frames `video` shows (again, if it is another element now). @param {string} id @param {HTMLVideoElement} video */
  watch(id, video) {
    if (!FrameHistory.supported || this.#watched.get(id)?.video === video) return;
    this.unwatch(id);
    const entry = { video, frames: /** @type {Kept[]} */ ([]), callback: 0, current: /** @type {number | null} */ (null), matchedAt: -Infinity };
    /** @type {VideoFrameRequestCallback} */
    const shown = (_now, metadata) => {
      if (this.#watched.get(id) !== entry) return;
      entry.callback = video.requestVideoFrameCallback(shown);
      entry.current = metadata.rtpTimestamp ?? null;
      if (metadata.rtpTimestamp === undefined || !video.videoWidth) return;
      /** @type {Kept} */
      const kept = { rtp: metadata.rtpTimestamp, frame: new VideoFrame(video) };
      entry.frames.push(kept);
      if (entry.frames.length > this.#keep) entry.frames.shift()?.frame.close();
      // Masks of this video are being matched: each frame will be looked at.
      if (performance.now() - entry.matchedAt < MATCHING_MS) this.#print(kept);
    };
    entry.callback = video.requestVideoFrameCallback(shown);
    this.#watched.set(id, entry);
  }

  /** @param {string} id */
  unwatch(id) {
    const entry = this.#watched.get(id);
    if (!entry) return;
    entry.video.cancelVideoFrameCallback(entry.callback);
    for (const { frame } of entry.frames) frame.close();
    this.#watched.delete(id);
  }

  /** Stop watching every video but these. @param {Set<string>} ids */
  keepOnly(ids) {
    for (const id of [...this.#watched.keys()]) if (!ids.has(id)) this.unwatch(id);
  }

  /** The kept frame with this RTP time, or null (valid until the next frame is shown). @param {string} id @param {number} rtp */
  at(id, rtp) {
    const kept = this.#watched.get(id)?.frames.find((one) => one.rtp === rtp);
    return kept ? { rtp, frame: kept.frame } : null;
  }

  /**
   * The kept frame most like `print` among those within 300 ms of the RTP time
   * `rtp` (a sender names its frame only within a few frames: fingerprint.js),
   * or null: none kept there, or the best is the newest frame shown but not the
   * same picture (the frame analysed is still to come).
   * @param {string} id @param {number} rtp @param {Fingerprint} print
   * @returns {{rtp: number, frame: VideoFrame} | null} valid until the next frame is shown
   */
  match(id, rtp, print) {
    const entry = this.#watched.get(id);
    const frames = entry?.frames ?? [];
    const found = this.#found.get(print);
    const again = found === undefined ? undefined : frames.find((kept) => kept.rtp === found);
    if (again) return { rtp: again.rtp, frame: again.frame };
    if (entry) entry.matchedAt = performance.now();
    const apart = (/** @type {Kept} */ kept) => Math.abs((kept.rtp - rtp) | 0); // RTP times wrap at 2^32
    /** @type {Kept | null} */
    let best = null;
    let [bestScore, bestDistance] = [Infinity, Infinity];
    let pending = false; // a frame looked at so far is still being fingerprinted (ready by the next drawing)
    let nearerPending = false; // one nearer the frame named than the best
    // Nearest the frame named first (the sender names most right), until that very frame turns up.
    for (const kept of frames.filter((one) => apart(one) <= MATCH_TICKS).sort((a, b) => apart(a) - apart(b))) {
      if (kept.print === undefined) this.#print(kept); // kept before matching began
      if (kept.print instanceof Promise) {
        pending = true;
        continue;
      }
      const distance = kept.print ? fingerprintDistance(kept.print, print) : Infinity;
      const score = distance + (NEARER_PER_SECOND * apart(kept)) / (90 * 1000);
      if (score < bestScore) [best, bestScore, bestDistance, nearerPending] = [kept, score, distance, pending];
      if (distance <= VERY_FRAME) break;
    }
    // A frame nearer the one named than the best, still being fingerprinted, may be the very one: wait for it.
    // Masks often come before their frame is shown: a best match at the newest frame that is not the same picture
    // is most likely a frame before the one analysed.
    if (!best || (bestDistance > VERY_FRAME && nearerPending) || (best === frames.at(-1) && bestScore > SAME_PICTURE)) return null;
    if (bestDistance <= VERY_FRAME) this.#found.set(print, best.rtp);
    return { rtp: best.rtp, frame: best.frame };
  }

  /** Fingerprint a kept frame (in the background: its `print` is a promise until then). @param {Kept} kept */
  #print(kept) {
    kept.print = this.#fingerprinter.take(kept.frame).then((print) => (kept.print = print));
  }

  /** The RTP time of the frame the video shows now, where known. @param {string} id */
  current(id) {
    return this.#watched.get(id)?.current ?? null;
  }
}
