import { Emitter } from "../lib/emitter.js";
import { STICKERS } from "../draw/face-drawing.js";
import { DEFAULT_EFFECTS } from "./tile-effects.js";

/**
 * A remote tile's effects menu: analysis on or off, background, face boxes,
 * landmarks, expression and a sticker. Emits `change(settings)`.
 *
 * @typedef {{analyse: boolean, background: string, colour: string, faceBoxes: boolean, landmarks: boolean,
 *   expression: boolean, sticker: string}} MenuSettings
 */
/** @extends {Emitter<{change: [settings: MenuSettings]}>} */
export class EffectsMenu extends Emitter {
  element = document.createElement("details");
  #form = document.createElement("form");

  constructor() {
    super();
    this.element.className = "effects-menu";
    const summary = document.createElement("summary");
    summary.textContent = "Effects";
    summary.title = "Background removal, face boxes, stickers…";
    this.#form.innerHTML = `
      <label class="check"><input type="checkbox" name="analyse"> Analyse this video</label>
      <label>Background
        <select name="background">
          <option value="off">Keep</option><option value="blur">Blur</option>
          <option value="colour">Colour</option><option value="image">Picture</option>
        </select></label>
      <label>Colour <input type="color" name="colour"></label>
      <label class="check"><input type="checkbox" name="faceBoxes"> Face boxes</label>
      <label class="check"><input type="checkbox" name="landmarks"> Landmarks</label>
      <label class="check"><input type="checkbox" name="expression"> Expression</label>
      <label>Sticker <select name="sticker"><option value="">None</option></select></label>`;
    const stickers = /** @type {HTMLSelectElement} */ (this.#form.elements.namedItem("sticker"));
    for (const name of Object.keys(STICKERS)) stickers.append(new Option(name.replace("-", " "), name));
    this.set(DEFAULT_EFFECTS);
    this.#form.addEventListener("change", () => this.emit("change", this.value()));
    this.element.append(summary, this.#form);
  }

  /** @param {Partial<typeof DEFAULT_EFFECTS>} settings */
  set(settings) {
    for (const [key, value] of Object.entries(settings)) {
      const field = /** @type {HTMLInputElement | null} */ (this.#form.elements.namedItem(key));
      if (!field) continue;
      if (field.type === "checkbox") field.checked = Boolean(value);
      else field.value = String(value);
    }
  }

  /** @returns {MenuSettings} */
  value() {
    const field = (/** @type {string} */ key) => /** @type {HTMLInputElement} */ (this.#form.elements.namedItem(key));
    return {
      analyse: field("analyse").checked,
      background: field("background").value,
      colour: field("colour").value,
      faceBoxes: field("faceBoxes").checked,
      landmarks: field("landmarks").checked,
      expression: field("expression").checked,
      sticker: field("sticker").value,
    };
  }
}
