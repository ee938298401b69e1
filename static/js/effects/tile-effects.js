import { paintMask } from "./masks.js";

/**
 * Stickers that follow a face. `anchor` says where: `eyes` centres the image
 * on the eyes, rotated with them, `width` times the distance between them;
 * `head` stands it on top of the face box, `width` times the box's width.
 */
export const STICKERS = {
  glasses: { src: "/static/stickers/glasses.svg", anchor: "eyes", width: 2.4, aspect: 80 / 220 },
  "party-hat": { src: "/static/stickers/party-hat.svg", anchor: "head", width: 0.8, aspect: 140 / 120 },
  crown: { src: "/static/stickers/crown.svg", anchor: "head", width: 1.0, aspect: 100 / 160 },
};

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

/** @type {Map<string, HTMLImageElement>} */
const images = new Map();

/** An image loaded once and shared; drawn only once it has loaded. @param {string} src */
export function sharedImage(src) {
  if (!images.has(src)) images.set(src, Object.assign(new Image(), { src }));
  return images.get(src);
}

/**
 * One remote tile's effects. The browser's compositor does the per-frame work:
 * the person mask becomes the video's CSS mask image (refreshed with each new
 * mask, not each frame) over a blurred copy of the video, a colour or a
 * picture; face boxes, landmarks, expressions and stickers are drawn on a
 * canvas over the video when new faces arrive. Nothing here touches video
 * pixels on the main thread, which cost 20–50 ms per frame without a GPU.
 */
export class TileEffects {
  settings = { ...DEFAULT_EFFECTS };
  #tile;
  #maskCanvas = document.createElement("canvas");
  #maskUrl = "";
  #encoding = false;
  /** @type {import("./masks.js").PersonMask | null} */
  #pendingMask = null;
  #faces = [];

  /** @param {import("../ui/tiles.js").Tile} tile */
  constructor(tile) {
    this.#tile = tile;
  }

  get replacingBackground() {
    return this.settings.analyse && this.settings.background !== "off";
  }

  /** @param {Partial<typeof DEFAULT_EFFECTS>} changes */
  update(changes) {
    Object.assign(this.settings, changes);
    this.#applyBackground();
    this.#drawFaces();
  }

  /** A new result for this tile. @param {{results: Record<string, any>}} latest @param {"mask" | "faces"} model */
  show(latest, model) {
    if (model === "mask") this.#updateMask(latest.results.mask?.mask ?? null);
    else {
      this.#faces = latest.results.faces?.faces ?? [];
      this.#drawFaces();
    }
  }

  #applyBackground() {
    const { video, backdrop, stage } = this.#tile;
    const replacing = this.replacingBackground;
    const { background, colour, image } = this.settings;
    backdrop.hidden = !(replacing && background === "blur");
    backdrop.srcObject = backdrop.hidden ? null : video.srcObject;
    if (!backdrop.hidden) backdrop.play().catch(() => {}); // muted autoplay; a refusal leaves the colour behind
    stage.style.backgroundColor = replacing && background === "colour" ? colour : "";
    stage.style.backgroundImage = replacing && background === "image" ? `url("${image}")` : "";
    video.classList.toggle("masked", replacing && Boolean(this.#maskUrl));
    if (!replacing) this.#setMaskImage("");
  }

  /** Turn the newest mask into the video's mask image; while one is being encoded, later ones replace each other. */
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
    const video = this.#tile.video;
    const previous = this.#maskUrl;
    this.#maskUrl = url;
    video.style.maskImage = url ? `url("${url}")` : "";
    video.style.webkitMaskImage = video.style.maskImage;
    video.classList.toggle("masked", Boolean(url));
    if (previous) setTimeout(() => URL.revokeObjectURL(previous), 1000); // the style may still be loading it
  }

