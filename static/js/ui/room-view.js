import { Emitter } from "../lib/emitter.js";

/**
 * The room page's frame: which part shows (the pre-join form, the call, the
 * "you left" page), the people count and the link state in the top bar.
 * Emits `rejoin` when the person asks to come back after leaving.
 */
/** @extends {Emitter<{rejoin: []}>} */
export class RoomView extends Emitter {
  #element;
  #prejoin;

  /** @param {HTMLElement} page the room page's root @param {import("./prejoin.js").PreJoin} prejoin */
  constructor(page, prejoin) {
    super();
    this.#prejoin = prejoin;
    this.#element = (/** @type {string} */ id) => /** @type {HTMLElement} */ (page.querySelector(`#${id}`));
    this.#element("rejoin").addEventListener("click", () => this.emit("rejoin"));
  }

  /** @param {"prejoin" | "call" | "left" | null} section @param {string} [note] why you left, on the "left" page */
  show(section, note = "") {
    this.#element("call").hidden = section !== "call";
    this.#element("left").hidden = section !== "left";
    this.#element("left-note").textContent = note;
    this.#element("left-note").hidden = !note;
    if (section !== "prejoin") this.#prejoin.hide();
  }

  /** @param {number | null} count people in the room, you included; null when not in it */
  setPeopleCount(count) {
    this.#element("people-count").textContent = count === null ? "" : `${count} in the room`;
  }

  /** @param {string | null} text what the link to the server is doing, or null while it is fine */
  setLinkState(text) {
    const state = this.#element("link-state");
    state.hidden = text === null;
    state.textContent = text ?? "";
  }
}
