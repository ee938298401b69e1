import { Emitter } from "../lib/emitter.js";
import { fitTiles, floatingBox, spotlight } from "./grid-layout.js";
import { Tile } from "./tiles.js";

const GAP_PX = 8;
/** Below this width the grid is a phone's: your own picture floats a little larger. */
const NARROW_PX = 600;

/**
 * The tiles of the room, placed so each is as large as the space allows at its
 * video's shape; redone when people come and go, the space changes or a video
 * changes shape. Once others are there your own picture floats small (drag it
 * anywhere); a pinned person (a shared screen, by default) takes the room and
 * the others line up in a strip. Emits `pinned(id | null)`, and `added(id, tile)` and
 * `removed(id)` as tiles come and go (so whoever needs a tile's video need not run after
 * whoever adds it).
 */
/** @extends {Emitter<{pinned: [id: string | null], added: [id: string, tile: Tile], removed: [id: string]}>} */
export class TileGrid extends Emitter {
  /** @type {Map<string, Tile>} */
  #tiles = new Map();
  #container;
  /** @type {string | null} */
  #pinned = null;
  /** Whether the pin was put there for a shared screen (and goes when the sharing stops). */
  #autoPinned = false;
  /** A strip under the scene: everyone in it, nobody floating. */
  #compact = false;
  /** Where your own picture was dragged to: its centre as a share of the grid. @type {{x: number, y: number} | null} */
  #anchor = null;
  #frame = 0;

