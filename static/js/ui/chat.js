import { Emitter } from "../emitter.js";

/**
 * The chat panel. Message text is always set as text, never parsed as HTML. Emits `send(text)`.
 * @extends {Emitter<{send: [text: string]}>}
 */
export class ChatPanel extends Emitter {
  #log;
  #form;
  #seen = new Set();

  /** @param {HTMLOListElement} log @param {HTMLFormElement} form */
  constructor(log, form) {
    super();
    this.#log = log;
    this.#form = form;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = /** @type {HTMLInputElement} */ (form.elements.namedItem("text"));
      if (!input.value.trim()) return;
      this.emit("send", input.value);
      input.value = "";
    });
  }

  /** @param {import("../signaling.js").ChatMessage} message @param {string} selfId */
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
