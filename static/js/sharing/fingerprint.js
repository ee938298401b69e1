/**
 * A frame's fingerprint: its picture as 16×9 blocks of mean brightness. A
 * sender computes it of the camera frame it analysed and sends it with the
 * mask; a receiver computes it of the frames its video showed and draws the
 * person from the frame whose fingerprint is nearest. Both sides see nearly
 * the same pixels (the encoder keeps each block's brightness), where no clock
 * they share names the frame exactly: a sender maps capture times to RTP
 * times only within a few frames under load (docs/benchmarks.md, "Shared
 * analysis").
 */
export const FINGERPRINT = { width: 16, height: 9 };
/** @typedef {import("./packet.js").Fingerprint} Fingerprint */
const SAMPLE = 4; // the picture is drawn at 4× the fingerprint's size and each block averaged

/** Takes fingerprints, with one small canvas for all of them. */
export class Fingerprinter {
  /** @type {OffscreenCanvasRenderingContext2D | null | undefined} undefined until the first; null where there is none */
  #context = undefined;

  /**
   * @param {CanvasImageSource} picture a VideoFrame, video element or bitmap
   * @returns {Fingerprint | null} FINGERPRINT.width × FINGERPRINT.height brightness values, row by row; null without a 2D canvas
   */
  take(picture) {
    const width = FINGERPRINT.width * SAMPLE, height = FINGERPRINT.height * SAMPLE;
    if (this.#context === undefined) {
      this.#context = typeof OffscreenCanvas === "undefined" ? null : new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
      if (this.#context) this.#context.imageSmoothingQuality = "medium";
    }
    if (!this.#context) return null;
    this.#context.drawImage(picture, 0, 0, width, height);
    const pixels = this.#context.getImageData(0, 0, width, height).data;
    const blocks = new Uint32Array(FINGERPRINT.width * FINGERPRINT.height);
    for (let y = 0; y < height; y += 1) {
      const row = Math.floor(y / SAMPLE) * FINGERPRINT.width;
      for (let x = 0; x < width; x += 1) {
        const at = (y * width + x) * 4;
        blocks[row + Math.floor(x / SAMPLE)] += 299 * pixels[at] + 587 * pixels[at + 1] + 114 * pixels[at + 2];
      }
    }
    return { ...FINGERPRINT, values: Uint8Array.from(blocks, (sum) => Math.round(sum / (1000 * SAMPLE * SAMPLE))) };
  }
}

/**
 * How different two fingerprints are: the mean absolute difference of their
 * blocks (0–255); Infinity when they are not the same size.
 * @param {Fingerprint} a @param {Fingerprint} b
 */
export function fingerprintDistance(a, b) {
  if (a.width !== b.width || a.height !== b.height || a.values.length !== b.values.length || !a.values.length) return Infinity;
  let sum = 0;
  for (let index = 0; index < a.values.length; index += 1) sum += Math.abs(a.values[index] - b.values[index]);
  return sum / a.values.length;
}
