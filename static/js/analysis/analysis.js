import { Failure } from "../lib/failure.js";
import { Emitter } from "../lib/emitter.js";
import { BackendMemory } from "./backend-memory.js";
import { FaceTracker } from "./face-tracks.js";
import { MISSING_WEIGHTS } from "./engines/bodypix.js";
import { startEngine } from "./runner.js";
import { AnalysisScheduler } from "./scheduler.js";
import { FaceInputSizer, fixedSize } from "./sizers.js";
import { StreamSources } from "./sources.js";

/**
 * @typedef {import("./runner.js").EngineName} EngineName
 * @typedef {import("./runner.js").EngineInfo} EngineInfo
 * @typedef {import("./runner.js").StartedEngine} StartedEngine
 * @typedef {import("./scheduler.js").Model} Model
 * @typedef {import("./backend-memory.js").BackendChoice} BackendChoice
 * @typedef {import("./sources.js").SourceChoice} SourceChoice
 * @typedef {{options: Record<string, unknown>, label: string, gpu?: boolean}} Backend
 * @typedef {{choice: "remembered" | "measuring" | "measured", tried: Record<string, number | string>, measuredAt?: string | null}} Choice
 * @typedef {EngineInfo & {where: string, fallbackFrom?: string} & Choice} ModelInfo
 *   what a model's engine reported at start, and how its backend was chosen
 * @typedef {Partial<Record<Model, ModelInfo>>} Engines
 * @typedef {{mask: boolean, faces: boolean, landmarks: boolean, expressions: boolean}} Wants
 *   what this page would analyse of a stream, and so asks its sender to share
 */

/**
 * Face detector presets: TinyFaceDetector's input size follows the face size expected.
 * The 224 preset reports detections from 0.3: with FaceTracker (a face shows from its second
 * sighting) that finds more faces with fewer wrong ones than 0.4 (docs/benchmarks.md, "Face
 * quality": precision 0.988, recall 0.457, exactly one face of one person 0.89, against 0.971 /
 * 0.429 / 0.84). No 320: fewer group faces than 416, more wrong boxes, no more close ones than 224.
 * @type {Record<string, {detector: "tiny" | "ssd", inputSize?: number, minScore?: number}>}
 */
export const FACE_PRESETS = {
  224: { detector: "tiny", inputSize: 224, minScore: 0.3 }, // one person close to the camera (faces of 150 px and more)
  416: { detector: "tiny", inputSize: 416 }, // small faces: group photos, people far away
  512: { detector: "tiny", inputSize: 512 },
  ssd: { detector: "ssd" }, // SSD MobileNet: most accurate, slowest
};

/**
 * The backends each engine can run on. The first needs no GPU: it starts
 * fastest and works everywhere, so analysis begins on it while the others are
 * timed in the background.
 * @type {Record<EngineName, Backend[]>}
 */
const BACKENDS = {
  selfie: [{ options: { delegate: "CPU" }, label: "cpu" }, { options: { delegate: "GPU" }, label: "gpu", gpu: true }],
  faces: [{ options: { backend: "wasm" }, label: "wasm" }, { options: { backend: "webgl" }, label: "webgl", gpu: true }],
  bodypix: [{ options: { backend: "wasm" }, label: "wasm" }],
};

/** A backend takes over only below this fraction of the current one's time (GPU paths win by 5–10× where they win). */
const SWITCH_BELOW = 0.8;

/**
 * How often each model may look at one stream, how often it should, and how big its
 * frames go in. A mask 8 times a second keeps a cut-out on a moving person; faces 4
 * times a second keep boxes and stickers on them. TinyFaceDetector's input follows
 * the faces it finds, up to the preset (see FaceInputSizer).
 * @type {Record<Model, (info: EngineInfo) => {sizer: import("./sizers.js").Sizer, maxHz: number, targetHz: number}>}
 */
