import { Failure } from "../lib/failure.js";
import { Emitter } from "../lib/emitter.js";

const TYPES = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"];

/**
 * Records a canvas as WebM (MediaRecorder on `canvas.captureStream()`), with
 * the duration written into the file so players can seek in it.
 *
 * Events: `state(recording)`, `done(blob)`, `error(failure)`.
 */
/** @extends {Emitter<{state: [recording: boolean], done: [blob: Blob], error: [failure: Failure]}>} */
export class SceneRecorder extends Emitter {
  #canvas;
  /** @type {MediaRecorder | null} */
  #recorder = null;
  #startedAt = 0;

  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    super();
    this.#canvas = canvas;
  }

  get recording() {
    return this.#recorder !== null;
  }

  /** @param {number} fps */
  start(fps = 30) {
    if (this.#recorder) return;
    const type = TYPES.find((candidate) => MediaRecorder.isTypeSupported(candidate));
    const stream = this.#canvas.captureStream(fps);
    const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 4_000_000 });
    /** @type {Blob[]} */
    const chunks = [];
    recorder.addEventListener("dataavailable", (event) => event.data.size && chunks.push(event.data));
    recorder.addEventListener("error", (event) => {
      const cause = /** @type {any} */ (event).error;
      this.emit("error", new Failure("recording", `Recording stopped: ${cause?.message ?? "the browser's recorder failed"}`, { cause }));
    });
    recorder.addEventListener("stop", async () => {
      for (const track of stream.getTracks()) track.stop();
      const raw = new Blob(chunks, { type: "video/webm" });
      this.emit("done", await withDuration(raw, performance.now() - this.#startedAt));
    });
    recorder.start(1000);
    this.#recorder = recorder;
    this.#startedAt = performance.now();
    this.emit("state", true);
  }

  stop() {
    if (!this.#recorder) return;
    this.#recorder.stop();
    this.#recorder = null;
    this.emit("state", false);
  }
}

/**
 * The WebM with its duration written in (fix-webm-duration, loaded as a classic script); as it was if that fails.
 * @param {Blob} blob @param {number} ms @returns {Promise<Blob>}
 */
function withDuration(blob, ms) {
  const fix = /** @type {any} */ (window).ysFixWebmDuration;
  return fix ? new Promise((resolve) => fix(blob, ms, resolve, { logger: false })) : Promise.resolve(blob);
}

/** Offer a blob as a download. @param {Blob} blob @param {string} filename */
export function download(blob, filename) {
  const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}
