import { Emitter } from "../emitter.js";
import { fitTiles, floatingBox, spotlight } from "./grid-layout.js";
import { icon } from "./icons.js";

/**
 * Video tiles: one for this browser's own preview and one per remote peer, each
 * with the name, mute and camera-off indicators, a speaking indicator and a
 * connection hint; and the grid that places them (ui/grid-layout.js).
 */

const QUALITY_LABELS = { good: "Good connection", fair: "Unstable connection", poor: "Poor connection", unknown: "Connecting…" };
/** What a tile's shape is before its video has said (the cameras' usual 4:3). */
const DEFAULT_ASPECT = 4 / 3;
const GAP_PX = 8;
/** Below this width the grid is a phone's: your own picture floats a little larger. */
const NARROW_PX = 600;

export class Tile {
  /** The video's proportions: masks and face marks laid over it line up exactly. */
  #stage;
  /** A blurred copy of the video behind a masked one. */
  #backdrop;
  /** Face boxes, landmarks and stickers over the video. */
  #overlay;

  /** The last known shape of the video (width / height), kept while the camera is off. */
  aspect = DEFAULT_ASPECT;
  /** @type {HTMLButtonElement | null} */
  pinButton = null;

  /**
   * @param {{id: string, name: string, self?: boolean}} options
   * @param {() => void} [onShape] called when the video's shape changes
   */
  constructor({ id, name, self = false }, onShape = () => {}) {
    this.id = id;
    this.self = self;
    this.element = document.createElement("figure");
    this.element.className = self ? "tile self" : "tile";
    this.element.setAttribute("role", "listitem");
    this.element.dataset.peerId = id;
    this.video = document.createElement("video");
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = self; // never play our own microphone back
    const caption = document.createElement("figcaption");
    this.nameLabel = document.createElement("span");
    this.nameLabel.className = "name";
    this.mutedBadge = badge("muted", "Muted", "mic-off");
    this.cameraBadge = badge("camera-off", "Camera off", "video-off");
    this.level = document.createElement("span");
    this.level.className = "level";
    this.level.setAttribute("aria-hidden", "true");
    this.level.append(...Array.from({ length: 3 }, () => document.createElement("i")));
    this.qualityDot = document.createElement("span");
    this.qualityDot.className = "quality unknown";
    this.#stage = document.createElement("div");
    this.#stage.className = "stage";
    this.#backdrop = document.createElement("video");
    this.#backdrop.className = "backdrop";
    Object.assign(this.#backdrop, { autoplay: true, playsInline: true, muted: true, hidden: true });
    this.#overlay = document.createElement("canvas");
    this.#overlay.className = "effects";
    this.video.addEventListener("resize", () => {
      if (!this.video.videoWidth) return;
      this.#stage.style.setProperty("--aspect", `${this.video.videoWidth} / ${this.video.videoHeight}`);
      const aspect = this.video.videoWidth / this.video.videoHeight;
      if (Math.abs(aspect - this.aspect) > 0.01) {
        this.aspect = aspect;
        onShape();
      }
    });
    this.#stage.append(this.#backdrop, this.video, this.#overlay);
    caption.append(this.qualityDot, this.nameLabel, this.level, this.mutedBadge);
    this.element.append(this.#stage, this.cameraBadge, caption);
    if (!self) {
      this.pinButton = document.createElement("button");
      this.pinButton.type = "button";
      this.pinButton.className = "tool small pin";
      this.pinButton.setAttribute("aria-pressed", "false");
      this.pinButton.append(icon("pin", "normal"), icon("pin-off", "alternate"));
      this.element.append(this.pinButton);
    }
    this.setName(self ? `${name} (you)` : name);
    if (self) this.qualityDot.hidden = true;
  }

  /** Put a menu (the effects menu) in the tile's corner. @param {HTMLElement} menu */
  setMenu(menu) {
    this.element.querySelector(".tile-menu")?.remove();
    menu.classList.add("tile-menu");
    this.element.append(menu);
  }

  /** @param {string} name */
  setName(name) {
    this.name = name;
    this.nameLabel.textContent = name;
    this.video.setAttribute("aria-label", `Video of ${name}`);
    this.element.setAttribute("aria-label", name);
    this.#labelPin();
  }

  /** @param {boolean} pinned */
  setPinned(pinned) {
    this.element.classList.toggle("pinned", pinned);
    this.pinButton?.setAttribute("aria-pressed", String(pinned));
    this.pinButton?.classList.toggle("swapped", pinned);
    this.#labelPin();
  }

  /** @param {boolean} speaking @param {boolean} active the one the room hears most just now */
  setSpeaking(speaking, active) {
    this.element.classList.toggle("speaking", speaking);
    this.element.classList.toggle("active-speaker", active);
  }

  /** @param {{audio: boolean, video: boolean}} media */
  setMedia(media) {
    this.mutedBadge.hidden = media.audio;
    this.cameraBadge.hidden = media.video;
    this.element.classList.toggle("no-video", !media.video);
  }

  /** @param {MediaStream | null} stream */
  setStream(stream) {
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    if (!this.#backdrop.hidden) this.#backdrop.srcObject = stream;
    this.#play();
  }

  /**
   * What shows where the mask hides the person's own background: a blurred copy of
   * the video, a colour or a picture (at most one; none when all are off).
   * @param {{blur: boolean, colour: string, image: string}} background
   */
  setBackground({ blur, colour, image }) {
    this.#backdrop.hidden = !blur;
    this.#backdrop.srcObject = blur ? this.video.srcObject : null;
    // Muted autoplay; a refusal leaves the stage's colour behind, which is what it was before.
    if (blur) this.#backdrop.play().catch(() => {});
    this.#stage.style.backgroundColor = colour;
    this.#stage.style.backgroundImage = image ? `url("${image}")` : "";
  }

  /** Show only the person: `url` is a mask picture (white keeps), "" shows the whole video. @param {string} url */
  setMask(url) {
    this.video.style.maskImage = url ? `url("${url}")` : "";
    this.video.style.webkitMaskImage = this.video.style.maskImage;
    this.video.classList.toggle("masked", Boolean(url));
  }

  /**
   * Draw over the video: `draw(context, width, height)` on a cleared canvas of the
   * video's proportions, at most `maxWidth` wide.
   * @param {number} maxWidth @param {(context: CanvasRenderingContext2D, width: number, height: number) => void} draw
   */
  drawOverlay(maxWidth, draw) {
    const width = Math.min(this.video.videoWidth || 640, maxWidth);
    const height = Math.round((width * (this.video.videoHeight || 480)) / (this.video.videoWidth || 640));
    if (this.#overlay.width !== width || this.#overlay.height !== height) Object.assign(this.#overlay, { width, height });
    const context = /** @type {CanvasRenderingContext2D} */ (this.#overlay.getContext("2d"));
    context.clearRect(0, 0, width, height);
    draw(context, width, height);
  }

  /** @param {string} state */
  setConnectionState(state) {
    this.element.dataset.connection = state;
    if (state !== "connected") this.setQuality({ quality: "unknown" });
  }

  /** @param {{quality: keyof typeof QUALITY_LABELS, rttMs?: number | null, lossPercent?: number, relayed?: boolean | null}} report */
  setQuality(report) {
    this.qualityDot.className = `quality ${report.quality}`;
    const details = report.rttMs != null ? ` (${report.rttMs} ms, ${report.lossPercent}% lost)` : "";
    const route = report.relayed ? ", through the relay server" : "";
    this.qualityDot.title = QUALITY_LABELS[report.quality] + details + route;
  }

  remove() {
    this.video.srcObject = null;
    this.#backdrop.srcObject = null;
    this.element.remove();
  }

  #labelPin() {
    if (!this.pinButton) return;
    const pinned = this.pinButton.getAttribute("aria-pressed") === "true";
    const label = pinned ? `Unpin ${this.name}` : `Pin ${this.name}`;
    this.pinButton.setAttribute("aria-label", label);
    this.pinButton.dataset.tip = pinned ? "Unpin" : "Pin: show large";
  }

  #play() {
    this.video.play().catch(() => {
      // Autoplay was refused until the page is touched, or the tile went away meanwhile:
      // retry on the next click while the tile is still shown.
      document.addEventListener("click", () => this.element.isConnected && this.#play(), { once: true });
    });
  }
}

/** @param {string} kind @param {string} text @param {string} iconName */
function badge(kind, text, iconName) {
  const element = document.createElement("span");
  element.className = `badge ${kind}`;
  const words = document.createElement("span");
  words.textContent = text;
  // The muted badge in the caption says it with its icon alone; the camera-off one in words too.
  if (kind === "muted") words.className = "visually-hidden";
  element.append(icon(iconName), words);
  element.hidden = true;
  return element;
}

/**
 * The tiles of the room, placed so each is as large as the space allows at its
 * video's shape; redone when people come and go, the space changes or a video
 * changes shape. Once others are there your own picture floats small (drag it
 * anywhere); a pinned person (a shared screen, by default) takes the room and
 * the others line up in a strip. Emits `pinned(id | null)`.
 */
/** @extends {Emitter<{pinned: [id: string | null]}>} */
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
