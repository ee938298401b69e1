import { inputSize } from "./frames.js";

/**
 * How big each stream's frames go to a model: the scheduler asks a sizer
 * before it takes a frame and tells it what came out.
 *
 * @typedef {{size: (stream: import("./scheduler.js").StreamState) => {width: number, height: number},
 *   seen: (stream: import("./scheduler.js").StreamState, size: {width: number, height: number}, result: any) => void}} Sizer
 */

/**
 * Always the model's own input; with `keepAspect`, its width and the video's proportions.
 * @param {{width: number, height: number}} input @returns {Sizer}
 */
export function fixedSize(input, keepAspect = false) {
  return {
    size: (stream) => inputSize(stream.video, input, keepAspect),
    seen() {},
  };
}

/**
 * TinyFaceDetector's input, per stream, from the faces last found in it.
 *
 * The detector's cost grows with the square of its input (here: 96 px ≈ 7 ms,
 * 128 ≈ 11 ms, 224 ≈ 35 ms), and it finds a face once its box is about
 * `boxPixels` wide in the input. Someone close to their camera is found at
 * 128–192 px; the small faces of a group need the full preset. So a stream
 * is scanned at `largest` (the preset the user chose), and while every face
 * it showed is big, its next frames go in only as large as the smallest of
 * those faces needs. A full scan comes again every `rescanMs`, at once when
 * a smaller input finds fewer faces than the last full scan (someone turned
 * away, or the face got small), and whenever no face is known: a newcomer to
 * the picture is found within `rescanMs`.
 *
 * A large input misses faces close to the camera (found in 95 % of close
 * single-person pictures at 160 px, 78 % at 224, 65 % at 416: docs/benchmarks.md,
 * "Face quality"): while a full scan finds nobody, every other frame goes in
 * at `closeUp` instead.
 */
export class FaceInputSizer {
  /** @type {WeakMap<object, {at: number, faces: number}>} the last full scan of each stream */
  #scans = new WeakMap();
  /** @type {WeakMap<object, number>} the width of each stream's last frame */
  #lastWidth = new WeakMap();

  /**
   * @param {{largest: number, smallest?: number, closeUp?: number, boxPixels?: number, rescanMs?: number}} options
   *   sizes are the input's width in pixels, multiples of 32 (face-api's rule)
   */
  constructor({ largest, smallest = 96, closeUp = 160, boxPixels = 56, rescanMs = 1000 }) {
    this.largest = largest;
    this.smallest = Math.min(smallest, largest);
    this.closeUp = closeUp;
    this.boxPixels = boxPixels;
    this.rescanMs = rescanMs;
  }

  /** @param {import("./scheduler.js").StreamState} stream */
  size(stream, now = performance.now()) {
    return inputSize(stream.video, { width: this.width(stream, now) }, true);
  }

  /** The input width for the next frame of `stream`. @param {import("./scheduler.js").StreamState} stream */
  width(stream, now = performance.now()) {
    const scan = this.#scans.get(stream);
    const faces = stream.results.faces?.faces ?? [];
    const missedInFull = scan?.faces === 0 && this.#lastWidth.get(stream) === this.largest;
    if (!faces.length && missedInFull && this.closeUp < this.largest) return this.closeUp;
    if (!scan || !faces.length || faces.length < scan.faces || now - scan.at >= this.rescanMs) return this.largest;
    const narrowest = Math.min(...faces.map((face) => face.width)); // a fraction of the frame's width
    const wanted = Math.ceil(this.boxPixels / narrowest / 32) * 32;
    return Math.max(this.smallest, Math.min(this.largest, wanted));
  }

  /**
   * After a frame of `stream` went in at `size` and `result` came out.
   * @param {import("./scheduler.js").StreamState} stream @param {{width: number, height: number}} size
   * @param {{faces: unknown[]}} result the face engine's
   */
  seen(stream, size, result, now = performance.now()) {
    this.#lastWidth.set(stream, size.width);
    if (size.width >= this.largest) this.#scans.set(stream, { at: now, faces: result.faces.length });
  }
}
