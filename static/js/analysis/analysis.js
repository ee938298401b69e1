import { Failure, asFailure } from "../lib/failure.js";
import { Emitter } from "../lib/emitter.js";
import { EngineChoice } from "./engine-choice.js";
import { FACE_CHECK, keepFaces } from "./face-checks.js";
import { AnalysisScheduler } from "./scheduler.js";
import { StreamSources } from "./sources.js";
import { StreamUsers } from "./stream-users.js";
import { StreamWants } from "./stream-wants.js";

export { FACE_PRESETS } from "./engine-choice.js";

/**
 * @typedef {import("./scheduler.js").Model} Model
 * @typedef {import("./sources.js").SourceChoice} SourceChoice
 * @typedef {import("./engine-choice.js").ModelInfo} ModelInfo
 * @typedef {import("./engine-choice.js").Engines} Engines
 * @typedef {{segmentation?: "selfie" | "bodypix", faces?: string, workers?: boolean}} EnginesWanted
 *   the engines to start: `faces` a key of FACE_PRESETS (224 for any other); `workers: false` runs the engines
 *   on the main thread (the fallback where workers cannot)
 * @typedef {import("./stream-wants.js").Wants} Wants
 */

/**
 * The analysis of remote streams: starts the engines on the fastest backend of
 * this device (EngineChoice, engine-choice.js), feeds them through one scheduler
 * and answers what is known about each stream.
 *
 * A remote stream's sender can share its own analysis (sharing/): what it
 * sends is `receive`d here, and while it arrives at a useful rate (the source
 * policy, StreamSources in sources.js, with sharing's SourcePicker for each
 * stream) this page analyses nothing of that stream; otherwise, and
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
  /** the engine and backend choice */
  #engines;
  /** stream bookkeeping: per stream, who asked for it (addStream's `user`) and its face tracker */
  #users = new StreamUsers();
  /** the source policy: per remote stream whose sender has shared something, where its results come from */
  #sources;
  /** what this page wants shared: per stream, the face detail asked for and the wants last announced */
  #asks = new StreamWants();
  /** @type {Promise<Engines> | null} */
  #started = null;
  /** @type {EnginesWanted} the engines `run` starts */
  #wanted;

  /**
   * @param {{monitor: import("./frame-monitor.js").FrameMonitor, newSourceChoice: () => SourceChoice, engines?: EnginesWanted,
   *   memory?: import("./backend-memory.js").BackendMemory}} parts
   *   `newSourceChoice` makes the choice for one remote stream, when its sender first shares something; `engines`: what `run` starts
   */
  constructor({ monitor, newSourceChoice, engines = {}, memory }) {
    super();
    this.#wanted = engines;
    this.#sources = new StreamSources({ newChoice: newSourceChoice, recheck: (id) => this.#pickSource(id) });
    this.#scheduler = new AnalysisScheduler({ monitor });
    this.#engines = new EngineChoice({
      memory,
      schedule: (model, runner, options) => this.#scheduler.addModel(model, runner, options),
      failed: (failure) => this.emit("error", failure),
    });
    this.#scheduler.on("result", (id, model, result, frame) => {
      if (model === "faces") result.faces = this.#shownFaces(id, result.faces);
      this.emit("result", id, model, frame);
    });
    this.#scheduler.on("error", (model, error) => this.emit("error", new Failure(`analysis-${model}`, error.message, { cause: error })));
  }

  /**
   * Start the engines given at construction, once (later calls do nothing): what the scene, your
   * own share and a remote tile with video call (connected by the wiring). An engine that cannot
   * start is an `error` event (code `analysis`).
   */
  run() {
    this.start(this.#wanted).catch((error) => this.emit("error", asFailure(error, "analysis", "Video analysis could not start")));
  }

  /**
   * Start the engines once (later calls return the same promise).
   * @param {EnginesWanted} [choice]
   */
  start({ segmentation = "selfie", faces = "224", workers = true } = {}) {
    // Each model joins the running scheduler as soon as its engine is ready.
    this.#scheduler.start();
    this.#started ??= this.#engines.start({ segmentation, faces, workers }).then(() => {
      this.emit("ready", this.engines());
      return this.engines();
    });
    return this.#started;
  }

  /**
   * The faces to show of what the detector found in a stream analysed here: boxes on the person's
   * body rather than the face, or off the person, are dropped (face-checks.js), and a face found
   * once and never again is noise: faces show from their second sighting (face-tracks.js).
   * Shared faces went through the same on their sender's page.
   * @param {string} id @param {import("./engines/faces.js").Face[]} found
   */
  #shownFaces(id, found) {
    const tracker = this.#users.tracker(id);
    const mask = this.#scheduler.latest(id)?.results.mask?.mask ?? null;
    return tracker.update(keepFaces(found, FACE_CHECK, mask, tracker.shown), performance.now());
  }

  /** Which engine and backend each model runs on and how that was chosen (a copy). */
  engines() {
    return this.#engines.engines();
  }

  /**
   * Analyse a stream for `user` (several can want the same one: your own camera for the scene
   * and for your peers); it is analysed until the last of them removes it.
   * @param {string} id @param {HTMLVideoElement} video @param {string} [user]
   * @param {{fingerprint?: (frame: CanvasImageSource) => unknown}} [options] noted of each frame whose mask is
   *   computed, given with the `result` event
   */
  addStream(id, video, user = "tile", options = {}) {
    this.#users.add(id, user);
    if (this.#scheduler.latest(id)?.video !== video) this.#scheduler.addStream(id, video);
    if (options.fingerprint) this.#scheduler.setFingerprint(id, options.fingerprint);
    this.#applyFaceDetail(id);
  }

  /** @param {string} id @param {string} [user] */
  removeStream(id, user = "tile") {
    if (!this.#users.remove(id, user)) return;
    this.#scheduler.removeStream(id);
    this.#asks.forget(id); // whoever analyses it again asks again after addStream
    this.#sources.forget(id);
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
    return this.#asks.wants(id, this.#analysed(id));
  }

  /** Whether this page analyses a stream at all (switched on, and analysis on). @param {string} id */
  #analysed(id) {
    return Boolean(this.#scheduler.latest(id)?.enabled) && this.enabled;
  }

  /**
   * Ask the face model for landmarks and expressions of one stream (off until
   * something shows them). Each `source` (the tile, the scene) asks for itself;
   * the model adds what any of them wants.
   * @param {string} id @param {{landmarks: boolean, expressions: boolean}} detail @param {string} [source]
   */
  setFaceDetail(id, detail, source = "tile") {
    this.#asks.setDetail(id, source, detail);
    this.#applyFaceDetail(id);
  }

  /** @param {string} id */
  #applyFaceDetail(id) {
    this.#scheduler.setWants(id, "faces", this.#asks.detail(id));
    this.#announce(id);
  }

  /** Say what this page wants of a stream when that changed. @param {string} id */
  #announce(id) {
    if (!this.#scheduler.latest(id)) return;
    const wants = this.#asks.changed(id, this.#analysed(id));
    if (wants) this.emit("wants", id, wants);
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
    const [maskInfo, facesInfo] = [this.#engines.model("mask"), this.#engines.model("faces")];
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
      engine: { mask: maskInfo?.engine ?? null, faces: facesInfo?.engine ?? null },
      where: { mask: maskInfo?.where ?? null, faces: facesInfo?.where ?? null },
      backend: { mask: maskInfo?.backend ?? null, faces: facesInfo?.backend ?? null },
      enabled: stream.enabled && this.enabled,
    };
  }
}

/** @param {number | undefined} value */
function round(value) {
  return value === undefined ? null : Math.round(value * 1000) / 1000;
}
