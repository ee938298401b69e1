/**
 * Video tiles: one for this browser's own preview and one per remote peer,
 * each with the name, mute and camera-off indicators and a connection hint.
 */

const QUALITY_LABELS = { good: "Good connection", fair: "Unstable connection", poor: "Poor connection", unknown: "Connecting…" };

export class Tile {
  /** @param {{id: string, name: string, self?: boolean}} options */
  constructor({ id, name, self = false }) {
    this.id = id;
    this.element = document.createElement("figure");
    this.element.className = self ? "tile self" : "tile";
    this.element.dataset.peerId = id;
    this.video = document.createElement("video");
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = self; // never play our own microphone back
    const caption = document.createElement("figcaption");
    this.nameLabel = document.createElement("span");
    this.nameLabel.className = "name";
    this.mutedBadge = badge("muted", "Muted");
    this.cameraBadge = badge("camera-off", "Camera off");
    this.qualityDot = document.createElement("span");
    this.qualityDot.className = "quality unknown";
    // The stage has the video's proportions, so masks and face marks laid over it line up exactly.
    this.stage = document.createElement("div");
    this.stage.className = "stage";
    this.backdrop = document.createElement("video");
    this.backdrop.className = "backdrop";
    Object.assign(this.backdrop, { autoplay: true, playsInline: true, muted: true, hidden: true });
    this.effectsCanvas = document.createElement("canvas");
    this.effectsCanvas.className = "effects";
    this.video.addEventListener("resize", () => {
      if (this.video.videoWidth) this.stage.style.setProperty("--aspect", `${this.video.videoWidth} / ${this.video.videoHeight}`);
    });
    this.stage.append(this.backdrop, this.video, this.effectsCanvas);
    caption.append(this.qualityDot, this.nameLabel, this.mutedBadge);
    this.element.append(this.stage, this.cameraBadge, caption);
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
    this.nameLabel.textContent = name;
    this.video.setAttribute("aria-label", `Video of ${name}`);
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
    if (!this.backdrop.hidden) this.backdrop.srcObject = stream;
    this.#play();
  }

  /** @param {string} state */
  setConnectionState(state) {
    this.element.dataset.connection = state;
    if (state !== "connected") this.setQuality({ quality: "unknown" });
  }

  /** @param {{quality: string, rttMs?: number | null, lossPercent?: number, relayed?: boolean | null}} report */
  setQuality(report) {
    this.qualityDot.className = `quality ${report.quality}`;
    const details = report.rttMs != null ? ` (${report.rttMs} ms, ${report.lossPercent}% lost)` : "";
    const route = report.relayed ? ", through the relay server" : "";
    this.qualityDot.title = QUALITY_LABELS[report.quality] + details + route;
  }

  remove() {
    this.video.srcObject = null;
    this.backdrop.srcObject = null;
    this.element.remove();
  }

  #play() {
    this.video.play().catch(() => {
      // Autoplay was refused until the page is touched, or the tile went away meanwhile:
      // retry on the next click while the tile is still shown.
      document.addEventListener("click", () => this.element.isConnected && this.#play(), { once: true });
    });
  }
}

/** @param {string} kind @param {string} text */
function badge(kind, text) {
  const element = document.createElement("span");
  element.className = `badge ${kind}`;
  element.textContent = text;
  element.hidden = true;
  return element;
}

export class TileGrid {
  /** @type {Map<string, Tile>} */
  #tiles = new Map();
  #container;

  /** @param {HTMLElement} container */
  constructor(container) {
    this.#container = container;
  }

  /** @param {{id: string, name: string, self?: boolean}} options */
  add(options) {
    this.remove(options.id);
    const tile = new Tile(options);
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
    if (this.#tiles.delete(id)) this.#layout();
  }

  /** Remove every remote tile (the own preview stays). */
  clearRemote() {
    for (const [id, tile] of this.#tiles) if (!tile.element.classList.contains("self")) this.remove(id);
  }

  remoteIds() {
    return [...this.#tiles.values()].filter((tile) => !tile.element.classList.contains("self")).map((tile) => tile.id);
  }

  #layout() {
    const columns = Math.ceil(Math.sqrt(this.#tiles.size));
    this.#container.style.setProperty("--columns", String(Math.max(1, columns)));
  }
}
