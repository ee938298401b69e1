import { Emitter } from "../lib/emitter.js";
import { placementAt, withParticipant } from "./layout.js";

const HANDLE_PX = 16;
const JSON_DELAY_MS = 400;
const KEY_STEP = 0.01;

/**
 * Editing the scene two ways that stay in sync: on the canvas (drag to move,
 * the corner handle or the wheel to scale, keys for z-order) and as JSON
 * (checked against the schema as you type; the last valid scene stays on
 * screen and the error says where and why).
 *
 * Events: `edit(change)` with a function from the scene to the edited scene;
 * `select(name | null)`.
 *
 * @typedef {import("./layout.js").Scene} Scene
 * @typedef {import("./layout.js").Placement} Placement
 */
/** @extends {Emitter<{edit: [change: (scene: Scene) => Scene], select: [name: string | null]}>} */
export class SceneEditor extends Emitter {
  #canvas;
  #overlay;
  #text;
  #error;
  /** @type {import("./schema.js").SceneSchema | null} null until loaded: the server still checks every edit */
  #schema = null;
  #compositor;
  /** @type {string | null} the name of the person selected on the canvas */
  #selected = null;
  /** @type {{mode: "move" | "scale", name: string, startX: number, startY: number, from: {x: number, y: number, width: number}} | null} */
  #drag = null;
  #typing = 0;

