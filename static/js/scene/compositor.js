import { drawAnchored, drawFace, sharedImage } from "../draw/face-drawing.js";
import { Emitter } from "../lib/emitter.js";
import { median } from "../lib/timing.js";
import { FrameHistory } from "../sharing/frame-history.js";
import { paintMask } from "../draw/mask-painting.js";
import { largestFace, OVERLAY_SCALE, placePeople, withDefaults } from "./layout.js";
import { SELF } from "../call/media.js";

/**
 * @typedef {import("./layout.js").Placement} Placement
 * @typedef {import("../analysis/masks.js").PersonMask} PersonMask
 * @typedef {import("../draw/face-drawing.js").Rect} Rect
 */

/** How wide an anchored overlay is at scale 1, in multiples of its anchor's size. */
const ANCHOR_WIDTH = { eyes: 2.4, head: 1.0, face: 1.0 };
const MAX_FPS = 30;

/**
 * Draws the composed scene: the background, then everyone cut out of their
 * own video with the latest person mask, then the overlays, all in z order.
 * It draws from whatever the analysis last produced and never waits for an
 * inference; people are placed by the scene (see layout.js).
 *
 * A mask its sender shared names the frame it was computed on: that person is
 * then drawn from that very frame (kept by FrameHistory), a frame or three
 * behind their live video, so the cut-out fits them also while they move.
 *
 * Events: `drawn` after each frame.
 *
 * @typedef {{id: string, name: string, video: HTMLVideoElement}} Source
 * @typedef {Source & {mask: PersonMask | null, maskCanvas: HTMLCanvasElement, cut: HTMLCanvasElement, picture: string}} Drawn
 *   a source and what was last cut out of it
 * @typedef {{results: import("../analysis/scheduler.js").Results,
 *   recent?: {mask?: Array<{frame: number, result: {mask: PersonMask, fingerprint?: import("../sharing/packet.js").Fingerprint | null}}>}}} Latest
 *   a stream's analysis so far; `recent`: its last masks that name their frame (by RTP time), oldest first
 * @typedef {{frame: number | null, named: number | null, centroid: {x: number, y: number} | null}} DrawnFrame
 *   one cut-out drawn: the RTP time of the frame drawn, and of the frame its mask named (shared masks; else null)
 */
/** @extends {Emitter<{drawn: []}>} */
export class SceneCompositor extends Emitter {
  canvas;
  #context;
  #scene = withDefaults({});
  /** @type {Map<string, Drawn>} */
  #sources = new Map();
  /** @type {Placement[]} */
  #placements = [];
  #latest;
  #frame = 0;
  #lastDraw = 0;
  /** @type {number[]} */
  #drawMs = [];
  /** @type {number[]} */
  #frameTimes = [];
  #canvasOptions;
  #history = new FrameHistory();
  /** @type {Map<string, DrawnFrame[]>} the last cut-outs drawn of each person */
  #drawn = new Map();

  /**
   * @param {HTMLCanvasElement} canvas
   * @param {(id: string) => Latest | null} latest the analysis of a stream so far
   * @param {{cpuCanvas?: boolean}} [options] `cpuCanvas`: keep the canvases in memory instead of letting the
   *   browser accelerate them (measured here, without a GPU, the accelerated canvas costs the page less; see
   *   docs/benchmarks.md)
   */
  constructor(canvas, latest, { cpuCanvas = false } = {}) {
    super();
    this.canvas = canvas;
    this.#canvasOptions = { willReadFrequently: cpuCanvas };
    this.#context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d", this.#canvasOptions));
    this.#latest = latest;
  }

  /** @param {import("./layout.js").Scene | null} scene a valid scene (defaults are filled in here) */
  setScene(scene) {
    this.#scene = withDefaults(scene);
  }

  /** Everyone who can appear, in the order automatic placement uses. @param {Source[]} sources */
  setSources(sources) {
    const kept = new Map();
    for (const source of sources) {
      const known = this.#sources.get(source.id);
      kept.set(source.id, known ? Object.assign(known, source) : { ...source, mask: null, maskCanvas: document.createElement("canvas"), cut: document.createElement("canvas"), picture: "" });
    }
    this.#sources = kept;
  }

  /** Where everyone was drawn last (canvas pixels), lowest z first. */
  get placements() {
    return this.#placements;
  }

  get running() {
    return this.#frame !== 0;
  }

