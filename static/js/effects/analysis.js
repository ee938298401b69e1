import { Emitter } from "../emitter.js";
import { MISSING_WEIGHTS } from "./engines/bodypix.js";
import { startEngine } from "./runner.js";
import { AnalysisScheduler } from "./scheduler.js";

/** Face detector presets: TinyFaceDetector's input size follows the face size expected. */
export const FACE_PRESETS = {
  224: { detector: "tiny", inputSize: 224 }, // one person close to the camera (faces of 150 px and more)
  320: { detector: "tiny", inputSize: 320 },
  416: { detector: "tiny", inputSize: 416 }, // small faces: group photos, people far away
  512: { detector: "tiny", inputSize: 512 },
  ssd: { detector: "ssd" }, // SSD MobileNet: most accurate, slowest
};

/**
 * The analysis of remote streams: starts the engines (segmentation and faces,
 * each in its worker), feeds them through one scheduler and answers what is
 * known about each stream.
 *
 * Events: `ready(info)`, `problem(model, message)`, `result(streamId, model)`.
 */
export class Analysis extends Emitter {
  #scheduler;
  #started = null;
  /** @type {Map<string, Map<string, {landmarks: boolean, expressions: boolean}>>} per stream, per source */
  #faceDetail = new Map();
  /** @type {Record<string, object>} what each engine reported at start */
  info = {};

  /** @param {{monitor: import("./frame-monitor.js").FrameMonitor}} parts */
  constructor({ monitor }) {
    super();
    this.#scheduler = new AnalysisScheduler({ monitor });
    this.#scheduler.on("result", (id, model) => this.emit("result", id, model));
    this.#scheduler.on("error", (model, error) => this.emit("problem", model, error.message));
  }

  /**
   * Start the engines once (later calls return the same promise).
   * @param {{segmentation?: "selfie" | "bodypix", faces?: keyof typeof FACE_PRESETS, workers?: boolean}} [choice]
   *   `workers: false` runs the engines on the main thread (the fallback where workers cannot)
   */
  start({ segmentation = "selfie", faces = "224", workers = true } = {}) {
    // Each model joins the running scheduler as soon as its engine is ready.
    this.#scheduler.start();
    const where = { preferWorker: workers };
    this.#started ??= Promise.all([this.#startMask(segmentation, where), this.#startFaces(faces, where)]).then(() => {
      this.emit("ready", this.info);
      return this.info;
    });
    return this.#started;
  }

  /** @param {string} id @param {HTMLVideoElement} video */
  addStream(id, video) {
    this.#scheduler.addStream(id, video);
    this.#applyFaceDetail(id);
  }

  /** @param {string} id */
  removeStream(id) {
    this.#scheduler.removeStream(id);
    this.#faceDetail.delete(id); // whoever analyses it again asks again after addStream
  }

  /** @param {string} id @param {boolean} on */
  setStreamEnabled(id, on) {
    this.#scheduler.setStreamEnabled(id, on);
  }

  /**
   * Ask the face model for landmarks and expressions of one stream (off until
   * something shows them). Each `source` (the tile, the scene) asks for itself;
   * the model adds what any of them wants.
   * @param {string} id @param {{landmarks: boolean, expressions: boolean}} detail @param {string} [source]
   */
  setFaceDetail(id, detail, source = "tile") {
    const asked = this.#faceDetail.get(id) ?? new Map();
    this.#faceDetail.set(id, asked.set(source, detail));
    this.#applyFaceDetail(id);
  }

  #applyFaceDetail(id) {
    const wanted = [...(this.#faceDetail.get(id)?.values() ?? [])];
    this.#scheduler.setWants(id, "faces", {
      landmarks: wanted.some((one) => one.landmarks),
      expressions: wanted.some((one) => one.expressions),
    });
  }

  /** @param {boolean} on */
  setEnabled(on) {
    this.#scheduler.setEnabled(on);
  }

  get enabled() {
    return this.#scheduler.enabled;
  }

  /** @param {string} id */
  latest(id) {
    return this.#scheduler.latest(id);
  }

  streamIds() {
    return this.#scheduler.streamIds();
  }

  delays() {
    return this.#scheduler.delays();
  }

  /**
   * What is known about one stream, in the shape of `window.ensemble.analysis(peerId)`.
   * @param {string} id
   */
  describe(id) {
    const stream = this.#scheduler.latest(id);
    if (!stream) return null;
    const mask = stream.results.mask?.mask;
    return {
      faces: stream.results.faces?.faces ?? [],
      mask: mask ? { width: mask.width, height: mask.height, coverage: round(mask.coverage), box: mask.box, centroid: mask.centroid } : null,
      inferenceMs: { mask: round(stream.ms.mask), faces: round(stream.ms.faces) },
      hz: { mask: round(stream.hz.mask), faces: round(stream.hz.faces) },
      engine: { mask: this.info.mask?.engine ?? null, faces: this.info.faces?.engine ?? null },
      where: { mask: this.info.mask?.where ?? null, faces: this.info.faces?.where ?? null },
      backend: { mask: this.info.mask?.backend ?? null, faces: this.info.faces?.backend ?? null },
      enabled: stream.enabled && this.enabled,
    };
  }

  async #startMask(engine, where) {
    let started;
    try {
      started = await startEngine(engine, {}, where);
    } catch (error) {
      if (engine === "selfie") throw error;
      // BodyPix missing or failing: say so, and segment with the selfie models instead.
      this.emit("problem", "mask", error.message.includes(MISSING_WEIGHTS) ? MISSING_WEIGHTS : error.message);
      started = await startEngine("selfie", {}, where);
      started.info.fallbackFrom = engine;
    }
    this.info.mask = started.info;
    this.#scheduler.addModel("mask", started.runner, { input: started.info.input, maxHz: 15 });
  }

  async #startFaces(preset, where) {
    const options = FACE_PRESETS[preset] ?? FACE_PRESETS[224];
    const started = await startEngine("faces", options, where);
    this.info.faces = started.info;
    this.#scheduler.addModel("faces", started.runner, { input: started.info.input, keepAspect: true, maxHz: 8 });
  }
}

function round(value) {
  return value === undefined ? null : Math.round(value * 1000) / 1000;
}
