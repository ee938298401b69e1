import { Emitter } from "../lib/emitter.js";
import { grab } from "./frames.js";

/**
 * Shares the analysis budget across remote streams.
 *
 * Each model (`mask`, `faces`) has one runner and at most one inference in
 * flight. Its loop takes the next stream in round-robin order that has a new
 * video frame, grabs that frame (see frames.js; nothing waits in a queue:
 * frames in between are simply not analysed), runs it at the size the model's
 * sizer picks for that stream (see sizers.js) and keeps the result as the
 * stream's latest. A per-stream rate cap and a delay that grows when the
 * page drops below `targetFps` leave time for drawing.
 *
 * Each model also has a rate it should reach on every stream (`targetHz`):
 * while one falls short and another is above its own, the one ahead pauses
 * after each inference for as long as that inference took, so where the
 * models share the cores the one behind gets that time.
 *
 * A stream whose results come from elsewhere (its sender shares them, see
 * sharing/) is not analysed here while `source` says so; what arrives is
 * recorded with `record` like a result of our own.
 *
 * Events: `result(streamId, model, result, frame)` (`frame.timestamp`: the analysed
 * VideoFrame's, µs, where frames are VideoFrames), `error(model, error)`.
 *
 * @typedef {"mask" | "faces"} Model
 * @typedef {{mask?: {mask: import("./masks.js").PersonMask}, faces?: {faces: import("./engines/faces.js").Face[], inputSize?: number}}} Results
 *   the latest result of each model
 * @typedef {{run: (frame: VideoFrame | ImageBitmap, size: {width: number, height: number}, options?: object) => Promise<{result: any, ms: number}>,
 *   terminate?: () => void}} ModelRunner an engine's runner (runner.js)
 * @typedef {{runner: ModelRunner, sizer: Sizer, maxHz: number, targetHz: number, delayMs: number, waitMs: number, failures: number}} Slot
 */
/** @extends {Emitter<{result: [id: string, model: Model, result: any, frame: {timestamp: number | null, fingerprint: unknown}], error: [model: Model, error: Error]}>} */
export class AnalysisScheduler extends Emitter {
  /** @type {Map<Model, Slot>} */
  #models = new Map();
  /** @type {Map<string, StreamState>} */
  #streams = new Map();
  /** @type {Map<Model, number>} round-robin position per model */
  #cursor = new Map();
  #enabled = true;
  #running = false;
  #monitor;
  #targetFps;

  /** @param {{monitor: {fps: number}, targetFps?: number}} options */
  constructor({ monitor, targetFps = 24 }) {
    super();
    this.#monitor = monitor;
    this.#targetFps = targetFps;
  }

