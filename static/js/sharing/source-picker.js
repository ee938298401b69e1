/**
 * Where one remote stream's analysis comes from: its sender, while the
 * sender's results arrive often enough to be useful, or this page's own
 * analysis. A stream goes to its sender once every model it needs arrived at
 * `minHz` or more over the last `windowMs`, and back to local analysis when
 * one arrived at less than `leaveBelow` of that over the last `leaveMs` (a
 * sender near the bar, or one busy for a moment, does not make the stream
 * flap between the two: each flip costs this page a burst of inferences).
 *
 * A sender whose frames arrive damaged `damageLimit` times within
 * `damageWindowMs` (more trailers than a frame carries, sizes that do not add
 * up: never an honest page's frames, as SRTP hands on frames exactly as sent)
 * is dropped: the stream stays local for as long as this picker lives, that is
 * until the peer leaves; what it sends is not looked at again.
 *
 * @typedef {import("../analysis/scheduler.js").Model} Model
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
  /** @type {number[]} times of the damaged frames within the damage window */
  #damage = [];
  #damageLimit;
  #damageWindowMs;
  #dropped = false;

  /**
   * @param {{windowMs?: number, leaveMs?: number, minHz?: Record<Model, number>, leaveBelow?: number, damageLimit?: number,
   *   damageWindowMs?: number}} [options] the defaults: a mask 5 times and faces twice a second over one second to come,
   *   less than 60 % of that over two to leave; dropped at the 5th damaged frame within 10 s
   */
  constructor({ windowMs = 1000, leaveMs = 2000, minHz = { mask: 5, faces: 2 }, leaveBelow = 0.6, damageLimit = 5, damageWindowMs = 10_000 } = {}) {
    this.#windowMs = windowMs;
    this.#leaveMs = leaveMs;
    this.#minHz = minHz;
    this.#leaveBelow = leaveBelow;
    this.#damageLimit = damageLimit;
    this.#damageWindowMs = damageWindowMs;
  }

  get source() {
    return this.#source;
  }

  /** Whether the sender was dropped for damaged frames. */
  get dropped() {
    return this.#dropped;
  }

  /** A frame of the sender arrived damaged. @param {number} now ms */
  damaged(now) {
    if (this.#dropped) return;
    this.#damage = [...this.#damage.filter((time) => time > now - this.#damageWindowMs), now];
    if (this.#damage.length < this.#damageLimit) return;
    this.#dropped = true;
    this.#source = "local";
    this.#arrivals = { mask: [], faces: [] };
  }

  /** A shared result of `model` arrived. @param {Model} model @param {number} now ms */
  arrived(model, now) {
    if (this.#dropped) return;
    this.#arrivals[model].push(now);
    this.#forget(model, now);
  }

  /** Shared results a second of `model` over the last `windowMs` (or `over`). @param {Model} model @param {number} now */
  rate(model, now, over = this.#windowMs) {
    this.#forget(model, now);
    return (this.#arrivals[model].filter((time) => time > now - over).length * 1000) / over;
  }

  /**
   * Decide again. A stream that needs nothing keeps its source; a dropped sender's stream stays local.
   * @param {Record<Model, boolean>} needs @param {number} now
   * @returns {Source}
   */
  pick(needs, now) {
    const models = /** @type {Model[]} */ (Object.keys(needs)).filter((model) => needs[model]);
    if (!models.length || this.#dropped) return this.#source;
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