const SCHEDULE = {
  mask: (info) => ({ sizer: fixedSize(info.input), maxHz: 15, targetHz: 8 }),
  // TinyFaceDetector always reports its input size.
  faces: (info) => ({ sizer: info.detector === "tiny" ? new FaceInputSizer({ largest: /** @type {number} */ (info.inputSize) }) : fixedSize(info.input, true), maxHz: 8, targetHz: 4 }),
};

/**
 * The analysis of remote streams: starts the engines (segmentation and faces,
 * each in its worker) on the fastest backend of this device, feeds them
 * through one scheduler and answers what is known about each stream.
 *
 * Backends are chosen by measuring: the first visit starts on the backend
 * that needs no GPU, times the others in the background and switches if one
 * is clearly faster; the outcome is remembered for this device
 * (BackendMemory), so later visits start on the winner straight away. GPU
 * backends are not tried where the graphics renderer is itself software.
 *
 * A remote stream's sender can share its own analysis (sharing/): what it
 * sends is `receive`d here, and while it arrives at a useful rate (see
 * SourcePicker) this page analyses nothing of that stream; otherwise, and
 * until the first results come, it analyses the stream itself. A sender whose
 * frames keep arriving `damaged` is dropped: its stream is analysed here until
 * it leaves.
 *
 * Events: `ready(info)`, `error(failure)` (code `analysis-mask` or `analysis-faces`),
 * `result(streamId, model, frame)` (`frame.timestamp`: µs, of the VideoFrame analysed here; `frame.fingerprint`:
 * what addStream's `fingerprint` noted of it),
 * `wants(streamId, wants)` when what this page would analyse of a stream changes,
 * `source(streamId, source)` when a stream's results start coming from elsewhere.
 */
/**
 * @extends {Emitter<{ready: [info: Engines], error: [failure: Failure], result: [id: string, model: Model, frame: {timestamp: number | null, fingerprint?: unknown}],
 *   wants: [id: string, wants: Wants], source: [id: string, source: "sender" | "local"]}>}
 */
export class Analysis extends Emitter {
  #scheduler;
  #memory;
  /** @type {Map<string, Set<string>>} per stream, who asked for it (addStream's `user`) */
  #users = new Map();
  /** the source policy: per remote stream whose sender has shared something, where its results come from */
  #sources;
  /** @type {Map<string, string>} per stream, the wants last announced (as JSON) */
  #announced = new Map();
  /** @type {Map<string, FaceTracker<import("./engines/faces.js").Face>>} per stream analysed here */
  #trackers = new Map();
  /** @type {Promise<Engines> | null} */
  #started = null;
  /** @type {Map<string, Map<string, {landmarks: boolean, expressions: boolean}>>} per stream, per source */
  #faceDetail = new Map();
  /** @type {Engines} */
  #info = {};