  /** @param {HTMLElement} container */
  constructor(container) {
    super();
    this.#container = container;
    new ResizeObserver(() => this.#schedule()).observe(container);
    container.addEventListener("click", (event) => {
      const button = /** @type {HTMLElement} */ (event.target).closest(".pin");
      const id = /** @type {HTMLElement | null} */ (button?.closest(".tile"))?.dataset.peerId;
      if (id) this.pin(this.#pinned === id ? null : id);
    });
    container.addEventListener("dblclick", (event) => {
      const id = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest(".tile:not(.self)"))?.dataset.peerId;
      if (id) this.pin(this.#pinned === id ? null : id);
    });
    this.#dragOwnPicture();
  }

  /** @param {{id: string, name: string, self?: boolean}} options */
  add(options) {
    this.remove(options.id);
    const tile = new Tile(options, () => this.#schedule());
    this.#tiles.set(options.id, tile);
    this.#container.append(tile.element);
    this.#layout();
    this.emit("added", options.id, tile);
    return tile;
  }

  /** @param {string} id */
  get(id) {
    return this.#tiles.get(id);
  }

  /** @param {string} id */
  remove(id) {
    this.#tiles.get(id)?.remove();
    if (!this.#tiles.delete(id)) return;
    if (this.#pinned === id) this.pin(null);
    this.#layout();
    this.emit("removed", id);
  }

  /** Remove every remote tile (the own preview stays). */
  clearRemote() {
    for (const [id, tile] of this.#tiles) if (!tile.self) this.remove(id);
  }

  remoteIds() {
    return [...this.#tiles.values()].filter((tile) => !tile.self).map((tile) => tile.id);
  }

  get pinned() {
    return this.#pinned;
  }

  /** Show one person large, or nobody (null). @param {string | null} id @param {{auto?: boolean}} [options] */
  pin(id, { auto = false } = {}) {
    const next = id !== null && this.#tiles.has(id) && !this.#tiles.get(id)?.self ? id : null;
    this.#autoPinned = next !== null && auto;
    if (next === this.#pinned) return;
    this.#pinned = next;
    for (const tile of this.#tiles.values()) tile.setPinned(tile.id === next);
    this.#layout();
    this.emit("pinned", next);
  }

  /** A peer started or stopped sharing a screen: pinned by default, unless someone else is. @param {string} id @param {boolean} sharing */
  setScreenShared(id, sharing) {
    if (sharing && this.#pinned === null) this.pin(id, { auto: true });
    else if (!sharing && this.#pinned === id && this.#autoPinned) this.pin(null);
  }

  /** Everyone in a strip (under the scene), or the full grid. @param {boolean} compact */
  setCompact(compact) {
    this.#compact = compact;
    this.#layout();
  }

  /** @param {Set<string>} speaking who is speaking now @param {string | null} active who is heard most */
  setSpeaking(speaking, active) {
    for (const tile of this.#tiles.values()) tile.setSpeaking(speaking.has(tile.id), tile.id === active);
  }

  /** Lay out again at the next frame (several changes in one frame cost one layout). */
  #schedule() {
    if (!this.#frame) this.#frame = requestAnimationFrame(() => this.#layout());
  }

  #layout() {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    const width = this.#container.clientWidth;
    const height = this.#container.clientHeight;
    if (!width || !height) return; // not on screen: laid out when it is (the ResizeObserver)
    const tiles = [...this.#tiles.values()];
    const own = tiles.find((tile) => tile.self);
    const floating = own && tiles.length > 1 && !this.#compact ? own : null;
    const placed = tiles.filter((tile) => tile !== floating);
    const pinned = placed.find((tile) => tile.id === this.#pinned);
    /** @type {Map<Tile, import("./grid-layout.js").Box>} */
    const boxes = new Map();
    if (pinned && placed.length > 1) {
      const others = placed.filter((tile) => tile !== pinned);
      const layout = spotlight({ width, height, gap: GAP_PX, main: pinned.aspect, others: others.map((tile) => tile.aspect) });
      boxes.set(pinned, layout.main);
      others.forEach((tile, index) => boxes.set(tile, layout.others[index]));
    } else {
      const layout = fitTiles({ width, height, gap: GAP_PX, aspects: placed.map((tile) => tile.aspect) });
      placed.forEach((tile, index) => boxes.set(tile, layout[index]));
    }
    if (floating) {
      boxes.set(floating, floatingBox({ width, height, aspect: floating.aspect, narrow: width < NARROW_PX, anchor: this.#anchor }));
    }
    for (const tile of tiles) {
      const box = boxes.get(tile);
      if (!box) continue;
      tile.element.classList.toggle("floating", tile === floating);
      Object.assign(tile.element.style, { left: `${box.x}px`, top: `${box.y}px`, width: `${box.width}px`, height: `${box.height}px` });
    }
    this.#container.dataset.layout = pinned && placed.length > 1 ? "spotlight" : "grid";
    this.#container.dataset.laidOut = "";
  }

  /** Your floating picture follows a finger or the mouse, and stays where it is let go. */
  #dragOwnPicture() {
    /** @type {{tile: HTMLElement, dx: number, dy: number, pointer: number} | null} */
    let drag = null;
    this.#container.addEventListener("pointerdown", (event) => {
      const tile = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (event.target).closest(".tile.floating"));
      if (!tile || event.button !== 0) return;
      drag = { tile, dx: event.clientX - tile.offsetLeft, dy: event.clientY - tile.offsetTop, pointer: event.pointerId };
      tile.setPointerCapture(event.pointerId);
      tile.classList.add("dragging");
    });
    this.#container.addEventListener("pointermove", (event) => {
      if (!drag || event.pointerId !== drag.pointer) return;
      drag.tile.style.left = `${event.clientX - drag.dx}px`;
      drag.tile.style.top = `${event.clientY - drag.dy}px`;
    });
    const drop = (/** @type {PointerEvent} */ event) => {
      if (!drag || event.pointerId !== drag.pointer) return;
      const { tile } = drag;
      drag = null;
      tile.classList.remove("dragging");
      this.#anchor = {
        x: (tile.offsetLeft + tile.offsetWidth / 2) / this.#container.clientWidth,
        y: (tile.offsetTop + tile.offsetHeight / 2) / this.#container.clientHeight,
      };
      this.#layout();
    };
    this.#container.addEventListener("pointerup", drop);
    this.#container.addEventListener("pointercancel", drop);
  }
}