  /**
   * @param {{canvas: HTMLCanvasElement, overlay: HTMLCanvasElement, text: HTMLTextAreaElement, error: HTMLElement,
   *   compositor: import("./compositor.js").SceneCompositor}} parts
   */
  constructor({ canvas, overlay, text, error, compositor }) {
    super();
    this.#canvas = canvas;
    this.#overlay = overlay;
    this.#text = text;
    this.#error = error;
    this.#compositor = compositor;
    canvas.addEventListener("pointerdown", (event) => this.#pointerDown(event));
    canvas.addEventListener("pointermove", (event) => this.#pointerMove(event));
    canvas.addEventListener("pointerup", () => (this.#drag = null));
    canvas.addEventListener("pointercancel", () => (this.#drag = null));
    canvas.addEventListener("wheel", (event) => this.#wheel(event), { passive: false });
    canvas.addEventListener("keydown", (event) => this.#key(event));
    text.addEventListener("input", () => {
      clearTimeout(this.#typing);
      this.#typing = setTimeout(() => this.#applyText(), JSON_DELAY_MS);
    });
  }

  /** @param {import("./schema.js").SceneSchema} schema */
  useSchema(schema) {
    this.#schema = schema;
  }

  /** The scene on show changed: show it as JSON unless the person is typing in it. @param {Scene} scene */
  show(scene) {
    if (document.activeElement === this.#text) return;
    this.#text.value = JSON.stringify(scene, null, 2);
    this.#showError("");
  }

  /** Bring the selected person one step up (+1) or down (-1) in z order. @param {number} direction */
  restack(direction) {
    const name = this.#selected;
    if (!name) return;
    const others = this.#compositor.placements.filter((placement) => placement.name !== name).map((placement) => placement.z);
    const z = direction > 0 ? Math.max(0, ...others) + 1 : Math.min(0, ...others) - 1;
    this.emit("edit", (scene) => withParticipant(scene, name, { ...this.#geometry(scene, name), z }));
  }

  /** Outline the selected person and its scale handle (on the overlay canvas, never in photos). */
  drawSelection() {
    const overlay = this.#overlay;
    const { width, height } = this.#canvas;
    if (overlay.width !== width || overlay.height !== height) Object.assign(overlay, { width, height });
    const context = /** @type {CanvasRenderingContext2D} */ (overlay.getContext("2d"));
    context.clearRect(0, 0, width, height);
    const placement = this.#compositor.placements.find((candidate) => candidate.name === this.#selected);
    if (!placement) return;
    context.strokeStyle = "#ffd23f";
    context.lineWidth = 3;
    context.setLineDash([10, 6]);
    context.strokeRect(placement.x, placement.y, placement.width, placement.height);
    context.setLineDash([]);
    context.fillStyle = "#ffd23f";
    context.fillRect(placement.x + placement.width - HANDLE_PX, placement.y + placement.height - HANDLE_PX, HANDLE_PX, HANDLE_PX);
  }

  #applyText() {
    let scene;
    try {
      scene = JSON.parse(this.#text.value);
    } catch (error) {
      return this.#showError(`Not JSON: ${/** @type {Error} */ (error).message}`);
    }
    const check = this.#schema?.check(scene) ?? { valid: true };
    if (!check.valid) return this.#showError(check.message, check.field);
    this.#showError("");
    this.emit("edit", () => scene);
  }

  /** @param {string} message "" for none @param {string} [field] the scene field it is about */
  #showError(message, field = "") {
    this.#error.textContent = message || "Valid scene: shown to everyone in the view you are in.";
    this.#error.dataset.state = message ? "invalid" : "valid";
    this.#error.dataset.field = field;
  }

  /** Canvas pixels under a pointer event. @param {MouseEvent} event */
  #point(event) {
    const box = this.#canvas.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * this.#canvas.width) / box.width, y: ((event.clientY - box.top) * this.#canvas.height) / box.height };
  }

  /** @param {PointerEvent} event */
  #pointerDown(event) {
    const { x, y } = this.#point(event);
    const selected = this.#compositor.placements.find((placement) => placement.name === this.#selected);
    const onHandle = selected && x >= selected.x + selected.width - HANDLE_PX * 1.5 && x <= selected.x + selected.width + 4 && y >= selected.y + selected.height - HANDLE_PX * 1.5 && y <= selected.y + selected.height + 4;
    const placement = onHandle ? selected : placementAt(this.#compositor.placements, x, y);
    this.#select(placement?.name ?? null);
    if (!placement) return;
    this.#canvas.setPointerCapture(event.pointerId);
    this.#canvas.focus();
    this.#drag = { mode: onHandle ? "scale" : "move", name: placement.name, startX: x, startY: y, from: { x: placement.x, y: placement.y, width: placement.width } };
  }

  /** @param {PointerEvent} event */
  #pointerMove(event) {
    const drag = this.#drag;
    if (!drag) return;
    const { x, y } = this.#point(event);
    const { width, height } = this.#canvas;
    const { from } = drag;
    const changes = drag.mode === "move"
      ? { x: clamp((from.x + x - drag.startX) / width, -1, 2), y: clamp((from.y + y - drag.startY) / height, -1, 2), scale: from.width / width }
      : { x: from.x / width, y: from.y / height, scale: clamp((from.width + x - drag.startX) / width, 0.02, 4) };
    this.emit("edit", (scene) => withParticipant(scene, drag.name, changes));
  }

  /** @param {WheelEvent} event */
  #wheel(event) {
    const { x, y } = this.#point(event);
    const placement = placementAt(this.#compositor.placements, x, y);
    if (!placement) return;
    event.preventDefault();
    this.#select(placement.name);
    this.#scaleBy(placement, Math.exp(-event.deltaY * 0.001));
  }

  /** @param {KeyboardEvent} event */
  #key(event) {
    const placement = this.#compositor.placements.find((candidate) => candidate.name === this.#selected);
    if (!placement) return;
    const step = (event.shiftKey ? 5 : 1) * KEY_STEP;
    const move = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[event.key];
    if (move) {
      this.emit("edit", (scene) => {
        const { x, y, scale } = this.#geometry(scene, placement.name);
        if (x === undefined || y === undefined || scale === undefined) return scene; // gone from the picture meanwhile
        return withParticipant(scene, placement.name, { x: x + move[0], y: y + move[1], scale });
      });
    } else if (event.key === "+" || event.key === "=") this.#scaleBy(placement, 1.1);
    else if (event.key === "-") this.#scaleBy(placement, 1 / 1.1);
    else if (event.key === "]" || event.key === "PageUp") this.restack(1);
    else if (event.key === "[" || event.key === "PageDown") this.restack(-1);
    else if (event.key === "Escape") this.#select(null);
    else return;
    event.preventDefault();
  }

  /** Scale a person about the centre of their picture. @param {Placement} placement @param {number} factor */
  #scaleBy(placement, factor) {
    const { width, height } = this.#canvas;
    const heightPerWidth = (placement.height / placement.width) * (width / height); // picture height per unit of scale
    this.emit("edit", (scene) => {
      const { x, y, scale } = this.#geometry(scene, placement.name);
      if (x === undefined || y === undefined || scale === undefined) return scene; // gone from the picture meanwhile
      const scaled = clamp(scale * factor, 0.02, 4);
      return withParticipant(scene, placement.name, { x: x + (scale - scaled) / 2, y: y + ((scale - scaled) * heightPerWidth) / 2, scale: scaled });
    });
  }

  /**
   * A person's x, y and scale in `scene`, the scene an edit is applied to: their entry's,
   * or for a person the layout placed, where the last frame drew them (so a first edit pins
   * them there). Edits read them when applied, not when made, so quick edits in a row (a
   * wheel turn, then `]`) build on each other instead of each starting from the last frame.
   * Undefined for a person neither in the scene's entries nor drawn (gone since the edit was made).
   * @param {Scene} scene @param {string} name
   */
  #geometry(scene, name) {
    const entry = scene.participants?.find((candidate) => candidate.name === name);
    const placement = this.#compositor.placements.find((candidate) => candidate.name === name);
    const { width, height } = this.#canvas;
    const drawn = placement ? { x: placement.x / width, y: placement.y / height, scale: placement.width / width } : {};
    return { x: entry?.x ?? drawn.x, y: entry?.y ?? drawn.y, scale: entry?.scale ?? drawn.scale };
  }

  /** @param {string | null} name */
  #select(name) {
    if (name === this.#selected) return;
    this.#selected = name;
    this.emit("select", name);
  }
}

/** @param {number} value @param {number} low @param {number} high */
function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}
