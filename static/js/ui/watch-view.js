/**
 * The watch page's view: the video, the live badge and the status line. It shows
 * one of the broadcast's states: `none` (not started yet), `starting`, `live`,
 * `ended`, `refused` (a wrong watch link) or `failed`.
 *
 * @typedef {"none" | "starting" | "live" | "ended" | "refused" | "failed"} WatchState
 */
const WORDS = {
  none: "Waiting for the broadcast to start…",
  starting: "Starting…",
  live: "",
  ended: "The broadcast has ended.",
  refused: "This watch link is not valid (or belongs to an earlier broadcast).",
  failed: "The broadcast cannot be played here.",
};

export class WatchView {
  #page;
  /** @type {WatchState} */
  #state = "none";

  /** @param {HTMLElement} page */
  constructor(page) {
    this.#page = page;
  }

  get state() {
    return this.#state;
  }

  get video() {
    return /** @type {HTMLVideoElement} */ (this.#part("video"));
  }

  /** @param {WatchState} state @param {string} [detail] words of its own instead of the state's */
  show(state, detail) {
    this.#state = state;
    this.#part("badge").hidden = state !== "live";
    this.#part("status").textContent = detail ?? WORDS[state];
  }

  /** @param {string} name */
  #part(name) {
    return /** @type {HTMLElement} */ (this.#page.querySelector(`[data-watch="${name}"]`));
  }
}
