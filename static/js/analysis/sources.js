/**
 * @typedef {import("./scheduler.js").Model} Model
 * @typedef {{readonly dropped: boolean, arrived: (model: Model, now: number) => void, damaged: (now: number) => void,
 *   rate: (model: Model, now: number) => number, pick: (needs: Record<Model, boolean>, now: number) => "sender" | "local"}} SourceChoice
 *   where one remote stream's results come from (sharing/source-picker.js SourcePicker, handed in by main.js:
 *   the choice belongs to sharing, a floor above this one)
 */

/** How often (ms) a stream with a sharing sender is looked at again, to notice results that stopped. */
const SOURCE_CHECK_MS = 250;

/**
 * The source policy: for each remote stream whose sender has shared something, one
 * SourceChoice that says whether its results come from the sender or from this page.
 * Streams whose sender never shared anything have no choice here (they are analysed locally).
 *
 * Shared results stop coming without a word, so while any stream has a choice `recheck(id)`
 * is called for each of them every `checkMs`, to decide again.
 */
export class StreamSources {
  /** @type {() => SourceChoice} */
  #newChoice;
  /** @type {(id: string) => void} */
  #recheck;
  #checkMs;
  /** @type {Map<string, SourceChoice>} per remote stream whose sender has shared something */
  #choices = new Map();
  /** @type {ReturnType<typeof setInterval> | 0} */
  #timer = 0;

  /**
   * @param {{newChoice: () => SourceChoice, recheck: (id: string) => void, checkMs?: number}} parts
   *   `newChoice` makes the choice for one remote stream, when its sender first shares something
   */
  constructor({ newChoice, recheck, checkMs = SOURCE_CHECK_MS }) {
    this.#newChoice = newChoice;
    this.#recheck = recheck;
    this.#checkMs = checkMs;
  }

  /** A result of `model` shared by the stream's sender arrived. @param {string} id @param {Model} model @param {number} now */
  arrived(id, model, now) {
    this.#choice(id).arrived(model, now);
  }

  /** A frame of the stream's sender arrived damaged. @param {string} id @param {number} now */
  damaged(id, now) {
    this.#choice(id).damaged(now);
  }

  /**
   * Where a stream's results should come from now, or null for a stream whose sender has shared
   * nothing (analysed here); keeps rechecking while any stream has a choice.
   * @param {string} id @param {Record<Model, boolean>} needs what this page would analyse of it
   * @param {number} now @returns {"sender" | "local" | null}
   */
  pick(id, needs, now) {
    const choice = this.#choices.get(id);
    if (!choice) return null;
    const source = choice.pick(needs, now);
    this.#watch();
    return source;
  }

  /** Whether the stream's sender was dropped (its frames kept arriving damaged). @param {string} id */
  dropped(id) {
    return Boolean(this.#choices.get(id)?.dropped);
  }

  /**
   * Shared results a second, counted over the last second: they come in bursts (a mask and faces
   * on one frame, two masks on the frame after a late one), which a smoothed interval misreads.
   * @param {string} id a stream with a choice @param {number} now
   */
  rates(id, now) {
    const choice = /** @type {SourceChoice} */ (this.#choices.get(id)); // a stream has a sender source only through its choice
    return { mask: choice.rate("mask", now), faces: choice.rate("faces", now) };
  }

  /** The stream is gone: whoever shows it again starts with a new choice. @param {string} id */
  forget(id) {
    this.#choices.delete(id);
  }

  /** @param {string} id */
  #choice(id) {
    const choice = this.#choices.get(id) ?? this.#newChoice();
    this.#choices.set(id, choice);
    return choice;
  }

  #watch() {
    this.#timer ||= setInterval(() => {
      for (const id of this.#choices.keys()) this.#recheck(id);
      if (this.#choices.size) return;
      clearInterval(this.#timer);
      this.#timer = 0;
    }, this.#checkMs);
  }
}
