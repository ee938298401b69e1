import { Emitter } from "../lib/emitter.js";

/**
 * The scene's toolbar, JSON pane and canvas frame. Emits what the person asked
 * for: `example(name)`, `private(on)`, `align(on)`, `upload(file)`,
 * `restack(+1 | -1)`, `photo`, `record`, `share`, `broadcast`, `copy-watch(link)`.
 *
 * @typedef {{
 *   example: [id: string], private: [on: boolean], align: [on: boolean], upload: [file: File], restack: [direction: number],
 *   photo: [], record: [], share: [], broadcast: [], "copy-watch": [link: string],
 * }} ScenePanelEvents
 */
/** @extends {Emitter<ScenePanelEvents>} */
export class ScenePanel extends Emitter {
  #section;
  #watch = "";

  /** @param {HTMLElement} section */
  constructor(section) {
    super();
    this.#section = section;
    section.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest("button[data-scene]"));
      if (!button) return;
      const action = button.dataset.scene;
      if (action === "forward" || action === "backward") this.emit("restack", action === "forward" ? 1 : -1);
      else if (action === "copy-watch") this.emit("copy-watch", this.#watch);
      else if (action === "json") {
        const pane = this.#part("json-pane");
        pane.hidden = !pane.hidden;
        button.setAttribute("aria-pressed", String(!pane.hidden));
      } else this.emit(/** @type {"photo" | "record" | "share" | "broadcast"} */ (action)); // the toolbar's other buttons
    });
    section.addEventListener("change", (event) => {
      const input = /** @type {HTMLInputElement} */ (event.target);
      const action = input.dataset.scene;
      if (action === "example" && input.value) this.emit("example", input.value);
      else if (action === "private" || action === "align") this.emit(action, input.checked);
      else if (action === "upload" && input.files?.[0]) {
        this.emit("upload", input.files[0]);
        input.value = "";
      }
    });
  }

  get shown() {
    return !this.#section.hidden;
  }

  /** @param {boolean} shown */
  setShown(shown) {
    this.#section.hidden = !shown;
  }

  /** @param {Record<string, {name?: string}>} scenes the examples, by id */
  setExamples(scenes) {
    const select = /** @type {HTMLSelectElement} */ (this.#part("example"));
    select.replaceChildren(new Option("Pick a scene…", ""), ...Object.entries(scenes).map(([id, scene]) => new Option(scene.name ?? id, id)));
  }

  /** The scene on show changed. @param {{isPrivate: boolean, alignFaces: boolean, aspect: string}} state */
  setScene({ isPrivate, alignFaces, aspect }) {
    this.#part("canvas").parentElement?.style.setProperty("--scene-aspect", aspect);
    /** @type {HTMLInputElement} */ (this.#part("private")).checked = isPrivate;
    /** @type {HTMLInputElement} */ (this.#part("align")).checked = alignFaces;
    /** @type {HTMLSelectElement} */ (this.#part("example")).value = "";
  }

  /** @param {boolean} recording */
  setRecording(recording) {
    this.#press("record", recording, recording ? "Stop recording" : "Record");
  }

  /** @param {boolean} sharing */
  setSharing(sharing) {
    this.#press("share", sharing, sharing ? "Stop sharing scene" : "Share scene");
  }

  /** The scene is broadcast (its watch link) or not (null). @param {string | null} watch */
  setBroadcast(watch) {
    this.#watch = watch ?? "";
    this.#press("broadcast", watch !== null, watch ? "Stop broadcast" : "Broadcast");
    this.#part("copy-watch").hidden = !watch;
  }

  /** A short message beside the toolbar (upload results, refusals). @param {string} text */
  say(text) {
    this.#part("status").textContent = text;
  }

  /** An icon button's state: pressed, its other icon, and the words that say what it does now. @param {string} action @param {boolean} pressed @param {string} label */
  #press(action, pressed, label) {
    const button = this.#part(action);
    button.setAttribute("aria-pressed", String(pressed));
    button.classList.toggle("swapped", pressed);
    button.setAttribute("aria-label", label);
    button.dataset.tip = label;
  }

  /** @param {string} name */
  #part(name) {
    return /** @type {HTMLElement} */ (this.#section.querySelector(`[data-scene="${name}"]`));
  }
}
