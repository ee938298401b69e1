import { drawFace } from "../draw/face-drawing.js";
import { paintMask } from "../draw/mask-painting.js";

export const DEFAULT_EFFECTS = {
  analyse: true,
  background: "off", // off | blur | colour | image
  colour: "#2d6a4f",
  image: "/static/backgrounds/studio.svg",
  faceBoxes: false,
  landmarks: false,
  expression: false,
  sticker: "",
};

const MAX_OVERLAY_WIDTH = 640;

/**
 * One remote tile's effects. The browser's compositor does the per-frame work:
 * the person mask becomes the video's CSS mask image (refreshed with each new
 * mask, not each frame) over a blurred copy of the video, a colour or a
 * picture; face boxes, landmarks, expressions and stickers are drawn on a
 * canvas over the video when new faces arrive. Nothing here touches video
 * pixels on the main thread, which cost 20–50 ms per frame without a GPU.
 */
export class TileEffects {
  #settings = { ...DEFAULT_EFFECTS };
  #tile;
  #maskCanvas = document.createElement("canvas");
  #maskUrl = "";
  #encoding = false;
  /** @type {import("../analysis/masks.js").PersonMask | null} */
  #pendingMask = null;
  /** @type {import("../draw/face-drawing.js").Face[]} */
  #faces = [];

  /** @param {import("./tiles.js").Tile} tile */
  constructor(tile) {
    this.#tile = tile;
  }

  get replacingBackground() {
    return this.#settings.analyse && this.#settings.background !== "off";
  }

  /** @param {Partial<typeof DEFAULT_EFFECTS>} changes */
  update(changes) {
    Object.assign(this.#settings, changes);
    this.#applyBackground();
    this.#drawFaces();
  }

  /** A new result for this tile. @param {{results: import("../analysis/scheduler.js").Results}} latest @param {"mask" | "faces"} model */
  show(latest, model) {
    if (model === "mask") this.#updateMask(latest.results.mask?.mask ?? null);
    else {
      this.#faces = latest.results.faces?.faces ?? [];
      this.#drawFaces();
    }
  }

  #applyBackground() {
    const replacing = this.replacingBackground;
    const { background, colour, image } = this.#settings;
    this.#tile.setBackground({
      blur: replacing && background === "blur",
      colour: replacing && background === "colour" ? colour : "",
      image: replacing && background === "image" ? image : "",
    });
    this.#setMaskImage(replacing ? this.#maskUrl : "");
  }

  /**
   * Turn the newest mask into the video's mask image; while one is being encoded, later ones replace each other.
   * @param {import("../analysis/masks.js").PersonMask | null} mask
   */
  #updateMask(mask) {
    if (!mask || !this.replacingBackground) return;
    this.#pendingMask = mask;
    if (this.#encoding) return;
    this.#encoding = true;
    paintMask(this.#pendingMask, this.#maskCanvas);
    this.#pendingMask = null;
    this.#maskCanvas.toBlob((blob) => {
      this.#encoding = false;
      if (blob && this.replacingBackground) this.#setMaskImage(URL.createObjectURL(blob));
      if (this.#pendingMask) this.#updateMask(this.#pendingMask);
    });
  }

  /** @param {string} url an object URL (revoked when replaced) or "" for none */
  #setMaskImage(url) {
    const previous = this.#maskUrl;
    this.#maskUrl = url;
    this.#tile.setMask(url);
    if (previous && previous !== url) setTimeout(() => URL.revokeObjectURL(previous), 1000); // the style may still be loading it
  }

  #drawFaces() {
    const faces = this.#settings.analyse ? this.#faces : [];
    this.#tile.drawOverlay(MAX_OVERLAY_WIDTH, (context, width, height) => {
      for (const face of faces) drawFace(context, face, { x: 0, y: 0, width, height }, this.#settings);
    });
  }
}
