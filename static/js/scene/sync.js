import { Emitter } from "../lib/emitter.js";
import { DEFAULT_SCENE } from "./layout.js";
import { SELF } from "../call/media.js";

const MAX_RETRIES = 3;

/**
 * The room's shared scene, and this person's private one.
 *
 * An edit is a function from a scene to the edited scene. It shows at once,
 * then goes to the server based on the last version the server confirmed.
 * One send is in flight at a time; edits made meanwhile go together in the
 * next. On a version conflict the edits are applied again to the newer scene
 * and sent again, so two people dragging different people both keep their
 * move. In the private view edits stay in this browser.
 *
 * Events: `change(scene, {by})` whenever the scene on show changes;
 * `error(failure)` when the server refused an edit (the scene on show goes
 * back to the room's).
 *
 * @typedef {import("./layout.js").Scene} Scene
 * @typedef {import("../call/signaling.js").SceneState} SceneState
 * @typedef {(scene: Scene) => Scene} Edit
 */
/** @extends {Emitter<{change: [scene: Scene, info: {by: string | null}], error: [failure: import("../lib/failure.js").Failure]}>} */
export class SceneSync extends Emitter {
  #send;
  /** @type {SceneState} */
  #shared = { scene: null, version: 0, by: null };
  /** @type {Edit[]} edits not yet confirmed by the server */
  #pending = [];
  #inFlight = false;
  /** @type {Scene | null} */
  #private = null;

  /** @param {(scene: Scene, version: number) => Promise<{version: number}>} send rejects with a Failure */
  constructor(send) {
    super();
    this.#send = send;
  }

  get isPrivate() {
    return this.#private !== null;
  }

  /** The scene on show: the private one, or the room's with this person's unconfirmed edits. */
  get scene() {
    return this.#private ?? this.#pending.reduce((scene, edit) => edit(scene), this.#roomScene());
  }

  get version() {
    return this.#shared.version;
  }

  /** The room's scene as the server has it (join reply, `scene` events, conflicts). @param {SceneState} state */
  receive({ scene, version, by }) {
    if (version < this.#shared.version) return;
    this.#shared = { scene, version, by };
    if (!this.isPrivate) this.emit("change", this.scene, { by });
  }

  /** Edit the scene on show. @param {Edit} edit */
  edit(edit) {
    if (this.isPrivate) {
      this.#private = edit(/** @type {Scene} */ (this.#private));
      this.emit("change", this.#private, { by: SELF });
      return;
    }
    this.#pending.push(edit);
    this.emit("change", this.scene, { by: SELF });
    this.#flush();
  }

  /** Switch between the room's scene and a private copy of it that only this person sees. @param {boolean} on */
  setPrivate(on) {
    if (on === this.isPrivate) return;
    this.#private = on ? structuredClone(this.scene) : null;
    this.emit("change", this.scene, { by: SELF });
  }

  /**
   * Joined (again): the server's scene replaces what was known. A server that
   * restarted has lost the room's scene; whoever had it gives it back.
   * @param {SceneState} state
   */
  joined(state) {
    const previous = this.#shared.scene;
    this.reset();
    this.receive(state);
    if (state.version === 0 && previous) this.edit(() => previous);
  }

  /** Forget the room: back to version 0 and the default scene. */
  reset() {
    this.#shared = { scene: null, version: 0, by: null };
    this.#pending = [];
    if (!this.isPrivate) this.emit("change", this.scene, { by: null });
  }

  async #flush(retries = 0) {
    if (this.#inFlight || this.#pending.length === 0) return;
    this.#inFlight = true;
    const edits = [...this.#pending];
    const base = this.#shared;
    const scene = edits.reduce((current, edit) => edit(current), this.#roomScene());
    try {
      const { version } = await this.#send(scene, base.version);
      this.#pending = this.#pending.slice(edits.length);
      // A newer scene from someone else may have arrived while this one was on its way.
      if (version > this.#shared.version) this.#shared = { scene, version, by: SELF };
      retries = 0;
    } catch (caught) {
      const error = /** @type {import("../lib/failure.js").Failure} */ (caught); // what `send` rejects with
      // Someone else's edit came first: take theirs, and apply ours on top unless we tried enough.
      if (error.code === "version_conflict") this.#shared = { scene: error.reply.scene, version: error.reply.version, by: null };
      if (error.code === "version_conflict" && retries < MAX_RETRIES) {
        retries += 1;
      } else {
        this.#pending = this.#pending.slice(edits.length);
        this.emit("error", error);
        if (!this.isPrivate) this.emit("change", this.scene, { by: null });
      }
    } finally {
      this.#inFlight = false;
    }
    this.#flush(retries);
  }

  /** @returns {Scene} */
  #roomScene() {
    return this.#shared.scene ?? structuredClone(DEFAULT_SCENE);
  }
}
