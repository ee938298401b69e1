import { Emitter } from "../lib/emitter.js";
import { fillDeviceSelect } from "./devices.js";

/**
 * The call's control bar, its "More" menu, the settings and shortcuts dialogs,
 * and the keyboard shortcuts. Emits each control's `data-action`
 * (`toggle-audio`, `toggle-video`, `share-screen`, `toggle-scene`, `toggle-chat`,
 * `toggle-analysis`, `toggle-stats`, `copy-link`, `pin-speaker`, `leave`) and
 * `device(kind, id)`.
 *
 * @typedef {import("./devices.js").DeviceKind} DeviceKind
 * @typedef {"toggle-audio" | "toggle-video" | "share-screen" | "toggle-scene" | "toggle-chat" | "toggle-analysis"
 *   | "toggle-stats" | "copy-link" | "pin-speaker" | "leave"} Action
 */

/** Single keys, as the help dialog lists them (templates/room.html); `L` is Shift+L. @type {Record<string, Action>} */
const SHORTCUTS = {
  m: "toggle-audio",
  v: "toggle-video",
  d: "share-screen",
  c: "toggle-chat",
  s: "toggle-scene",
  p: "pin-speaker",
  L: "leave",
};

/** @extends {Emitter<Record<Action, []> & {device: [kind: DeviceKind, id: string]}>} */
export class Controls extends Emitter {
  #nav;
  #menu;
  #settings;
  #shortcuts;

  /**
   * @param {HTMLElement} nav the control bar (the "More" menu inside it)
   * @param {{settings: HTMLDialogElement, shortcuts: HTMLDialogElement}} dialogs
   */
  constructor(nav, { settings, shortcuts }) {
    super();
    this.#nav = nav;
    this.#menu = /** @type {HTMLElement} */ (nav.querySelector("[popover]"));
    this.#settings = settings;
    this.#shortcuts = shortcuts;
    nav.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest("button[data-action]"));
      if (!button) return;
      if (button.closest("[popover]")) this.#menu.hidePopover();
      const action = button.dataset.action;
      if (action === "settings") settings.showModal();
      else if (action === "shortcuts") shortcuts.showModal();
      else this.emit(/** @type {Action} */ (action === "share-screen-menu" ? "share-screen" : action));
    });
    settings.addEventListener("change", (event) => {
      const select = /** @type {HTMLSelectElement} */ (event.target);
      if (select.dataset.device) this.emit("device", /** @type {DeviceKind} */ (select.dataset.device), select.value);
    });
    document.addEventListener("keydown", (event) => this.#shortcut(event));
  }

  /** @param {{audio: boolean, video: boolean, screen: boolean}} state */
  setState({ audio, video, screen }) {
    this.#toggle("toggle-audio", !audio, audio ? "Mute" : "Unmute", "M");
    this.#toggle("toggle-video", !video, video ? "Camera off" : "Camera on", "V");
    const share = this.#button("share-screen");
    share.setAttribute("aria-pressed", String(screen));
    share.classList.toggle("swapped", screen);
    this.#label(share, screen ? "Stop sharing" : "Share screen", "D");
    this.#menuLabel("share-screen-menu", screen ? "Stop sharing" : "Share screen");
  }

  /** @param {boolean} on */
  setAnalysis(on) {
    this.#menuLabel("toggle-analysis", on ? "Analysis on" : "Analysis off");
    this.#button("toggle-analysis").setAttribute("aria-pressed", String(!on));
  }

  /** @param {boolean} shown */
  setScene(shown) {
    const button = this.#button("toggle-scene");
    button.setAttribute("aria-pressed", String(shown));
    this.#label(button, shown ? "Hide scene" : "Scene", "S");
  }

  /** @param {boolean} open @param {boolean} [takeFocus] give the keyboard to the chat button (the chat closed with it) */
  setChat(open, takeFocus = false) {
    const button = this.#button("toggle-chat");
    button.setAttribute("aria-pressed", String(open));
    this.#label(button, open ? "Close chat" : "Chat", "C");
    if (takeFocus) button.focus();
  }

  /** Messages that came while the chat was closed. @param {number} count */
  setUnread(count) {
    const badge = /** @type {HTMLElement} */ (this.#button("toggle-chat").querySelector(".unread"));
    badge.hidden = count === 0;
    badge.textContent = count > 9 ? "9+" : String(count);
    const button = this.#button("toggle-chat");
    if (button.getAttribute("aria-pressed") !== "true") {
      button.setAttribute("aria-label", count ? `Chat, ${count} unread` : "Chat");
    }
  }

  /** @param {boolean} shown */
  setStats(shown) {
    this.#button("toggle-stats").setAttribute("aria-pressed", String(shown));
  }

  /** @param {import("./devices.js").DeviceLists} devices @param {(kind: DeviceKind) => string} selected */
  setDevices(devices, selected) {
    for (const kind of /** @type {const} */ (["audioinput", "videoinput"])) {
      fillDeviceSelect(/** @type {HTMLSelectElement} */ (this.#settings.querySelector(`select[data-device="${kind}"]`)), devices[kind], selected(kind));
    }
  }

  /** @param {KeyboardEvent} event */
  #shortcut(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || this.#nav.closest("[hidden]")) return;
    const target = /** @type {HTMLElement} */ (event.target);
    // Typing goes to what is typed in; a dialog open has the keyboard to itself.
    if (target.closest("input, textarea, select, [contenteditable]") || this.#settings.open || this.#shortcuts.open) return;
    if (event.key === "?") {
      event.preventDefault();
      this.#shortcuts.showModal();
      return;
    }
    const action = SHORTCUTS[event.key === "L" || event.key === "l" ? (event.shiftKey ? "L" : "") : event.key.toLowerCase()];
    if (!action) return;
    event.preventDefault();
    this.emit(action);
  }

  /** A button that is red while something is off (the microphone, the camera). @param {Action} action @param {boolean} off @param {string} label @param {string} key */
  #toggle(action, off, label, key) {
    const button = this.#button(action);
    button.classList.toggle("off", off);
    button.classList.toggle("swapped", off);
    this.#label(button, label, key);
  }

  /** @param {HTMLElement} button @param {string} label @param {string} key */
  #label(button, label, key) {
    button.setAttribute("aria-label", label);
    button.dataset.tip = `${label} (${key})`;
  }

  /** @param {string} action @param {string} label */
  #menuLabel(action, label) {
    const text = this.#nav.querySelector(`button[data-action="${action}"] span`);
    if (text) text.textContent = label;
  }

  /** @param {string} action */
  #button(action) {
    return /** @type {HTMLButtonElement} */ (this.#nav.querySelector(`button[data-action="${action}"]`));
  }
}