  /**
   * Add a model, or give it another runner: the old one finishes its frame and is terminated.
   * @param {Model} model @param {ModelRunner} runner
   * @param {{sizer: Sizer, maxHz: number, targetHz?: number}} options results a second per stream: at most `maxHz`,
   *   and `targetHz` before the other models get more than theirs
   */
  addModel(model, runner, { sizer, maxHz, targetHz = 0 }) {
    this.#models.set(model, { runner, sizer, maxHz, targetHz, delayMs: 0, waitMs: 0, failures: 0 });
    this.#cursor.set(model, 0);
    if (this.#running) this.#pump(model);
  }

  /** @param {string} id @param {HTMLVideoElement} video */
  addStream(id, video) {
    this.#streams.set(id, new StreamState(video));
  }

  /** @param {string} id */
  removeStream(id) {
    this.#streams.delete(id);
  }

  /** Analysis of one stream on or off; its share goes to the others. @param {string} id @param {boolean} on */
  setStreamEnabled(id, on) {
    const stream = this.#streams.get(id);
    if (stream) stream.enabled = on;
  }

  /** @param {boolean} on */
  setEnabled(on) {
    this.#enabled = on;
  }

  /**
   * Who analyses a stream from now on: this page (`local`), or its sender. Counted in `sourceChanges`.
   * @param {string} id @param {"local" | "sender"} source @returns {boolean} whether the source changed
   */
  setSource(id, source) {
    const stream = this.#streams.get(id);
    if (!stream || stream.source === source) return false;
    stream.source = source;
    stream.sourceChanges += 1;
    return true;
  }

  /**
   * What to note of each frame of a stream whose mask is computed here (StreamState `fingerprint`).
   * @param {string} id @param {(frame: CanvasImageSource) => unknown} fingerprint
   */
  setFingerprint(id, fingerprint) {
    const stream = this.#streams.get(id);
    if (stream) stream.fingerprint = fingerprint;
  }

  /** What a model should add for one stream (say, landmarks), passed with each of its frames. @param {string} id @param {Model} model @param {object} options */
  setWants(id, model, options) {
    const stream = this.#streams.get(id);
    if (stream) stream.wants[model] = options;
  }

  get enabled() {
    return this.#enabled;
  }

  /** @param {string} id */
  latest(id) {
    return this.#streams.get(id) ?? null;
  }

  streamIds() {
    return [...this.#streams.keys()];
  }

  /** The pause after each inference per model (ms), for the stats overlay: for the page, or for another model. */
  delays() {
    return Object.fromEntries([...this.#models].map(([model, slot]) => [model, Math.round(slot.waitMs)]));
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    for (const model of this.#models.keys()) this.#pump(model);
  }

  stop() {
    this.#running = false;
  }

  /** @param {Model} model */
  async #pump(model) {
    const slot = /** @type {Slot} */ (this.#models.get(model)); // pumped only once added
    while (this.#running && this.#models.get(model) === slot) {
      const picked = this.#enabled ? this.#next(model, slot) : null;
      if (!picked) {
        await sleep(IDLE_MS);
        continue;
      }
      const [id, stream] = picked;
      // Counted as it starts: one under way when the stream goes to its sender was started while it was local.
      stream.inferences[model] = (stream.inferences[model] ?? 0) + 1;
      let busyMs = 0;
      try {
        const start = performance.now();
        const size = slot.sizer.size(stream);
        const frame = await grab(stream.video, size);
        const timestamp = "timestamp" in frame ? frame.timestamp : null; // read before the frame is handed over
        const fingerprint = model === "mask" && stream.fingerprint ? await stream.fingerprint(frame) : null; // before the engine takes it
        const { result, ms } = await slot.runner.run(frame, size, stream.wants[model]);
        busyMs = performance.now() - start;
        slot.failures = 0;
        slot.sizer.seen(stream, size, result);
        // A stream switched off, removed or given to its sender meanwhile keeps what it showed before.
        if (this.#streams.get(id) === stream && stream.enabled && this.#enabled && stream.source === "local") {
          stream.record(model, result, ms);
          this.emit("result", id, model, result, { timestamp, fingerprint });
        }
      } catch (error) {
        slot.failures += 1;
        this.emit("error", model, /** @type {Error} */ (error)); // runners reject with a Failure
        await sleep(Math.min(5000, 200 * 2 ** slot.failures)); // a failing engine backs off
      }
      this.#adapt(slot);
      slot.waitMs = Math.max(slot.delayMs, this.#aheadOfOthers(model, slot) ? busyMs : 0);
      if (slot.waitMs > 0) await sleep(slot.waitMs);
    }
    if (this.#models.get(model) !== slot) slot.runner.terminate?.(); // replaced by a faster one
  }

  /** The next stream due for `model`, round-robin from the last one served. @param {Model} model @param {Slot} slot */
  #next(model, slot) {
    const entries = [...this.#streams.entries()];
    const start = this.#cursor.get(model) ?? 0;
    const now = performance.now();
    for (let step = 0; step < entries.length; step += 1) {
      const index = (start + step) % entries.length;
      const [, stream] = entries[index];
      if (stream.due(model, now, slot.maxHz)) {
        this.#cursor.set(model, index + 1);
        return entries[index];
      }
    }
    return null;
  }

  /**
   * Whether `model` is known to reach its target rate on every stream while another model
   * is known to fall short of its own on one. A rate not known yet counts neither way.
   * @param {Model} model @param {Slot} slot
   */
  #aheadOfOthers(model, slot) {
    const now = performance.now();
    const enabled = [...this.#streams.values()].filter((stream) => stream.enabled);
    const rates = (/** @type {Model} */ name) => enabled.map((stream) => stream.rate(name, now));
    if (!enabled.length || !rates(model).every((hz) => hz !== undefined && hz >= slot.targetHz)) return false;
    return [...this.#models].some(([other, { targetHz }]) => other !== model && rates(other).some((hz) => hz !== undefined && hz < targetHz));
  }

  /** Slow down while the page draws below the target frame rate; speed up again when it recovers. @param {Slot} slot */
  #adapt(slot) {
    const fps = this.#monitor.fps;
    if (fps && fps < this.#targetFps) slot.delayMs = Math.min(MAX_DELAY_MS, slot.delayMs * 1.3 + 5);
    else if (fps >= this.#targetFps + 4) slot.delayMs = Math.max(0, slot.delayMs * 0.7 - 2);
  }
}

/** @typedef {import("./sizers.js").Sizer} Sizer */

const IDLE_MS = 30;
const RECENT_RESULTS = 10;
// The most the scheduler holds a model back between inferences. A page that stays slow with
// analysis held back is slow for other reasons (decoding, encoding, other tabs); each model
// then still looks at the streams about twice a second, so effects keep following people.
const MAX_DELAY_MS = 500;

/** One remote stream: its video, switches and the latest result of each model. */
export class StreamState {
  enabled = true;
  /** @type {"local" | "sender"} who analyses this stream: this page, or its sender (then this page does not) */
  source = "local";
  /** @type {Partial<Record<Model, number>>} inferences this page started on the stream */
  inferences = {};
  /** times `source` changed */
  sourceChanges = 0;
  /** @type {Partial<Record<Model, number | null>>} per model: the RTP time of the frame its latest result belongs to, where known */
  frames = {};
  /**
   * @type {Partial<Record<Model, Array<{frame: number, result: any}>>>} per model, its last results that name their
   * frame, oldest first: a shared mask can arrive before its frame is shown, and then the one before is drawn
   */
  recent = {};
  /**
   * @type {((frame: CanvasImageSource) => unknown) | null} what to note of each frame whose mask is computed here,
   * before the engine takes it (your own camera, shared: sharing/fingerprint.js); the result event carries it (awaited)
   */
  fingerprint = null;
  /** @type {Partial<Record<Model, object>>} per model: options sent with each frame */
  wants = {};
  /** @type {Results} */
  results = {};
  /** @type {Partial<Record<Model, number>>} ms the last inference took */
  ms = {};
  /** @type {Partial<Record<Model, number>>} results per second, smoothed */
  hz = {};
  /** @type {Partial<Record<Model, number>>} results so far */
  count = {};
  /** @type {Partial<Record<Model, number>>} when each model last took a frame of this stream */
  #takenAt = {};
  /** @type {Partial<Record<Model, number>>} */
  #finishedAt = {};
  /** @type {Partial<Record<Model, number>>} video frames seen at the last grab */
  #framesAt = {};

  /** @param {HTMLVideoElement} video */
  constructor(video) {
    this.video = video;
  }

  /**
   * Ready for `model`: playing, a frame newer than the last one analysed, and not above
   * `maxHz`. A stream that is due counts as taken by `model` from `now` on.
   * @param {Model} model @param {number} now @param {number} maxHz
   */
  due(model, now, maxHz) {
    const video = this.video;
    if (!this.enabled || this.source !== "local" || video.readyState < 2 || !video.videoWidth) return false;
    if (now - (this.#takenAt[model] ?? -Infinity) < 1000 / maxHz) return false;
    const frames = video.getVideoPlaybackQuality().totalVideoFrames;
    if (frames === this.#framesAt[model]) return false;
    this.#framesAt[model] = frames;
    this.#takenAt[model] = now;
    return true;
  }

  /**
   * Results a second of `model` for this stream: the smoothed rate, or lower once the next
   * result is later than that rate would have it; undefined before the second result.
   * @param {Model} model
   */
  rate(model, now = performance.now()) {
    const hz = this.hz[model];
    const finishedAt = /** @type {number} */ (this.#finishedAt[model]); // known from the first result on, before `hz`
    return hz === undefined ? undefined : Math.min(hz, 1000 / Math.max(1, now - finishedAt));
  }

  /**
   * @param {Model} model @param {any} result the engine's, as it came @param {number | undefined} ms its inference (unknown when shared)
   * @param {number | null} [frame] the RTP time of the frame it belongs to, where known
   */
  record(model, result, ms, frame = null) {
    this.frames[model] = frame;
    if (frame !== null) this.recent[model] = [...(this.recent[model] ?? []).slice(1 - RECENT_RESULTS), { frame, result }];
    const now = performance.now();
    const previous = this.#finishedAt[model];
    if (previous !== undefined) {
      const rate = 1000 / Math.max(1, now - previous);
      this.hz[model] = this.hz[model] === undefined ? rate : this.hz[model] * 0.8 + rate * 0.2;
    }
    this.#finishedAt[model] = now;
    this.count[model] = (this.count[model] ?? 0) + 1;
    this.results[model] = result;
    this.ms[model] = ms;
  }
}

/** @param {number} ms @returns {Promise<void>} */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