  #drawFaces() {
    const canvas = this.#tile.effectsCanvas;
    const video = this.#tile.video;
    const width = Math.min(video.videoWidth || 640, MAX_OVERLAY_WIDTH);
    const height = Math.round((width * (video.videoHeight || 480)) / (video.videoWidth || 640));
    if (canvas.width !== width || canvas.height !== height) Object.assign(canvas, { width, height });
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, width, height);
    if (!this.settings.analyse) return;
    for (const face of this.#faces) this.#drawFace(context, face, width, height);
  }

  #drawFace(context, face, width, height) {
    const box = { x: face.x * width, y: face.y * height, width: face.width * width, height: face.height * height };
    const line = Math.max(2, width / 320);
    if (this.settings.faceBoxes) {
      context.strokeStyle = "#4fc3f7";
      context.lineWidth = line;
      context.strokeRect(box.x, box.y, box.width, box.height);
    }
    if (this.settings.landmarks && face.landmarks) {
      context.fillStyle = "#ffd23f";
      for (const [x, y] of face.landmarks) context.fillRect(x * width - line / 2, y * height - line / 2, line, line);
    }
    if (this.settings.expression && face.expression) {
      context.font = `${Math.round(Math.max(14, box.width / 5))}px system-ui, sans-serif`;
      context.fillStyle = "rgba(0, 0, 0, 0.6)";
      const label = face.expression;
      const labelWidth = context.measureText(label).width + 10;
      context.fillRect(box.x, box.y + box.height + 4, labelWidth, box.width / 5 + 10);
      context.fillStyle = "white";
      context.textBaseline = "top";
      context.fillText(label, box.x + 5, box.y + box.height + 8);
    }
    if (this.settings.sticker) drawSticker(context, STICKERS[this.settings.sticker], face, box, width, height);
  }
}

/**
 * @param {CanvasRenderingContext2D} context @param {typeof STICKERS.glasses} sticker
 * @param {{landmarks?: number[][]}} face @param {{x: number, y: number, width: number, height: number}} box
 */
export function drawSticker(context, sticker, face, box, width, height) {
  if (!sticker || !sharedImage(sticker.src).complete) return;
  const image = sharedImage(sticker.src);
  const place = stickerPlacement(sticker, face, box, width, height);
  context.save();
  context.translate(place.x, place.y);
  context.rotate(place.angle);
  context.drawImage(image, -place.width / 2, -place.height / 2, place.width, place.height);
  context.restore();
}

/** Where a sticker goes on a face (pixel centre, size, rotation). Eyes need landmarks; else the box estimates them. */
export function stickerPlacement(sticker, face, box, width, height) {
  if (sticker.anchor === "eyes") {
    const [left, right] = face.landmarks ? eyeCentres(face.landmarks, width, height) : [
      { x: box.x + box.width * 0.3, y: box.y + box.height * 0.4 },
      { x: box.x + box.width * 0.7, y: box.y + box.height * 0.4 },
    ];
    const distance = Math.hypot(right.x - left.x, right.y - left.y);
    const stickerWidth = distance * sticker.width;
    return {
      x: (left.x + right.x) / 2,
      y: (left.y + right.y) / 2,
      width: stickerWidth,
      height: stickerWidth * sticker.aspect,
      angle: Math.atan2(right.y - left.y, right.x - left.x),
    };
  }
  const stickerWidth = box.width * sticker.width;
  const stickerHeight = stickerWidth * sticker.aspect;
  return { x: box.x + box.width / 2, y: box.y - stickerHeight / 2 + box.height * 0.1, width: stickerWidth, height: stickerHeight, angle: 0 };
}

/** Centres of the two eyes from the 68 landmarks (points 36–41 and 42–47), in pixels. */
function eyeCentres(landmarks, width, height) {
  const centre = (from, to) => {
    const points = landmarks.slice(from, to + 1);
    return {
      x: (points.reduce((sum, [x]) => sum + x, 0) / points.length) * width,
      y: (points.reduce((sum, [, y]) => sum + y, 0) / points.length) * height,
    };
  };
  return [centre(36, 41), centre(42, 47)];
}
