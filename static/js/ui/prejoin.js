import { Emitter } from "../lib/emitter.js";
import { fillDeviceSelect } from "./devices.js";
import { LevelMeter } from "./level-meter.js";

/**
 * The step before joining: camera preview, microphone level, device pickers,
 * start muted or without camera, the name and (when asked) the password.
 * Emits `submit({name, muted, cameraOff, password})` and `device(kind, id)`.
 *
 * @typedef {import("./devices.js").DeviceKind} DeviceKind
 * @typedef {{name: string, muted: boolean, cameraOff: boolean, password: string | null}} PreJoinChoice
 */
/** @extends {Emitter<{submit: [choice: PreJoinChoice], device: [kind: DeviceKind, id: string]}>} */
export class PreJoin extends Emitter {
  #section;
  #form;
  #video;
  #meter;

  /** @param {HTMLElement} section */
  constructor(section) {
    super();
    this.#section = section;
    this.#form = /** @type {HTMLFormElement} */ (section.querySelector("form"));
    this.#video = /** @type {HTMLVideoElement} */ (section.querySelector("video"));
    this.#meter = new LevelMeter(/** @type {HTMLMeterElement} */ (section.querySelector("meter")));
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      const data = new FormData(this.#form);
      this.emit("submit", {
        name: String(data.get("name") ?? "").trim(),
        muted: data.get("muted") === "on",
        cameraOff: data.get("cameraOff") === "on",
        password: String(data.get("password") ?? "") || null,
      });
    });
    this.#form.addEventListener("change", (event) => {
      const select = /** @type {HTMLSelectElement} */ (event.target);
      if (select.tagName === "SELECT") this.emit("device", /** @type {DeviceKind} */ (select.name), select.value);
    });
  }

  /**
   * @param {{name: string, stream: MediaStream, devices: import("./devices.js").DeviceLists,
   *   selected: (kind: DeviceKind) => string, askPassword: boolean}} options
   */
  show({ name, stream, devices, selected, askPassword }) {
    const field = (/** @type {string} */ key) => /** @type {HTMLInputElement} */ (this.#form.elements.namedItem(key));
    if (!field("name").value) field("name").value = name;
    for (const kind of /** @type {const} */ (["audioinput", "videoinput"])) {
      fillDeviceSelect(/** @type {HTMLSelectElement} */ (this.#form.elements.namedItem(kind)), devices[kind], selected(kind));
    }
    /** @type {HTMLElement} */ (this.#form.querySelector("#password-field")).hidden = !askPassword;
    if (askPassword) field("password").focus();
    this.#video.srcObject = stream;
    this.#meter.start(stream);
    this.#section.hidden = false;
  }

  hide() {
    this.#meter.stop();
    this.#video.srcObject = null;
    this.#section.hidden = true;
  }
}
