import { Emitter } from "../emitter.js";
import { fillDeviceSelect } from "./devices.js";

/**
 * The call's control bar. Emits each button's `data-action` (`toggle-audio`,
 * `toggle-video`, `share-screen`, `toggle-scene`, `toggle-analysis`, `toggle-stats`, `copy-link`,
 * `leave`) and `device(kind, id)`.
 *
 * @typedef {import("./devices.js").DeviceKind} DeviceKind
 * @typedef {"toggle-audio" | "toggle-video" | "share-screen" | "toggle-scene" | "toggle-analysis" | "toggle-stats" | "copy-link" | "leave"} Action
 */
/** @extends {Emitter<Record<Action, []> & {device: [kind: DeviceKind, id: string]}>} */
export class Controls extends Emitter {
  #nav;

  /** @param {HTMLElement} nav */
  constructor(nav) {
    super();
    this.#nav = nav;
    nav.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest("button[data-action]"));
      if (button) this.emit(/** @type {Action} */ (button.dataset.action));
    });
    nav.addEventListener("change", (event) => {
      const select = /** @type {HTMLSelectElement} */ (event.target);
      if (select.dataset.device) this.emit("device", /** @type {DeviceKind} */ (select.dataset.device), select.value);
    });
  }

  /** @param {{audio: boolean, video: boolean, screen: boolean}} state */
  setState({ audio, video, screen }) {
    this.#button("toggle-audio", audio ? "Mute" : "Unmute", !audio);
    this.#button("toggle-video", video ? "Camera off" : "Camera on", !video);
    this.#button("share-screen", screen ? "Stop sharing" : "Share screen", screen);
  }

  /** @param {boolean} on */
  setAnalysis(on) {
    this.#button("toggle-analysis", on ? "Analysis on" : "Analysis off", !on);
  }

  /** @param {boolean} shown */
  setScene(shown) {
    this.#button("toggle-scene", shown ? "Hide scene" : "Scene", shown);
  }

  /** @param {boolean} shown */
  setStats(shown) {
    this.#button("toggle-stats", "Stats", shown);
  }

  /** @param {import("./devices.js").DeviceLists} devices @param {(kind: DeviceKind) => string} selected */
  setDevices(devices, selected) {
    for (const kind of /** @type {const} */ (["audioinput", "videoinput"])) {
      fillDeviceSelect(/** @type {HTMLSelectElement} */ (this.#nav.querySelector(`select[data-device="${kind}"]`)), devices[kind], selected(kind));
    }
  }

  /** @param {Action} action @param {string} label */
  flash(action, label) {
    const button = /** @type {HTMLButtonElement} */ (this.#nav.querySelector(`button[data-action="${action}"]`));
    const original = button.textContent;
    button.textContent = label;
    setTimeout(() => (button.textContent = original), 1500);
  }

  /** @param {Action} action @param {string} label @param {boolean} pressed */
  #button(action, label, pressed) {
    const button = /** @type {HTMLButtonElement} */ (this.#nav.querySelector(`button[data-action="${action}"]`));
    button.textContent = label;
    button.setAttribute("aria-pressed", String(pressed));
  }
}
