/**
 * Where one remote stream's analysis comes from: its sender, while the
 * sender's results arrive often enough to be useful, or this page's own
 * analysis. Results are counted over the last `windowMs`; a stream goes to
 * its sender once every model it needs arrives at `minHz` or more, and back
 * to local analysis when one falls below `leaveBelow` of that (a sender near
 * the bar does not make the stream flap between the two).
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
  #minHz;
  #leaveBelow;

  /**
   * @param {{windowMs?: number, minHz?: Record<Model, number>, leaveBelow?: number}} [options]
   *   the defaults: a mask 5 times and faces twice a second, over one second, kept down to 60 % of that
   */
  constructor({ windowMs = 1000, minHz = { mask: 5, faces: 2 }, leaveBelow = 0.6 } = {}) {
    this.#windowMs = windowMs;
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

  /** Shared results a second of `model` over the window. @param {Model} model @param {number} now */
  rate(model, now) {
    this.#forget(model, now);
    return (this.#arrivals[model].length * 1000) / this.#windowMs;
  }

  /**
   * Decide again. A stream that needs nothing keeps its source.
   * @param {Record<Model, boolean>} needs @param {number} now
   * @returns {Source}
   */
  pick(needs, now) {
    const models = /** @type {Model[]} */ (Object.keys(needs)).filter((model) => needs[model]);
    if (!models.length) return this.#source;
    const bar = this.#source === "sender" ? this.#leaveBelow : 1;
    this.#source = models.every((model) => this.rate(model, now) >= this.#minHz[model] * bar) ? "sender" : "local";
    return this.#source;
  }

  /** @param {Model} model @param {number} now */
  #forget(model, now) {
    const arrivals = this.#arrivals[model];
    while (arrivals.length && arrivals[0] <= now - this.#windowMs) arrivals.shift();
  }
}
