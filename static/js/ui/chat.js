import { Emitter } from "../lib/emitter.js";

/**
 * The chat panel: beside the call on a desktop, a sheet over it on a phone; it
 * can be closed, and counts what came meanwhile. Message text is always set as
 * text, never parsed as HTML. Emits `send(text)`, `open(open, hadFocus)` (`hadFocus`: it
 * closed with the keyboard inside, which should go back where it came from) and `unread(count)`.
 * @extends {Emitter<{send: [text: string], open: [open: boolean, hadFocus: boolean], unread: [count: number]}>}
 */
export class ChatPanel extends Emitter {
  #panel;
  #log;
  #form;
  #seen = new Set();
  #unread = 0;

  /** @param {HTMLElement} panel holding the log (`ol`), the form and a close button */
  constructor(panel) {
    super();
    this.#panel = panel;
    this.#log = /** @type {HTMLOListElement} */ (panel.querySelector("ol"));
    const form = /** @type {HTMLFormElement} */ (panel.querySelector("form"));
    this.#form = form;
    panel.querySelector("[data-action=toggle-chat]")?.addEventListener("click", () => this.setOpen(false));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.setOpen(false);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("text"));
      if (!input.value.trim()) return;
      this.emit("send", input.value);
      input.value = "";
    });
  }

  /** @param {import("../call/signaling.js").ChatMessage} message @param {string} selfId */
  add(message, selfId) {
    if (this.#seen.has(message.id)) return; // history and live delivery may overlap after a rejoin
    this.#seen.add(message.id);
    const item = document.createElement("li");
    item.className = message.from === selfId ? "mine" : "";
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = `${message.name} · ${new Date(message.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.text;
    item.append(meta, text);
    this.#log.append(item);
    this.#log.scrollTop = this.#log.scrollHeight;
    if (!this.open && message.from !== selfId) this.emit("unread", ++this.#unread);
  }

  get open() {
    return !this.#panel.hidden;
  }

  /**
   * Open (the message box gets the keyboard) or close the panel.
   * @param {boolean} open @param {{focus?: boolean}} [options] `focus: false` opens it without taking the keyboard
   */
  setOpen(open, { focus = true } = {}) {
    if (open === this.open) return;
    const hadFocus = this.#panel.contains(document.activeElement);
    this.#panel.hidden = !open;
    if (open) {
      this.#unread = 0;
      this.emit("unread", 0);
      this.#log.scrollTop = this.#log.scrollHeight;
      if (focus) /** @type {HTMLInputElement} */ (this.#form.elements.namedItem("text")).focus();
    }
    this.emit("open", open, hadFocus);
  }

  /** A line from the app itself (joins, leaves, failures). @param {string} text */
  note(text) {
    const item = document.createElement("li");
    item.className = "note";
    item.textContent = text;
    this.#log.append(item);
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  /** @param {boolean} enabled */
  setEnabled(enabled) {
    for (const element of this.#form.elements) /** @type {HTMLInputElement} */ (element).disabled = !enabled;
  }
}
