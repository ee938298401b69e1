/**
 * Short news of the call ("Ada joined", "Link copied"): shown for a few seconds
 * above the control bar and said by screen readers (a polite live region), also
 * while the chat, which keeps the same lines, is closed.
 */
const SHOWN_MS = 3500;

export class Announcer {
  #element;
  #timer = 0;

  /** @param {HTMLElement} element a `role="status"` element */
  constructor(element) {
    this.#element = element;
  }

  /** @param {string} text */
  say(text) {
    this.#element.textContent = text;
    this.#element.classList.add("shown");
    clearTimeout(this.#timer);
    this.#timer = window.setTimeout(() => this.#element.classList.remove("shown"), SHOWN_MS);
  }
}
