/**
 * Drawing what the face model found: boxes, landmarks, expression labels and
 * stickers. Shared by the tiles and the composed scene; faces arrive with
 * coordinates normalised to 0..1 of the video frame and are drawn into a
 * rectangle of a canvas (mirrored when the picture is).
 *
 * @typedef {{x: number, y: number, width: number, height: number, mirror?: boolean}} Rect
 * @typedef {import("../analysis/engines/faces.js").Face} Face
 * @typedef {{src: string, anchor: "eyes" | "head" | "face", width: number, aspect?: number}} Sticker
 *   `aspect` (height / width) defaults to the image's own
 */

/**
 * Stickers that follow a face. `anchor` says where: `eyes` centres the image
 * on the eyes, rotated with them, `width` times the distance between them;
 * `head` stands it on top of the face box, `width` times the box's width;
 * `face` covers the face box, `width` times its width.
 * @type {Record<string, Sticker>} by name (looked up with names from scenes and menus)
 */
export const STICKERS = {
  glasses: { src: "/static/stickers/glasses.svg", anchor: "eyes", width: 2.4, aspect: 80 / 220 },
  "party-hat": { src: "/static/stickers/party-hat.svg", anchor: "head", width: 0.8, aspect: 140 / 120 },
  crown: { src: "/static/stickers/crown.svg", anchor: "head", width: 1.0, aspect: 100 / 160 },
};

/** @type {Map<string, HTMLImageElement>} */
const images = new Map();

/** An image loaded once and shared; drawn only once it has loaded. @param {string} src */
export function sharedImage(src) {
  let image = images.get(src);
  if (!image) images.set(src, (image = Object.assign(new Image(), { src })));
  return image;
}

/** A face's box in canvas pixels. @param {Face} face @param {Rect} rect */
export function faceBox(face, rect) {
  const x = rect.mirror ? 1 - face.x - face.width : face.x;
  return { x: rect.x + x * rect.width, y: rect.y + face.y * rect.height, width: face.width * rect.width, height: face.height * rect.height };
}

/** A normalised point in canvas pixels. @param {number[]} point @param {Rect} rect */
export function toCanvas([x, y], rect) {
  return { x: rect.x + (rect.mirror ? 1 - x : x) * rect.width, y: rect.y + y * rect.height };
}

/**
 * @param {CanvasRenderingContext2D} context @param {Face} face @param {Rect} rect
 * @param {{faceBoxes?: boolean, landmarks?: boolean, expression?: boolean, sticker?: string | null}} show
 */
export function drawFace(context, face, rect, show) {
  const box = faceBox(face, rect);
  const line = Math.max(2, rect.width / 320);
  if (show.faceBoxes) {
    context.strokeStyle = "#4fc3f7";
    context.lineWidth = line;
    context.strokeRect(box.x, box.y, box.width, box.height);
  }
  if (show.landmarks && face.landmarks) {
    context.fillStyle = "#ffd23f";
    for (const point of face.landmarks) {
      const { x, y } = toCanvas(point, rect);
      context.fillRect(x - line / 2, y - line / 2, line, line);
    }
  }
  if (show.expression && face.expression) {
    const size = Math.round(Math.max(14, box.width / 5));
    context.font = `${size}px system-ui, sans-serif`;
    context.fillStyle = "rgba(0, 0, 0, 0.6)";
    context.fillRect(box.x, box.y + box.height + 4, context.measureText(face.expression).width + 10, size + 10);
    context.fillStyle = "white";
    context.textBaseline = "top";
    context.fillText(face.expression, box.x + 5, box.y + box.height + 8);
  }
  if (show.sticker) drawAnchored(context, STICKERS[show.sticker], face, rect);
}

/**
 * Draw an image anchored to a face (a sticker, or a scene overlay anchored to a participant).
 * @param {CanvasRenderingContext2D} context
 * @param {Sticker | undefined} sticker
 * @param {Face} face @param {Rect} rect
 */
export function drawAnchored(context, sticker, face, rect) {
  const image = sticker && sharedImage(sticker.src);
  if (!sticker || !image?.complete || !image.naturalWidth) return;
  const aspect = sticker.aspect ?? image.naturalHeight / image.naturalWidth;
  const place = anchorPlacement(sticker.anchor, sticker.width, aspect, face, rect);
  context.save();
  context.translate(place.x, place.y);
  context.rotate(place.angle);
  context.drawImage(image, -place.width / 2, -place.height / 2, place.width, place.height);
  context.restore();
}

/**
 * Where an anchored image goes (pixel centre, size, rotation). Eyes need
 * landmarks; without them the face box estimates where the eyes are.
 * @param {"eyes" | "head" | "face"} anchor @param {number} widthFactor @param {number} aspect
 * @param {Face} face @param {Rect} rect
 */
export function anchorPlacement(anchor, widthFactor, aspect, face, rect) {
  const box = faceBox(face, rect);
  if (anchor === "eyes") {
    const [left, right] = eyeCentres(face, rect);
    const width = Math.hypot(right.x - left.x, right.y - left.y) * widthFactor;
    return { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2, width, height: width * aspect, angle: Math.atan2(right.y - left.y, right.x - left.x) };
  }
  const width = box.width * widthFactor;
  const height = width * aspect;
  if (anchor === "face") return { x: box.x + box.width / 2, y: box.y + box.height / 2, width, height, angle: 0 };
  return { x: box.x + box.width / 2, y: box.y - height / 2 + box.height * 0.1, width, height, angle: 0 };
}

/**
 * Centres of the two eyes in canvas pixels, left one first on the canvas:
 * from the 68 landmarks (points 36–41 and 42–47), or estimated from the box.
 * @param {Face} face @param {Rect} rect
 */
export function eyeCentres(face, rect) {
  let eyes;
  const landmarks = face.landmarks;
  if (landmarks) {
    const centre = (/** @type {number} */ from, /** @type {number} */ to) => {
      const points = landmarks.slice(from, to + 1);
      return [points.reduce((sum, [x]) => sum + x, 0) / points.length, points.reduce((sum, [, y]) => sum + y, 0) / points.length];
    };
    eyes = [centre(36, 41), centre(42, 47)];
  } else {
    const y = face.y + face.height * 0.4;
    eyes = [[face.x + face.width * 0.3, y], [face.x + face.width * 0.7, y]];
  }
  const [a, b] = eyes.map((point) => toCanvas(point, rect));
  return a.x <= b.x ? [a, b] : [b, a];
}
