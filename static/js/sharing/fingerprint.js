/**
 * A frame's fingerprint: its picture as 16×9 blocks of mean brightness. A
 * sender computes it of the camera frame it analysed and sends it with the
 * mask; a receiver computes it of the frames its video showed and draws the
 * person from the frame whose fingerprint is nearest. Both sides see nearly
 * the same pixels (the encoder keeps each block's brightness), where no clock
 * they share names the frame exactly: a sender maps capture times to RTP
 * times only within a few frames under load (docs/benchmarks.md, "Shared
 * analysis").
 *
 * Brightness is full-range luma (0–255). A planar YUV frame (what cameras and
 * software decoders give) holds it in its Y plane, weighted as its colour
 * space says; reading that with `copyTo` costs under a third of drawing the
 * frame into a canvas, which converts all of it to RGB first (bench/fingerprint.py).
 * Other pictures are drawn, and their luma weighted as BT.601 does.
 */
export const FINGERPRINT = { width: 16, height: 9 };
/** @typedef {import("./packet.js").Fingerprint} Fingerprint */
const SAMPLE = 4; // a drawn picture is drawn at 4× the fingerprint's size and each block averaged
const PLANAR = ["I420", "I420A", "NV12"];

/** Takes fingerprints, one at a time, with one buffer and one small canvas for all of them. */
export class Fingerprinter {
  /** @type {OffscreenCanvasRenderingContext2D | null | undefined} undefined until the first; null where there is none */
  #context = undefined;
  #planes = new Uint8Array(0);
  /** @type {Promise<unknown>} the one before: `copyTo` fills the shared buffer while others wait */
  #last = Promise.resolve();

  /**
   * @param {CanvasImageSource} picture a VideoFrame (open until this resolves), video element or bitmap
   * @returns {Promise<Fingerprint | null>} FINGERPRINT.width × FINGERPRINT.height brightness values, row by row;
   *   null without a 2D canvas, or of a frame closed meanwhile
   */
  take(picture) {
    const taken = this.#last.then(() => this.#take(picture)).catch(() => null);
    this.#last = taken;
    return taken;
  }

  /** @param {CanvasImageSource} picture */
  async #take(picture) {
    if (typeof VideoFrame !== "undefined" && picture instanceof VideoFrame && PLANAR.includes(String(picture.format))) {
      const size = picture.allocationSize();
      if (this.#planes.length < size) this.#planes = new Uint8Array(size);
      // copyTo packs the visible part alone: its first row and column are where the layout says.
      const [luma] = await picture.copyTo(this.#planes);
      const { displayWidth, displayHeight } = picture;
      const { width, height } = picture.visibleRect ?? { width: displayWidth, height: displayHeight }; // null once closed
      return lumaFingerprint(this.#planes, luma, { width, height }, picture.colorSpace?.fullRange === true);
    }
    return this.#drawn(picture);
  }

  /** @param {CanvasImageSource} picture */
  #drawn(picture) {
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
 * The fingerprint of a luma plane: the mean of every other pixel of every other
 * row in each block, in full range.
 * @param {Uint8Array} bytes @param {{offset: number, stride: number}} plane where the plane lies in `bytes`
 * @param {{width: number, height: number}} size of the picture the plane holds
 * @param {boolean} fullRange false: studio range (16–235), stretched to 0–255
 * @returns {Fingerprint}
 */
export function lumaFingerprint(bytes, { offset, stride }, { width, height }, fullRange) {
  const { width: across, height: down } = FINGERPRINT;
  const sums = new Float64Array(across * down);
  const counts = new Uint32Array(across * down);
  /** @type {number[]} the block column of each sampled pixel column */
  const columns = [];
  for (let x = 0; x < width; x += 2) columns.push(Math.floor((x * across) / width));
  for (let y = 0; y < height; y += 2) {
    const row = Math.floor((y * down) / height) * across;
    const start = offset + y * stride;
    for (let index = 0; index < columns.length; index += 1) {
      sums[row + columns[index]] += bytes[start + 2 * index];
      counts[row + columns[index]] += 1;
    }
  }
  const [scale, base] = fullRange ? [1, 0] : [255 / 219, 16];
  const values = Uint8Array.from(sums, (sum, block) => Math.min(255, Math.max(0, Math.round((sum / Math.max(1, counts[block]) - base) * scale))));
  return { ...FINGERPRINT, values };
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