  start() {
    if (this.#frame) return;
    const tick = (/** @type {number} */ now) => {
      this.#frame = requestAnimationFrame(tick);
      if (now - this.#lastDraw < 1000 / MAX_FPS - 2) return;
      this.#lastDraw = now;
      this.draw();
    };
    this.#frame = requestAnimationFrame(tick);
  }

  stop() {
    cancelAnimationFrame(this.#frame);
    this.#frame = 0;
    this.#history.keepOnly(new Set());
  }

  /** Frames drawn per second and the median time one took, over the last seconds. */
  stats() {
    const now = performance.now();
    this.#frameTimes = this.#frameTimes.filter((time) => now - time < 2000);
    const drawMs = median(this.#drawMs);
    return { fps: this.#frameTimes.length / 2, drawMs: drawMs === null ? null : Math.round(drawMs * 10) / 10 };
  }

  /** Draw one frame now. */
  draw() {
    const started = performance.now();
    const scene = this.#scene;
    const { width, height } = scene.canvas;
    if (this.canvas.width !== width || this.canvas.height !== height) Object.assign(this.canvas, { width, height });
    const context = this.#context;
    this.#drawBackground(context, scene.background, width, height);

    const people = [...this.#sources.values()]
      .filter(({ video }) => video.videoWidth > 0)
      .map(({ id, name, video }) => ({ id, name, aspect: video.videoHeight / video.videoWidth, face: largestFace(this.#latest(id)?.results.faces?.faces) }));
    this.#placements = placePeople(scene, people);
    for (const { id } of this.#placements) if (id !== SELF) this.#history.watch(id, /** @type {Drawn} */ (this.#sources.get(id)).video);
    this.#history.keepOnly(new Set(this.#placements.map(({ id }) => id)));

    const layers = [
      ...this.#placements.map((placement) => ({ z: placement.z, draw: () => this.#drawPerson(context, placement) })),
      ...scene.overlays.map((overlay) => ({ z: overlay.z ?? (overlay.anchor ? this.#zOf(overlay.anchor.participant) + 0.5 : 0), draw: () => this.#drawOverlay(context, overlay, width) })),
    ];
    layers.sort((a, b) => a.z - b.z);
    for (const layer of layers) layer.draw();

    this.#drawMs.push(performance.now() - started);
    if (this.#drawMs.length > 60) this.#drawMs.shift();
    this.#frameTimes.push(performance.now());
    this.emit("drawn");
  }

  /** The last cut-outs drawn of one person (up to 300), oldest first: which frame, with which mask. @param {string} id */
  drawnFrames(id) {
    return [...(this.#drawn.get(id) ?? [])];
  }

  /** @param {string} id @param {DrawnFrame} drawn */
  #remember(id, drawn) {
    const list = this.#drawn.get(id) ?? [];
    this.#drawn.set(id, list);
    list.push(drawn);
    if (list.length > 300) list.shift();
  }

  /** @param {string} name */
  #zOf(name) {
    return this.#placements.find((placement) => placement.name === name)?.z ?? 0;
  }

  /**
   * @param {CanvasRenderingContext2D} context @param {import("./layout.js").FullScene["background"]} background
   * @param {number} width @param {number} height
   */
  #drawBackground(context, background, width, height) {
    context.globalAlpha = 1;
    context.fillStyle = background.color ?? "#000000";
    context.fillRect(0, 0, width, height);
    const image = background.image ? sharedImage(background.image) : null;
    if (!image?.complete || !image.naturalWidth) return;
    const { naturalWidth: imageWidth, naturalHeight: imageHeight } = image;
    if (background.fit === "stretch") return context.drawImage(image, 0, 0, width, height);
    const factor = (background.fit === "contain" ? Math.min : Math.max)(width / imageWidth, height / imageHeight);
    const drawnWidth = imageWidth * factor;
    const drawnHeight = imageHeight * factor;
    context.drawImage(image, (width - drawnWidth) / 2, (height - drawnHeight) / 2, drawnWidth, drawnHeight);
  }

  /** @param {CanvasRenderingContext2D} context @param {Placement} placement */
  #drawPerson(context, placement) {
    const source = /** @type {Drawn} */ (this.#sources.get(placement.id)); // placed people are sources
    const latest = this.#latest(placement.id);
    const rect = { x: placement.x, y: placement.y, width: placement.width, height: placement.height, mirror: placement.mirror };
    context.globalAlpha = placement.opacity;
    const matched = this.#matchedMask(placement.id, latest);
    const mask = matched?.mask ?? latest?.results.mask?.mask;
    const kept = matched?.picture ?? null;
    if (placement.effects.removeBackground && mask) {
      context.drawImage(this.#cutOut(source, mask, rect, matched ? { picture: matched.picture, key: `rtp ${matched.frame}` } : null), rect.x, rect.y);
      const frame = matched ? matched.frame : this.#history.current(placement.id);
      this.#remember(placement.id, { frame, named: matched?.named ?? null, centroid: mask.centroid });
    } else drawMirrored(context, kept ?? source.video, rect);
    context.globalAlpha = 1;
    for (const face of latest?.results.faces?.faces ?? []) drawFace(context, face, rect, placement.effects);
  }

  /**
   * The newest mask whose frame has been shown and is kept, with that frame; null when none
   * (masks computed here, or none kept yet), and the live video is drawn with the latest mask.
   * A mask with a fingerprint is drawn on the kept frame most like it near the one it names;
   * one without, on the frame it names.
   * @param {string} id @param {Latest | null} latest
   */
  #matchedMask(id, latest) {
    const recent = latest?.recent?.mask ?? [];
    for (let index = recent.length - 1; index >= 0; index -= 1) {
      const { frame: named, result } = recent[index];
      const found = result.fingerprint ? this.#history.match(id, named, result.fingerprint) : this.#history.at(id, named);
      if (found) return { mask: result.mask, named, frame: found.rtp, picture: found.frame };
    }
    return null;
  }

  /**
   * The person alone: the video drawn through the mask, at the size it is placed.
   * Cut out again only when the video shows a new frame, the mask or the size changed:
   * the scene draws at 30 fps and cameras send 15–30, and drawing a video costs the most
   * of a frame without a GPU.
   * @param {Drawn} source @param {PersonMask} mask @param {Rect} rect
   * @param {{picture: VideoFrame, key: string} | null} frame the frame the mask belongs to, when kept; else the video's current one
   */
  #cutOut(source, mask, rect, frame) {
    const width = Math.max(1, Math.round(rect.width));
    const height = Math.max(1, Math.round(rect.height));
    const cut = source.cut;
    const picture = `${frame?.key ?? source.video.getVideoPlaybackQuality().totalVideoFrames} ${width}x${height} ${rect.mirror}`;
    if (source.mask === mask && source.picture === picture) return cut;
    if (source.mask !== mask) {
      paintMask(mask, source.maskCanvas);
      source.mask = mask;
    }
    source.picture = picture;
    if (cut.width !== width || cut.height !== height) Object.assign(cut, { width, height });
    const context = /** @type {CanvasRenderingContext2D} */ (cut.getContext("2d", this.#canvasOptions));
    context.globalCompositeOperation = "copy";
    const whole = { x: 0, y: 0, width, height, mirror: rect.mirror };
    drawMirrored(context, source.maskCanvas, whole);
    context.globalCompositeOperation = "source-in";
    drawMirrored(context, frame?.picture ?? source.video, whole);
    context.globalCompositeOperation = "source-over";
    return cut;
  }

  /** @param {CanvasRenderingContext2D} context @param {import("./layout.js").Overlay} overlay @param {number} width */
  #drawOverlay(context, overlay, width) {
    context.globalAlpha = overlay.opacity ?? 1;
    const anchor = overlay.anchor;
    if (anchor) {
      const placement = this.#placements.find((candidate) => candidate.name === anchor.participant);
      const face = placement && largestFace(this.#latest(placement.id)?.results.faces?.faces);
      if (face) {
        const rect = { x: placement.x, y: placement.y, width: placement.width, height: placement.height, mirror: placement.mirror };
        const to = anchor.to;
        drawAnchored(context, { src: overlay.image, anchor: to, width: ANCHOR_WIDTH[to] * (overlay.scale ?? 1) }, face, rect);
      }
    } else {
      const image = sharedImage(overlay.image);
      if (image.complete && image.naturalWidth) {
        const drawnWidth = (overlay.scale ?? OVERLAY_SCALE) * width;
        const drawnHeight = (drawnWidth * image.naturalHeight) / image.naturalWidth;
        // The schema gives an overlay without an anchor both x and y.
        context.drawImage(image, /** @type {number} */ (overlay.x) * width, /** @type {number} */ (overlay.y) * this.#scene.canvas.height, drawnWidth, drawnHeight);
      }
    }
    context.globalAlpha = 1;
  }
}

/** @param {CanvasRenderingContext2D} context @param {CanvasImageSource} image @param {Rect} rect */
function drawMirrored(context, image, { x, y, width, height, mirror }) {
  if (!mirror) return context.drawImage(image, x, y, width, height);
  context.save();
  context.translate(x + width, y);
  context.scale(-1, 1);
  context.drawImage(image, 0, 0, width, height);
  context.restore();
}

