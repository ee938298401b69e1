import { Failure } from "../lib/failure.js";
import { BackendMemory } from "./backend-memory.js";
import { MISSING_WEIGHTS } from "./engines/bodypix.js";
import { startEngine } from "./runner.js";
import { FaceInputSizer, fixedSize } from "./sizers.js";

/**
 * @typedef {import("./runner.js").EngineName} EngineName
 * @typedef {import("./runner.js").EngineInfo} EngineInfo
 * @typedef {import("./runner.js").StartedEngine} StartedEngine
 * @typedef {import("./scheduler.js").Model} Model
 * @typedef {import("./scheduler.js").ModelRunner} ModelRunner
 * @typedef {import("./backend-memory.js").BackendChoice} BackendChoice
 * @typedef {{options: Record<string, unknown>, label: string, gpu?: boolean}} Backend
 * @typedef {{choice: "remembered" | "measuring" | "measured", tried: Record<string, number | string>, measuredAt?: string | null}} Choice
 * @typedef {EngineInfo & {where: string, fallbackFrom?: string} & Choice} ModelInfo
 *   what a model's engine reported at start, and how its backend was chosen
 * @typedef {Partial<Record<Model, ModelInfo>>} Engines
 * @typedef {{sizer: import("./sizers.js").Sizer, maxHz: number, targetHz: number}} Schedule how the scheduler runs a model
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
 * The engine and backend choice: starts the engines (segmentation and faces, each in its
 * worker) on the fastest backend of this device and hands each started runner to `schedule`.
 *
 * Backends are chosen by measuring: the first visit starts on the backend that needs no GPU,
 * times the others in the background and switches if one is clearly faster; the outcome is
 * remembered for this device (BackendMemory), so later visits start on the winner straight
 * away. GPU backends are not tried where the graphics renderer is itself software.
 */
export class EngineChoice {
  #memory;
  #schedule;
  #failed;
  /** @type {Engines} */
  #info = {};

  /**
   * @param {{schedule: (model: Model, runner: ModelRunner, options: Schedule) => void, failed: (failure: Failure) => void, memory?: BackendMemory}} parts
   *   `schedule` runs a model with a runner from now on (a faster one replaces the first); `failed` hears of an engine
   *   that did not start and was replaced (BodyPix by the selfie models)
   */
  constructor({ schedule, failed, memory = new BackendMemory() }) {
    this.#schedule = schedule;
    this.#failed = failed;
    this.#memory = memory;
  }

  /**
   * Start both models' engines; resolves once each runs (backends may still be timed after).
   * @param {{segmentation: "selfie" | "bodypix", faces: string, workers: boolean}} choice
   * @returns {Promise<void>}
   */
  async start({ segmentation, faces, workers }) {
    const where = { preferWorker: workers };
    await Promise.all([this.#startMask(segmentation, where), this.#startFaces(faces, where)]);
  }

  /** Which engine and backend each model runs on and how that was chosen (a copy). @returns {Engines} */
  engines() {
    return structuredClone(this.#info);
  }

  /** What one model runs on, for a stream's description. @param {Model} model */
  model(model) {
    return this.#info[model];
  }

  /** @param {"selfie" | "bodypix"} engine @param {{preferWorker: boolean}} where */
  async #startMask(engine, where) {
    try {
      await this.#startModel("mask", engine, {}, where);
    } catch (error) {
      if (engine === "selfie") throw error;
      // BodyPix missing or failing: say so, and segment with the selfie models instead.
      const message = /** @type {Error} */ (error).message;
      this.#failed(new Failure("analysis-mask", message.includes(MISSING_WEIGHTS) ? MISSING_WEIGHTS : message, { cause: error }));
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
    this.#schedule(model, started.runner, SCHEDULE[model](started.info));
  }
}

/** @param {Record<string, unknown>} a @param {Record<string, unknown> | null | undefined} b as remembered (maybe damaged) */
function sameOptions(a, b) {
  return !!b && Object.entries(a).every(([name, value]) => b[name] === value);
}