  /**
   * @param {{monitor: import("./frame-monitor.js").FrameMonitor, newSourceChoice: () => SourceChoice, memory?: BackendMemory}} parts
   *   `newSourceChoice` makes the choice for one remote stream, when its sender first shares something
   */
  constructor({ monitor, newSourceChoice, memory = new BackendMemory() }) {
    super();
    this.#sources = new StreamSources({ newChoice: newSourceChoice, recheck: (id) => this.#pickSource(id) });
    this.#memory = memory;
    this.#scheduler = new AnalysisScheduler({ monitor });
    this.#scheduler.on("result", (id, model, result, frame) => {
      // A face found once and never again is noise: faces show from their second sighting (face-tracks.js).
      // Shared faces were tracked by their sender.
      if (model === "faces") result.faces = this.#tracker(id).update(result.faces, performance.now());
      this.emit("result", id, model, frame);
    });
    this.#scheduler.on("error", (model, error) => this.emit("error", new Failure(`analysis-${model}`, error.message, { cause: error })));
  }

  /**
   * Start the engines once (later calls return the same promise).
   * @param {{segmentation?: "selfie" | "bodypix", faces?: string, workers?: boolean}} [choice]
   *   `faces`: a key of FACE_PRESETS (224 for any other); `workers: false` runs the engines on the main
   *   thread (the fallback where workers cannot)
   */
  start({ segmentation = "selfie", faces = "224", workers = true } = {}) {
    // Each model joins the running scheduler as soon as its engine is ready.
    this.#scheduler.start();
    const where = { preferWorker: workers };
    this.#started ??= Promise.all([this.#startMask(segmentation, where), this.#startFaces(faces, where)]).then(() => {
      this.emit("ready", this.engines());
      return this.engines();
    });
    return this.#started;
  }

  /** Which engine and backend each model runs on and how that was chosen (a copy). */
  engines() {
    return structuredClone(this.#info);
  }

  /**
   * Analyse a stream for `user` (several can want the same one: your own camera for the scene
   * and for your peers); it is analysed until the last of them removes it.
   * @param {string} id @param {HTMLVideoElement} video @param {string} [user]
   * @param {{fingerprint?: (frame: CanvasImageSource) => unknown}} [options] noted of each frame whose mask is
   *   computed, given with the `result` event
   */
  addStream(id, video, user = "tile", options = {}) {
    const users = this.#users.get(id) ?? new Set();
    this.#users.set(id, users.add(user));
    if (this.#scheduler.latest(id)?.video !== video) this.#scheduler.addStream(id, video);
    if (options.fingerprint) this.#scheduler.setFingerprint(id, options.fingerprint);
    this.#applyFaceDetail(id);
  }

  /** @param {string} id @param {string} [user] */
  removeStream(id, user = "tile") {
    const users = this.#users.get(id);
    users?.delete(user);
    if (users?.size) return;
    this.#users.delete(id);
    this.#scheduler.removeStream(id);
    this.#faceDetail.delete(id); // whoever analyses it again asks again after addStream
    this.#sources.forget(id);
    this.#announced.delete(id);
    this.#trackers.delete(id);
  }

  /** @param {string} id */
  #tracker(id) {
    // Results seconds apart still count together: on a slow machine (or the main thread) a face must still show.
    const tracker = this.#trackers.get(id) ?? new FaceTracker({ forgetMs: 10_000 });
    this.#trackers.set(id, tracker);
    return tracker;
  }

  /** @param {string} id @param {boolean} on */
  setStreamEnabled(id, on) {
    this.#scheduler.setStreamEnabled(id, on);
    this.#announce(id);
  }

  /**
   * A result of `model` shared by the stream's sender, about the frame with RTP time `frame`.
   * Used while its sender's results arrive at a useful rate; ignored (but counted) otherwise.
   * @param {string} id @param {Model} model @param {any} result in the shape of this page's own engines'
   * @param {number} frame
   */
  receive(id, model, result, frame) {
    const stream = this.#scheduler.latest(id);
    if (!stream) return; // not (or no longer) shown here
    this.#sources.arrived(id, model, performance.now());
    this.#pickSource(id);
    if (stream.source !== "sender" || !stream.enabled || !this.enabled) return;
    stream.record(model, result, undefined, frame);
    this.emit("result", id, model, { timestamp: null });
  }

  /**
   * A frame of the stream's sender arrived damaged (sharing/transform.js): after a few, its
   * shared analysis is dropped and the stream analysed here (SourcePicker).
   * @param {string} id
   */
  damaged(id) {
    if (!this.#scheduler.latest(id)) return; // not (or no longer) shown here
    this.#sources.damaged(id, performance.now());
    this.#pickSource(id);
  }

  /** What this page would analyse of a stream, so what its sender should share. @param {string} id @returns {Wants} */
  wants(id) {
    const on = Boolean(this.#scheduler.latest(id)?.enabled) && this.enabled;
    const asked = [...(this.#faceDetail.get(id)?.values() ?? [])];
    return {
      mask: on,
      faces: on,
      landmarks: on && asked.some((one) => one.landmarks),
      expressions: on && asked.some((one) => one.expressions),
    };
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

  /** @param {string} id */
  #applyFaceDetail(id) {
    const wanted = [...(this.#faceDetail.get(id)?.values() ?? [])];
    this.#scheduler.setWants(id, "faces", {
      landmarks: wanted.some((one) => one.landmarks),
      expressions: wanted.some((one) => one.expressions),
    });
    this.#announce(id);
  }

  /** Say what this page wants of a stream when that changed. @param {string} id */
  #announce(id) {
    if (!this.#scheduler.latest(id)) return;
    const wants = this.wants(id);
    const said = JSON.stringify(wants);
    if (this.#announced.get(id) === said) return;
    this.#announced.set(id, said);
    this.emit("wants", id, wants);
  }

  /** Decide again where a stream's results come from. @param {string} id */
  #pickSource(id) {
    if (!this.#scheduler.latest(id)) return;
    const wants = this.wants(id);
    const source = this.#sources.pick(id, { mask: wants.mask, faces: wants.faces }, performance.now());
    if (source && this.#scheduler.setSource(id, source)) this.emit("source", id, source);
  }

  /** @param {boolean} on */
  setEnabled(on) {
    this.#scheduler.setEnabled(on);
    for (const id of this.#scheduler.streamIds()) this.#announce(id);
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
      source: stream.source,
      dropped: this.#sources.dropped(id) ? "damaged" : null, // why this page no longer takes the sender's analysis
      faces: stream.results.faces?.faces ?? [],
      mask: mask ? { width: mask.width, height: mask.height, coverage: round(mask.coverage), box: mask.box, centroid: mask.centroid } : null,
      inferenceMs: { mask: round(stream.ms.mask), faces: round(stream.ms.faces) },
      hz: stream.source === "sender" ? this.#sources.rates(id, performance.now()) : { mask: round(stream.hz.mask), faces: round(stream.hz.faces) },
      results: { mask: stream.count.mask ?? 0, faces: stream.count.faces ?? 0 },
      local: { mask: stream.inferences.mask ?? 0, faces: stream.inferences.faces ?? 0 },
      sourceChanges: stream.sourceChanges,
      frame: { mask: stream.frames.mask ?? null, faces: stream.frames.faces ?? null },
      faceInput: stream.results.faces?.inputSize ?? null,
      engine: { mask: this.#info.mask?.engine ?? null, faces: this.#info.faces?.engine ?? null },
      where: { mask: this.#info.mask?.where ?? null, faces: this.#info.faces?.where ?? null },
      backend: { mask: this.#info.mask?.backend ?? null, faces: this.#info.faces?.backend ?? null },
      enabled: stream.enabled && this.enabled,
    };
  }

  /** @param {"selfie" | "bodypix"} engine @param {{preferWorker: boolean}} where */
  async #startMask(engine, where) {
    try {
      await this.#startModel("mask", engine, {}, where);
    } catch (error) {
      if (engine === "selfie") throw error;
      // BodyPix missing or failing: say so, and segment with the selfie models instead.
      const message = /** @type {Error} */ (error).message;
      this.emit("error", new Failure("analysis-mask", message.includes(MISSING_WEIGHTS) ? MISSING_WEIGHTS : message, { cause: error }));
      await this.#startModel("mask", "selfie", {}, where);
      this.#info.mask = { .../** @type {ModelInfo} */ (this.#info.mask), fallbackFrom: engine }; // set by the start just made
    }
  }

  /** @param {string} preset @param {{preferWorker: boolean}} where */
  async #startFaces(preset, where) {
    await this.#startModel("faces", "faces", FACE_PRESETS[preset] ?? FACE_PRESETS[224], where);
  }

  /**
   * Start `engine` for `model` on the backend remembered for this device, or on the first
   * one; with nothing remembered, time the other backends afterwards.
   * @param {Model} model @param {EngineName} engine @param {object} options @param {{preferWorker: boolean}} where
   * @returns {Promise<void>}
   */
  async #startModel(model, engine, options, where) {
    const key = `${engine} ${JSON.stringify(options)}`;
    const candidates = BACKENDS[engine];
    const remembered = this.#memory.recall(key);
    const recalled = remembered && candidates.find((one) => sameOptions(one.options, remembered.candidate));
    const candidate = recalled ?? candidates[0];
    let started;
    try {
      started = await startEngine(engine, { ...options, ...candidate.options }, where);
    } catch (error) {
      if (!recalled) throw error;
      this.#memory.remember(key, null); // the remembered backend no longer starts: measure again
      return this.#startModel(model, engine, options, where);
    }
    const timed = typeof started.info.probeMs === "number" ? { [started.info.backend]: Math.round(started.info.probeMs) } : {};
    const memory = /** @type {BackendChoice} */ (remembered); // what `recalled` was found in
    const tried = recalled ? memory.tried : timed;
    this.#use(model, started, { choice: recalled ? "remembered" : "measuring", tried, measuredAt: recalled ? memory.measuredAt : null });
    const others = candidates.filter((one) => one !== candidate);
    // On the main thread a trial would freeze the page for seconds: there the first backend stays.
    if (!recalled && started.runner.where === "worker") this.#tryOthers(model, engine, options, { key, candidate, started, tried }, others);
  }

  /**
   * Start each other backend in a worker of its own and time it right after the current one,
   * so both see the same load (a time taken while the page was starting up can be several
   * times too long); switch to one that is clearly faster and remember the winner.
   * @param {Model} model @param {EngineName} engine @param {object} options
   * @param {{key: string, candidate: Backend, started: StartedEngine, tried: Record<string, number | string>}} best
   * @param {Backend[]} others
   */
  async #tryOthers(model, engine, options, best, others) {
    const { key, tried } = best;
    for (const candidate of others) {
      if (candidate.gpu && this.#memory.softwareRenderer) {
        tried[candidate.label] = `not tried: WebGL renders in software here (${this.#memory.softwareRenderer})`;
        continue;
      }
      try {
        const trial = await startEngine(engine, { ...options, ...candidate.options }, { preferWorker: true, fallback: false });
        const currentMs = await best.started.runner.probe();
        const trialMs = await trial.runner.probe();
        tried[best.started.info.backend] = Math.round(currentMs);
        tried[trial.info.backend] = Math.round(trialMs);
        if (trialMs < currentMs * SWITCH_BELOW) {
          best = { ...best, candidate, started: trial };
          this.#use(model, trial, { choice: "measuring", tried }); // the scheduler retires the slower runner
        } else trial.runner.terminate();
      } catch (error) {
        tried[candidate.label] = `unavailable (${/** @type {Error} */ (error).message})`;
      }
    }
    const measuredAt = new Date().toISOString();
    this.#memory.remember(key, { candidate: best.candidate.options, backend: best.started.info.backend, tried, measuredAt });
    this.#info[model] = { .../** @type {ModelInfo} */ (this.#info[model]), choice: "measured", tried, measuredAt }; // set by #use
  }

  /** Run `model` with a started engine from now on. @param {Model} model @param {StartedEngine} started @param {Choice} choice */
  #use(model, started, choice) {
    this.#info[model] = { ...started.info, ...choice };
    this.#scheduler.addModel(model, started.runner, SCHEDULE[model](started.info));
  }
}

/** @param {Record<string, unknown>} a @param {Record<string, unknown> | null | undefined} b as remembered (maybe damaged) */
function sameOptions(a, b) {
  return !!b && Object.entries(a).every(([name, value]) => b[name] === value);
}

/** @param {number | undefined} value */
function round(value) {
  return value === undefined ? null : Math.round(value * 1000) / 1000;
}
