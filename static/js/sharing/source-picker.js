/**
 * Where one remote stream's analysis comes from: its sender, while the
 * sender's results arrive often enough to be useful, or this page's own
 * analysis. A stream goes to its sender once every model it needs arrived at
 * `minHz` or more over the last `windowMs`, and back to local analysis when
 * one arrived at less than `leaveBelow` of that over the last `leaveMs` (a
 * sender near the bar, or one busy for a moment, does not make the stream
 * flap between the two: each flip costs this page a burst of inferences).
 *
 * @typedef {import("../effects/scheduler.js").Model} Model
 * @typedef {"sender" | "local"} Source
 */
export class SourcePicker {
  /** @type {Record<Model, number[]>} arrival times within the window, oldest first */
  #arrivals = { mask: [], faces: [] };
  /** @type {Source} */
  #source = "local";
  #windowMs;
  #leaveMs;
  #minHz;
  #leaveBelow;

  /**
   * @param {{windowMs?: number, leaveMs?: number, minHz?: Record<Model, number>, leaveBelow?: number}} [options]
   *   the defaults: a mask 5 times and faces twice a second over one second to come, less than 60 % of that over two to leave
   */
  constructor({ windowMs = 1000, leaveMs = 2000, minHz = { mask: 5, faces: 2 }, leaveBelow = 0.6 } = {}) {
    this.#windowMs = windowMs;
    this.#leaveMs = leaveMs;
    this.#minHz = minHz;
    this.#leaveBelow = leaveBelow;
  }

  get source() {
    return this.#source;
  }

  /** A shared result of `model` arrived. @param {Model} model @param {number} now ms */
  arrived(model, now) {
    this.#arrivals[model].push(now);
    this.#forget(model, now);
  }

  /** Shared results a second of `model` over the last `windowMs` (or `over`). @param {Model} model @param {number} now */
  rate(model, now, over = this.#windowMs) {
    this.#forget(model, now);
    return (this.#arrivals[model].filter((time) => time > now - over).length * 1000) / over;
  }

  /**
   * Decide again. A stream that needs nothing keeps its source.
   * @param {Record<Model, boolean>} needs @param {number} now
   * @returns {Source}
   */
  pick(needs, now) {
    const models = /** @type {Model[]} */ (Object.keys(needs)).filter((model) => needs[model]);
    if (!models.length) return this.#source;
    const [bar, over] = this.#source === "sender" ? [this.#leaveBelow, this.#leaveMs] : [1, this.#windowMs];
    this.#source = models.every((model) => this.rate(model, now, over) >= this.#minHz[model] * bar) ? "sender" : "local";
    return this.#source;
  }

  /** @param {Model} model @param {number} now */
  #forget(model, now) {
    const arrivals = this.#arrivals[model];
    while (arrivals.length && arrivals[0] <= now - Math.max(this.#windowMs, this.#leaveMs)) arrivals.shift();
  }
}
