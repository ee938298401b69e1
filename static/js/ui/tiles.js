import { icon } from "./icons.js";

/**
 * A video tile: this browser's own preview or a remote peer's video, with the
 * name, mute and camera-off indicators, a speaking indicator, a pin button and a
 * connection hint. ui/tile-grid.js places them.
 */

const QUALITY_LABELS = { good: "Good connection", fair: "Unstable connection", poor: "Poor connection", unknown: "Connecting…" };
/** What a tile's shape is before its video has said (the cameras' usual 4:3). */
const DEFAULT_ASPECT = 4 / 3;

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
