import { Emitter } from "../lib/emitter.js";

/**
 * Who is speaking, from microphone levels sampled several times a second: each
 * remote one from its audio receiver (mesh.audioLevel), your own from a Web
 * Audio analyser. Someone speaks while their level passed the threshold within
 * the last `HOLD_MS` (so the ring does not flicker between words); the active
 * speaker is the one heard most over the last second or so, and changes only
 * when someone else is clearly louder. Emits `change(speaking, active)`.
 */

/** Levels (0–1, linear) above this are a voice; background noise stays under it. */
export const SPEAKING_LEVEL = 0.02;
const HOLD_MS = 600;
/** How fast the "heard most" measure follows the level (per sample, at the default interval). */
const ENERGY_SMOOTHING = 0.08;
/** Someone else becomes the active speaker when heard this much more than the current one. */
const TAKEOVER = 1.5;

/** @extends {Emitter<{change: [speaking: Set<string>, active: string | null]}>} */
export class SpeakingDetector extends Emitter {
  #levels;
  #now;
  /** @type {Map<string, {lastLoud: number, energy: number}>} */
  #people = new Map();
  /** @type {Set<string>} */
  #speaking = new Set();
  /** @type {string | null} */
  #active = null;
  /** The last one who was the active speaker, kept through the silences (for "pin the speaker"). @type {string | null} */
  lastActive = null;
  #timer = 0;

  /**
   * @param {() => Map<string, number>} levels each person's level now, by id
   * @param {{now?: () => number}} [options]
   */
  constructor(levels, { now = () => performance.now() } = {}) {
    super();
    this.#levels = levels;
    this.#now = now;
  }

  /** Sample every `intervalMs` until `stop`. */
  start(intervalMs = 50) {
    this.stop();
    this.#timer = window.setInterval(() => this.sample(), intervalMs);
  }

  stop() {
    clearInterval(this.#timer);
    this.#timer = 0;
  }

  /** Take one sample of every level (the timer's work; tests call it directly). */
  sample() {
    const now = this.#now();
    const levels = this.#levels();
    for (const id of this.#people.keys()) if (!levels.has(id)) this.#people.delete(id);
    for (const [id, level] of levels) {
      const person = this.#people.get(id) ?? { lastLoud: -Infinity, energy: 0 };
      if (level >= SPEAKING_LEVEL) person.lastLoud = now;
      person.energy += ENERGY_SMOOTHING * (level - person.energy);
      this.#people.set(id, person);
    }
    const speaking = new Set([...this.#people].filter(([, person]) => now - person.lastLoud <= HOLD_MS).map(([id]) => id));
    const active = this.#choose(speaking);
    if (active) this.lastActive = active;
    if (active !== this.#active || !sameSet(speaking, this.#speaking)) {
      this.#speaking = speaking;
      this.#active = active;
      this.emit("change", new Set(speaking), active);
    }
  }

  /** @param {Set<string>} speaking */
  #choose(speaking) {
    if (speaking.size === 0) return null;
    const energy = (/** @type {string} */ id) => this.#people.get(id)?.energy ?? 0;
    const loudest = [...speaking].reduce((best, id) => (energy(id) > energy(best) ? id : best));
    const current = this.#active;
    if (current && speaking.has(current) && energy(loudest) < energy(current) * TAKEOVER) return current;
    return loudest;
  }
}

/** @param {Set<string>} a @param {Set<string>} b */
function sameSet(a, b) {
  return a.size === b.size && [...a].every((item) => b.has(item));
}
