import { Failure } from "../lib/failure.js";
import { fitFrame } from "./frames.js";

/**
 * Runs one analysis engine, in a Web Worker when the browser can (module
 * workers with OffscreenCanvas), else on the main thread. Both runners have
 * the same calls: `init(options)`, `probe()` and `run(frame, size, options)`.
 *
 * @typedef {keyof typeof ENGINE_MODULES} EngineName
 * @typedef {{engine: string, backend: string, input: {width: number, height: number}, probeMs?: number,
 *   model?: string, detector?: "tiny" | "ssd", inputSize?: number}} EngineInfo what an engine reports about itself
 * @typedef {{init: (options: object) => Promise<EngineInfo>, probe: () => Promise<number>,
 *   run: (frame: ImageBitmap | ImageData, options?: object) => unknown, close: () => void}} Engine an engines/ module's Engine
 * @typedef {{runner: WorkerRunner | InlineRunner, info: EngineInfo & {where: string}}} StartedEngine
 */

const ENGINE_MODULES = {
  selfie: "./engines/selfie.js",
  faces: "./engines/faces.js",
  bodypix: "./engines/bodypix.js",
};

/** An engine that failed to start or to run, named in the message. @param {string} engine @param {string} message */
const engineFailure = (engine, message) => new Failure("engine", `${engine}: ${message}`);

export class WorkerRunner {
  #worker;
  #engine;
  #nextId = 1;
  /** @type {Map<number, {resolve: (data: any) => void, reject: (failure: Failure) => void}>} */
  #pending = new Map();

  /** @param {EngineName} engine */
  constructor(engine) {
    this.#engine = engine;
    this.where = "worker";
    // The engine in the address lets the server keep eval out of the policy of every engine but BodyPix (ensemble/headers.py).
    this.#worker = new Worker(new URL(`./worker.js?engine=${engine}`, import.meta.url), { type: "module", name: `analysis-${engine}` });
    this.#worker.onmessage = ({ data }) => {
      const waiting = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.type === "error") waiting?.reject(engineFailure(this.#engine, data.error.message));
      else waiting?.resolve(data);
    };
    this.#worker.onerror = (event) => {
      for (const waiting of this.#pending.values()) waiting.reject(engineFailure(this.#engine, event.message || "the worker failed"));
      this.#pending.clear();
    };
  }

  /** @param {object} options @returns {Promise<EngineInfo>} what the engine reports about itself */
  async init(options) {
    return (await this.#send({ type: "init", engine: this.#engine, options })).info;
  }

  /** Time the engine's backend now (ms a frame), to compare it with another under the same load. @returns {Promise<number>} */
  async probe() {
    return (await this.#send({ type: "probe" })).ms;
  }

  /**
   * @param {VideoFrame | ImageBitmap} frame (transferred: unusable here afterwards)
   * @param {{width: number, height: number}} size the engine's input size @param {object} [options] for this frame
   */
  async run(frame, size, options) {
    const { result, ms } = await this.#send({ type: "run", frame, size, options }, [frame]);
    return { result, ms };
  }

  terminate() {
    this.#worker.terminate();
    for (const waiting of this.#pending.values()) waiting.reject(engineFailure(this.#engine, "stopped"));
    this.#pending.clear();
  }

  /**
   * @param {object} message @param {Transferable[]} [transfer]
   * @returns {Promise<any>} the worker's answer (worker.js), not checked here
   */
  #send(message, transfer = []) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }
}

/** The main-thread fallback: the same engine module, called directly. */
export class InlineRunner {
  #engineName;
  /** @type {Engine | null} made by `init`, before anything else is called */
  #engine = null;

  /** @param {EngineName} engine */
  constructor(engine) {
    this.#engineName = engine;
    this.where = "main thread";
  }

  /** @param {object} options @returns {Promise<EngineInfo>} */
  async init(options) {
    try {
      const module = await import(ENGINE_MODULES[this.#engineName]);
      const engine = /** @type {Engine} */ (new module.Engine());
      this.#engine = engine;
      return await engine.init(options);
    } catch (error) {
      throw engineFailure(this.#engineName, /** @type {Error} */ (error).message);
    }
  }

  probe() {
    return /** @type {Engine} */ (this.#engine).probe();
  }

  /**
   * @param {VideoFrame | ImageBitmap} frame
   * @param {{width: number, height: number}} size the engine's input size @param {object} [options] for this frame
   */
  async run(frame, size, options) {
    const start = performance.now();
    const pixels = await fitFrame(frame, size);
    try {
      return { result: await /** @type {Engine} */ (this.#engine).run(pixels, options), ms: performance.now() - start };
    } catch (error) {
      throw engineFailure(this.#engineName, /** @type {Error} */ (error).message);
    } finally {
      if ("close" in pixels) pixels.close(); // ImageData has nothing to close
    }
  }

  terminate() {
    this.#engine?.close();
  }
}

/** Workers when module workers and OffscreenCanvas exist, else the main thread. */
export function workersSupported() {
  return typeof Worker !== "undefined" && typeof OffscreenCanvas !== "undefined";
}

/**
 * Start an engine, in a worker if possible; falls back to the main thread if the worker cannot start it.
 * @param {EngineName} engine @param {object} options
 * @param {{preferWorker?: boolean, fallback?: boolean}} [where] `fallback: false`: a worker or nothing
 * @returns {Promise<StartedEngine>}
 */
export async function startEngine(engine, options, { preferWorker = true, fallback = true } = {}) {
  if (preferWorker && workersSupported()) {
    const runner = new WorkerRunner(engine);
    try {
      return { runner, info: { ...(await runner.init(options)), where: runner.where } };
    } catch (error) {
      runner.terminate();
      if (!fallback) throw error;
      console.warn(`${engine} could not start in a worker; trying the main thread`, error);
    }
  }
  const runner = new InlineRunner(engine);
  return { runner, info: { ...(await runner.init(options)), where: runner.where } };
}
